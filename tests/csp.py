"""What every HTML page must carry: the strict Content-Security-Policy and no inline code.

The policy (settings CONTENT_SECURITY_POLICY, on in every environment) allows scripts and
styles only from Klimop's own files. So no page may carry an inline ``<script>`` (a JSON data
block, ``type="application/json"``, is not code), an ``on…=`` handler, a ``style="…"``
attribute or a ``<style>`` element: the browser would refuse it.

Used by the walk over every URL as each of twelve roles (tests/test_url_policy.py), which
checks every page it gets, by the crawls of the demo school (tests/test_demo_school.py) and
of a superuser's admin (tests/test_security_headers.py).
"""

from __future__ import annotations

import re
from collections import Counter, deque
from urllib.parse import urljoin, urlsplit

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*\btype=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)
HREF = re.compile(r"""href="([^"#]+)""")

#: Never followed by a crawl: they change something or leave the HTML pages.
SKIP = ("/accounts/logout/", "/static/", "/admin/logout/", "/admin/jsi18n/", "/language/")
PAGES_PER_SHAPE = 2  # /pupils/7/ and /pupils/8/ are one shape: see two, then move on


def policy_of(response) -> str:
    return response.get("Content-Security-Policy", "")


def strict_policy_problems(response) -> list[str]:
    policy = policy_of(response)
    if not policy:
        return ["no Content-Security-Policy header"]
    directives = dict(
        (part.split(" ", 1) + [""])[:2] for part in (p.strip() for p in policy.split(";")) if part
    )
    problems = [f"{bad} in the policy" for bad in ("'unsafe-inline'", "'unsafe-eval'") if bad in policy]
    for name, value in (
        ("default-src", "'self'"),
        ("script-src", "'self'"),
        ("style-src", "'self'"),
        ("frame-ancestors", "'none'"),
        ("object-src", "'none'"),
        ("base-uri", "'none'"),
    ):
        if directives.get(name) != value:
            problems.append(f"{name} is {directives.get(name)!r}, not {value}")
    return problems


def inline_code_problems(html: str) -> list[str]:
    problems = []
    for name, pattern in (
        ("inline <script>", INLINE_SCRIPT),
        ("on…= handler", HANDLER),
        ("style attribute", STYLE_ATTRIBUTE),
        ("<style> element", STYLE_ELEMENT),
        ("javascript: URL", JS_URL),
    ):
        if match := pattern.search(html):
            problems.append(f"{name}: …{html[max(0, match.start() - 80) : match.end() + 80]}…")
    return problems


def page_problems(response) -> list[str]:
    """For an HTML page: what breaks the policy (nothing for other answers and files)."""
    if "text/html" not in response.get("Content-Type", "") or getattr(response, "streaming", False):
        return []
    return strict_policy_problems(response) + inline_code_problems(response.content.decode())


def assert_strict_policy(response, where):
    problems = strict_policy_problems(response)
    assert not problems, f"{where}: {problems}"


def assert_no_inline_code(html, where):
    problems = inline_code_problems(html)
    assert not problems, f"{where}: {problems}"


def crawl(client, start_paths, limit=150):
    """Visit the start paths, then every same-site link found (GET only), breadth first; every
    HTML page must pass ``page_problems``. Returns the pages reached, with their status."""
    seen, html_pages, shapes = set(), {}, Counter()
    queue = deque(start_paths)
    while queue and len(html_pages) < limit:
        path = queue.popleft()
        if path in seen or path.startswith(SKIP):
            continue
        seen.add(path)
        shape = re.sub(r"\d+", "N", path.split("?")[0]) + "?" * ("?" in path)
        if shapes[shape] >= PAGES_PER_SHAPE and path not in start_paths:
            continue
        shapes[shape] += 1
        response = client.get(path)
        if response.status_code in (301, 302):
            html_pages[path] = response.status_code  # reached; its target is checked next
            queue.appendleft(urljoin(path, response["Location"]))
            continue
        if "text/html" not in response.get("Content-Type", "") or response.streaming:
            continue
        html = response.content.decode()
        assert_strict_policy(response, path)
        assert_no_inline_code(html, path)
        html_pages[path] = response.status_code
        for link in HREF.findall(html):
            link = link.replace("&amp;", "&")
            url = urlsplit(urljoin(path, link))
            if url.scheme in ("", "http") and url.netloc in ("", "testserver") and url.path.startswith("/"):
                queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return html_pages
