"""Shared pieces of the browser tests: Debian's Chromium through Playwright on a live server.

Playwright cannot download its own browser on our CI and development machines, so
``browser_type_launch_args`` in conftest.py points at Debian's: its headless build
(``apt-get install chromium-headless-shell``), the same engine as the browser, and the headless
browser Playwright itself runs by default. It needs about half the processor time of the full
browser run headless (measured on the browser tests: 120 against 228 CPU-seconds), which is what
the suite's time is made of on two cores. A test that needs what only the full browser has (push
messages shown by a service worker) is marked ``full_browser`` and gets /usr/bin/chromium
(``apt-get install chromium``); so does every test when the headless build is missing.
``KLIMOP_CHROMIUM=/usr/bin/chromium`` runs every test in the full browser. Screenshots are for
people looking at the pages: ``KLIMOP_SHOTS=1 make test ARGS="-m browser"`` writes one PNG per
step to /tmp/klimop-shots/ (``KLIMOP_SHOTS_DIR``), never into the repository. Without it the
tests take no pictures: a full-page PNG costs a fraction of a second, some seventy per run.
"""

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client
from django.urls import reverse

# Playwright's sync API runs an event loop in this thread; the live server's ORM calls from
# the test body would otherwise raise SynchronousOnlyOperation.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

FULL_CHROMIUM = "/usr/bin/chromium"
HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"
CHROMIUM = os.environ.get("KLIMOP_CHROMIUM") or (
    HEADLESS_SHELL if Path(HEADLESS_SHELL).exists() else FULL_CHROMIUM
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HAS_CHROMIUM = Path(CHROMIUM).exists() and Path(FULL_CHROMIUM).exists()
PASSWORD = "test-password-123"
SHOTS = Path(os.environ.get("KLIMOP_SHOTS_DIR", "/tmp/klimop-shots"))  # noqa: S108
TAKE_SHOTS = os.environ.get("KLIMOP_SHOTS", "") not in ("", "0")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def verified(user):
    """allauth lets nobody in with ACCOUNT_EMAIL_VERIFICATION="mandatory" without this."""
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


def log_in(page, live_server, user, next_path="/accounts/login/"):
    """Signed in as the login form signs a person in (a session of Django's, the login recorded
    on the user), on the page the form would have led to: ``next_path``, or the home when that
    is the login page itself (or its ``?next=``); returns when that page has loaded.

    The login form itself is for the tests about logging in (``log_in_with_the_form``): going
    through it costs a page, a POST and a redirect, some 0.45 s in a browser test, and the
    browser tests log in some sixty times a run.
    """
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    path = next_path
    if urlsplit(path).path == reverse("account_login"):
        path = parse_qs(urlsplit(path).query).get("next", [reverse(settings.LOGIN_REDIRECT_URL)])[0]
    page.goto(f"{live_server.url}{path}")


def log_in_with_the_form(page, live_server, user, next_path="/accounts/login/"):
    """Log in through the real form, as a person would (Dutch labels), and wait until the page
    the login leads to has loaded (not for the network to fall silent: that alone is half a
    second, and later steps wait for what they look at)."""
    page.goto(f"{live_server.url}{next_path}")
    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Inloggen").click()


def fits_the_screen(page) -> bool:
    """Nothing on the page makes it scroll sideways (the phone's width is the page's)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shot(page, name):
    """A full-page screenshot to SHOTS, when KLIMOP_SHOTS asks for them."""
    if not TAKE_SHOTS:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
