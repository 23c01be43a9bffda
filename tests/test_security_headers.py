"""Security headers: a Content-Security-Policy on every page without inline code, HSTS in production.

What a page must carry is in tests/csp.py. Every page of every role is checked by the walk over
every URL (tests/test_url_policy.py, twelve roles, the admin of the office and the director
included), the pages of the demo school's parent and teacher by a crawl there
(tests/test_demo_school.py); here: the pages without a login, the error pages, a platform
operator's whole admin, and HSTS in production.
"""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from klimop.models import User
from tests.csp import assert_no_inline_code, assert_strict_policy, crawl, policy_of

pytestmark = pytest.mark.django_db


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
    policy = policy_of(client.get(reverse("account_login")))
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


def test_the_whole_admin_of_a_superuser_has_the_policy_and_no_inline_code(
    child, parent, teacher, director, office, barred_child, barred_parent, other_school
):
    """The platform operator's admin: also Celery beat's periodic tasks and every model, each
    changelist with a row or two in it (the test cast: two schools, pupils, guardians, staff)."""
    admin = User.objects.create_superuser(email="beheer@example.test", password="x" * 12)
    client = Client()
    client.force_login(admin)
    must_see = [
        reverse("admin:index"),
        reverse("admin:django_celery_beat_periodictask_add"),
        reverse("admin:django_celery_beat_crontabschedule_add"),
        reverse("admin:klimop_user_add"),
        reverse("admin:klimop_group_import"),
        reverse("admin:klimop_pupil_change", args=[child.pk]),
        reverse("admin:klimop_guardian_change", args=[parent.pk]),
    ]
    pages = crawl(client, must_see, limit=200)

    assert set(must_see) <= set(pages), set(must_see) - set(pages)
    assert len(pages) >= 60
