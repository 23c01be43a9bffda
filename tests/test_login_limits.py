"""Login rate limits per real client: a whole school behind one address is not locked out by
one parent's typos, a guessed address is, and the person is told when to retry and how to reset.

allauth counts failed logins per IP (loosely) and per e-mail address (strictly); behind the
TLS proxy (TRUSTED_PROXY_COUNT=1) the client is the address the proxy appended to
X-Forwarded-For, and without a trusted proxy (0) a forged header is ignored.
"""

import datetime as dt

import pytest
import time_machine
from allauth.account.adapter import get_adapter
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from tests import factories as f
from tests.test_accounts import _verified as verified

PASSWORD = "test-password-123"

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # the TLS proxy as gunicorn sees it
SCHOOL_WIFI = "203.0.113.7"  # the school's one public address


def _parents(child, count):
    return [
        verified(
            f.GuardianRelationFactory(
                pupil=child, guardian__user__email=f"ouder{i}@example.test"
            ).guardian.user
        )
        for i in range(count)
    ]


def _post_login(client, email, password, **headers):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **headers)


def _logged_in(client):
    return "_auth_user_id" in client.session


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_twenty_parents_on_the_school_wifi_behind_the_proxy_each_mistype_and_still_log_in(child):
    for i, user in enumerate(_parents(child, 20)):
        client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=SCHOOL_WIFI)
        for _ in range(1 + i % 2):  # once or twice
            assert _post_login(client, user.email, "verkeerd-wachtwoord").status_code == 200
            assert not _logged_in(client)
        response = _post_login(client, user.email, PASSWORD)
        assert response.status_code == 302, user.email
        assert _logged_in(client)


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_twenty_parents_from_their_own_addresses_behind_the_proxy_still_log_in(child):
    for i, user in enumerate(_parents(child, 20)):
        client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.{i + 1}")
        _post_login(client, user.email, "verkeerd-wachtwoord")
        _post_login(client, user.email, "nog-steeds-verkeerd")
        assert _post_login(client, user.email, PASSWORD).status_code == 302
        assert _logged_in(client)


def test_one_address_mistyped_five_times_is_limited_and_told_when_to_retry(client, parent, child):
    user = verified(parent.user)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(5):
            _post_login(client, user.email, "verkeerd-wachtwoord")
        response = _post_login(client, user.email, PASSWORD)  # even the right password
        assert response.status_code == 200
        assert not _logged_in(client)
        page = response.content.decode()
        assert "Te veel mislukte pogingen. Probeer het over 5 minuten opnieuw" in page
        assert "Wachtwoord vergeten" in page
        assert f'href="{reverse("account_reset_password")}"' in page

        # Two minutes later the wait is three minutes.
        traveller.move_to(start + dt.timedelta(minutes=2))
        page = _post_login(client, user.email, PASSWORD).content.decode()
        assert "Probeer het over 3 minuten opnieuw" in page
        assert not _logged_in(client)

        # Another parent on the same address is not affected.
        other = verified(
            f.GuardianRelationFactory(pupil=child, guardian__user__email="ander@example.test").guardian.user
        )
        other_client = Client()
        assert _post_login(other_client, other.email, PASSWORD).status_code == 302

        # Once the window has passed, the right password works again.
        traveller.move_to(start + dt.timedelta(minutes=5, seconds=1))
        assert _post_login(client, user.email, PASSWORD).status_code == 302
        assert _logged_in(client)


