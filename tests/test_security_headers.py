"""Security headers: a Content-Security-Policy on every page without inline code, HSTS in production.

The policy (settings CONTENT_SECURITY_POLICY, on in every environment) allows scripts and
styles only from Klimop's own files. So no page may carry an inline ``<script>`` (a JSON data
block, ``type="application/json"``, is not code), an ``on…=`` handler, a ``style="…"``
attribute or a ``<style>`` element: the browser would refuse it. Every page reachable by a
parent, a teacher, the director and the office in the demo school is checked, the admin too.
"""

import datetime as dt
import re
from collections import Counter, deque
from urllib.parse import urljoin, urlsplit

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import reverse

from demo import school as demo
from klimop.models import User
from klimop.worktime import AMSTERDAM

pytestmark = pytest.mark.django_db

#: A Monday in the demo's school year (conftest.DEMO_DAY), during school hours.
NOW = dt.datetime(2026, 11, 23, 10, 30, tzinfo=AMSTERDAM)

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*\btype=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)
HREF = re.compile(r"""href="([^"#]+)""")

#: Never followed: they change something or leave the HTML pages.
SKIP = ("/accounts/logout/", "/static/", "/admin/logout/", "/admin/jsi18n/", "/language/")
PAGES_PER_ROLE = 150
PAGES_PER_SHAPE = 2  # /pupils/7/ and /pupils/8/ are one shape: see two, then move on

#: Pages each role must have reached (URL names), so the crawl cannot pass by seeing little.
MUST_SEE = {
    demo.LOGIN_PARENT: [
        "home",
        "posts:timeline",
        "chats:chat_inbox",
        "agenda:agenda",
        "notifications:notifications",
        "absences:overview",
        "absences:report_sick",
        "conversations:index",
        "contact_details",
        "privacy:privacy_home",
        "account_change_password",
        "agenda:agenda_feed_settings",
    ],
    demo.LOGIN_TEACHER: [
        "staff_dashboard",
        "posts:my_posts",
        "posts:post_create",
        "chats:chat_inbox",
        "agenda:agenda",
        "absences:today",
        "conversations:index",
        "mfa_index",
    ],
    demo.LOGIN_DIRECTOR: [
        "staff_dashboard",
        "quality:card",
        "absences:register",
        "privacy:privacy_overview",
        "admin:index",
    ],
    demo.LOGIN_OFFICE: [
        "staff_dashboard",
        "admin:index",
        "admin:klimop_pupil_changelist",
        "admin:klimop_pupil_add",
        "admin:klimop_guardian_import",
        "admin:klimop_guardian_export",
    ],
}


def _policy(response) -> str:
    return response.get("Content-Security-Policy", "")


def assert_strict_policy(response, where):
    policy = _policy(response)
    assert policy, f"{where}: no Content-Security-Policy header"
    directives = dict(
        (part.split(" ", 1) + [""])[:2] for part in (p.strip() for p in policy.split(";")) if part
    )
    assert "'unsafe-inline'" not in policy, where
    assert "'unsafe-eval'" not in policy, where
    assert directives["default-src"] == "'self'", where
    assert directives["script-src"] == "'self'", where
    assert directives["style-src"] == "'self'", where
    assert directives["frame-ancestors"] == "'none'", where
    assert directives["object-src"] == "'none'", where
    assert directives["base-uri"] == "'none'", where


def assert_no_inline_code(html, where):
    for name, pattern in (
        ("inline <script>", INLINE_SCRIPT),
        ("on…= handler", HANDLER),
        ("style attribute", STYLE_ATTRIBUTE),
        ("<style> element", STYLE_ELEMENT),
        ("javascript: URL", JS_URL),
    ):
        match = pattern.search(html)
        assert match is None, f"{where}: {name}: …{html[max(0, match.start() - 80) : match.end() + 80]}…"


def crawl(client, start_paths, limit=PAGES_PER_ROLE):
    """Visit the start paths, then every same-site link found (GET only), breadth first."""
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


@pytest.fixture
def demo_school(demo_built):
    """The demo school, built once for this module (``demo_built`` in conftest: each test's
    writes are rolled back), seen at NOW."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize("login", list(MUST_SEE))
def test_every_page_of_each_role_has_the_policy_and_no_inline_code(demo_school, login):
    client = Client()
    client.force_login(User.objects.get(email=login))
    must_see = [reverse(name) for name in MUST_SEE[login]]
    pages = crawl(client, ["/", *must_see])

    assert set(must_see) <= set(pages), set(must_see) - set(pages)
    assert len(pages) >= 10


def test_the_login_and_password_pages_have_the_policy_and_no_inline_code(client):
    for name in ("account_login", "account_reset_password", "account_reset_password_done"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert_strict_policy(response, name)
        assert_no_inline_code(response.content.decode(), name)


def test_error_pages_have_the_policy_too(client, parent):
    client.force_login(parent.user)
    response = client.get("/bestaat-niet/")
    assert response.status_code == 404
    assert_strict_policy(response, "404")
    assert_no_inline_code(response.content.decode(), "404")


def test_the_service_worker_may_be_registered(client):
    policy = _policy(client.get(reverse("account_login")))
    assert "worker-src 'self'" in policy
    assert "manifest-src 'self'" in policy


# --- HSTS in production ---------------------------------------------------------------------


def _production_security(monkeypatch):
    """The HTTPS settings of klimop.settings.production, read from the module itself."""
    import importlib

    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    production = importlib.import_module("klimop.settings.production")
    names = [
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SECURE_REDIRECT_EXEMPT",
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "SECURE_REFERRER_POLICY",
        "X_FRAME_OPTIONS",
        "CONTENT_SECURITY_POLICY",
    ]
    return {name: getattr(production, name) for name in names}


def test_production_sends_hsts_on_https_requests(client, monkeypatch):
    production = _production_security(monkeypatch)
    assert production["SECURE_HSTS_SECONDS"] >= 60 * 60 * 24 * 365
    with override_settings(**production):
        # Behind the TLS proxy: the proxy says the request came in over HTTPS.
        response = client.get(reverse("account_login"), HTTP_X_FORWARDED_PROTO="https")
        assert response.status_code == 200
        assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
        assert_strict_policy(response, "production login")
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"

        # Plain HTTP is sent to HTTPS (and gets no HSTS: browsers ignore it there).
        response = client.get(reverse("account_login"))
        assert response.status_code == 301
        assert response["Location"].startswith("https://")
        assert "Strict-Transport-Security" not in response

        # The health check answers on plain HTTP inside the network.
        assert client.get(reverse("healthz")).status_code in (200, 503)


def test_the_whole_admin_of_a_superuser_has_the_policy_and_no_inline_code(demo_school):
    """The platform operator's admin: also Celery beat's periodic tasks and every model."""
    admin = User.objects.create_superuser(email="beheer@example.test", password="x" * 12)
    client = Client()
    client.force_login(admin)
    must_see = [
        reverse("admin:index"),
        reverse("admin:django_celery_beat_periodictask_add"),
        reverse("admin:django_celery_beat_crontabschedule_add"),
        reverse("admin:klimop_user_add"),
        reverse("admin:klimop_group_import"),
    ]
    pages = crawl(client, must_see, limit=200)

    assert set(must_see) <= set(pages), set(must_see) - set(pages)
