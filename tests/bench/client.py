"""The bounded load client: one HTTP session per virtual user, threads, a closed loop.

Each virtual user has its own cookies (session, CSRF) and its own client address (sent in
``X-Forwarded-For``, as the TLS proxy of production does, with ``TRUSTED_PROXY_COUNT=1``), and
says it came over HTTPS (``X-Forwarded-Proto``), so the production settings' HTTPS redirect and
secure cookies stay as they are. It logs in through allauth's login form with its CSRF token.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.cookies import SimpleCookie

from .stats import Load

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TIMEOUT = 30.0


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Session:
    """One browser: a keep-alive connection (reopened when gunicorn closes it) and cookies."""

    def __init__(self, host: str, port: int, client_ip: str) -> None:
        self.host, self.port, self.client_ip = host, port, client_ip
        self.origin = f"https://{host}:{port}"
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, extra: dict[str, str] | None = None
    ) -> Response:
        headers = {
            "Host": f"{self.host}:{self.port}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.client_ip,
            "Accept-Language": "nl",
            "User-Agent": "klimop-bench",
        }
        headers.update(extra or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
            if "csrftoken" in self.cookies:
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=headers)
                raw = conn.getresponse()
                data = raw.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server had closed: once more on a fresh one.
                self.close()
                if attempt == 2:
                    raise
                continue
            if raw.will_close:
                self.close()
            for header in raw.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    if morsel["max-age"] == "0" or morsel.value == "":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return Response(raw.status, raw.headers, data)
        raise AssertionError("unreachable")

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str], extra: dict[str, str] | None = None) -> Response:
        page = self.cookies.get("csrftoken")
        if page is None:
            self.get(path)
        form = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **form}
        return self.request("POST", path, form, extra)

    def login(self, email: str, password: str) -> None:
        """Through allauth's form, as a person does: the page, then the form with its token."""
        page = self.get("/accounts/login/")
        match = CSRF_FIELD.search(page.text)
        if page.status != 200 or match is None:
            raise RuntimeError(f"login page for {email}: HTTP {page.status}")
        answer = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": match.group(1), "login": email, "password": password},
        )
        if answer.status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {email} failed: HTTP {answer.status}")


@dataclass
class Job:
    """What a virtual user asks for, again and again: ``make()`` gives (method, path, form)."""

    session: Session
    make: Callable[[], tuple[str, str, dict[str, str] | None]]
    expect: int = 200
    #: Headers of the page's script, when the page sends this request with it (``HX-Request``).
    extra: dict[str, str] | None = None


def client_ip(n: int) -> str:
    """A distinct private client address for virtual user ``n`` (as the proxy reports it)."""
    return f"10.{(n >> 14) & 255}.{(n >> 6) & 255}.{(n & 63) + 1}"


def run_load(name: str, role: str, jobs: Sequence[Job], seconds: float, *, warmup: int = 1) -> Load:
    """Each job in its own thread, closed loop, for ``seconds`` after a common start.

    ``warmup`` requests per user first (not counted). A request counts when it was started
    before the end; its latency is recorded if the status was the expected one.
    """
    load = Load(name=name, role=role, seconds=seconds, users=len(jobs))
    lock = threading.Lock()
    window = [0.0, 0.0]  # start, last finish
    start = threading.Barrier(len(jobs), action=lambda: window.__setitem__(0, time.monotonic()))

    def user(job: Job) -> None:
        for _ in range(warmup):
            _one(job)
        start.wait()
        deadline = window[0] + seconds
        while time.monotonic() < deadline:
            began = time.monotonic()
            ok, detail = _one(job)
            finished = time.monotonic()
            elapsed = finished - began
            with lock:
                window[1] = max(window[1], finished)
                if ok:
                    load.latencies.append(elapsed)
                else:
                    load.errors += 1
                    if len(load.error_samples) < 3:
                        load.error_samples.append(detail)

    def _one(job: Job) -> tuple[bool, str]:
        method, path, form = job.make()
        try:
            answer = job.session.request(method, path, form, job.extra)
        except (OSError, http.client.HTTPException) as exc:
            job.session.close()
            return False, f"{path}: {exc!r}"
        if answer.status != job.expect:
            return False, f"{path}: HTTP {answer.status}"
        return True, ""

    threads = [threading.Thread(target=user, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Requests started before the end finish a little after it: throughput is over the
    # time from the common start to the last answer.
    load.seconds = max(window[1] - window[0], seconds)
    return load