def test_the_limit_is_told_in_english_too(client, parent):
    user = verified(parent.user)
    client.cookies["django_language"] = "en"
    for _ in range(5):
        _post_login(client, user.email, "wrong", HTTP_ACCEPT_LANGUAGE="en")
    page = _post_login(client, user.email, PASSWORD, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Too many failed attempts. Try again in 5 minutes" in page


def _client_ip(remote_addr, forwarded_for=None):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    request = RequestFactory().post(reverse("account_login"), **headers)
    return get_adapter(request).get_client_ip(request)


def test_behind_one_trusted_proxy_the_client_the_proxy_saw_is_counted():
    with override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1):
        assert _client_ip(PROXY, "198.51.100.9") == "198.51.100.9"
        # A client that forges the header: the proxy appends what it saw, that one counts.
        assert _client_ip(PROXY, "1.2.3.4, 198.51.100.9") == "198.51.100.9"
        assert _client_ip(PROXY) == PROXY  # a request without the header (health checks)


def test_without_a_trusted_proxy_a_forged_header_is_ignored():
    with override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=0):
        assert _client_ip("198.51.100.9", "1.2.3.4") == "198.51.100.9"


def test_the_default_trusts_no_proxy():
    from django.conf import settings

    assert settings.TRUSTED_PROXY_COUNT == 0
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == 0


STRICT_IP = {"login_failed": "3/5m/ip,5/5m/key"}  # a low per-IP limit shows what is counted


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1, ACCOUNT_RATE_LIMITS=STRICT_IP)
def test_with_one_trusted_proxy_the_forwarded_client_is_limited_not_the_proxy(parent):
    user = verified(parent.user)
    guesser = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.66")
    for i in range(3):
        _post_login(guesser, f"geraden{i}@example.test", "raden")
    assert _post_login(guesser, user.email, PASSWORD).status_code == 200  # this client is limited
    assert not _logged_in(guesser)

    parent_client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert _post_login(parent_client, user.email, PASSWORD).status_code == 302


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=0, ACCOUNT_RATE_LIMITS=STRICT_IP)
def test_without_a_trusted_proxy_remote_addr_is_limited_whatever_the_header_says(parent):
    user = verified(parent.user)
    for i in range(3):
        forger = Client(REMOTE_ADDR="198.51.100.66", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
        _post_login(forger, f"geraden{i}@example.test", "raden")
    forger = Client(REMOTE_ADDR="198.51.100.66", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert _post_login(forger, user.email, PASSWORD).status_code == 200
    assert not _logged_in(forger)
    # Another address is not affected.
    assert _post_login(Client(REMOTE_ADDR="198.51.100.1"), user.email, PASSWORD).status_code == 302


@override_settings(ACCOUNT_RATE_LIMITS={"login": "2/m/ip"})
def test_too_many_login_requests_from_one_address_get_a_dutch_page_with_the_way_out(client, parent):
    user = verified(parent.user)
    for _ in range(2):
        _post_login(client, user.email, "verkeerd-wachtwoord")
    response = _post_login(client, user.email, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Probeer het over een paar minuten opnieuw" in page
    assert f'href="{reverse("account_reset_password")}"' in page


def test_the_per_address_limit_is_high_and_the_per_person_limit_strict():
    from allauth.account import app_settings

    rates = {rate: app_settings.RATE_LIMITS[rate] for rate in ("login", "login_failed")}
    assert rates["login_failed"].endswith(",5/5m/key")
    per_ip = int(rates["login_failed"].split("/")[0])
    assert per_ip >= 200
    assert int(rates["login"].split("/")[0]) >= 200


def test_a_limited_parent_can_choose_a_new_password_and_log_in_at_once(
    client, parent, django_capture_on_commit_callbacks
):
    import re

    from django.core import mail

    user = verified(parent.user)
    for _ in range(5):
        _post_login(client, user.email, "verkeerd-wachtwoord")
    assert "Te veel mislukte pogingen" in _post_login(client, user.email, PASSWORD).content.decode()

    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        client.post(reverse("account_reset_password"), {"email": user.email})
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[-1].body).group(1)
    form_url = client.get(link)["Location"]
    new_password = "een-nieuw-wachtwoord-2026"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302

    fresh = Client()
    assert _post_login(fresh, user.email, new_password).status_code == 302
    assert _logged_in(fresh)
