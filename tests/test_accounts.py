"""Accounts: e-mail login, rate limits, two-factor for staff, language choice, no sign-up."""

import pytest
from allauth.account.models import EmailAddress
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _verified(user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_a_parent_logs_in_with_email_and_password(client, parent):
    _verified(parent.user)
    response = client.post(
        reverse("account_login"), {"login": "parent@example.test", "password": "test-password-123"}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_repeated_wrong_passwords_are_rate_limited(client, parent):
    _verified(parent.user)
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "parent@example.test", "password": "wrong"})
    response = client.post(
        reverse("account_login"), {"login": "parent@example.test", "password": "test-password-123"}
    )
    # allauth refuses even the right password once the limit is reached.
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session


@override_settings(KLIMOP_STAFF_REQUIRE_2FA=True)
def test_staff_must_set_up_two_factor_when_the_school_requires_it(client, teacher):
    client.force_login(teacher.user)
    response = client.get(reverse("staff_dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    # The set-up pages stay reachable (allauth first asks to confirm the password).
    response = client.get(reverse("mfa_activate_totp"), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/accounts/")


@override_settings(KLIMOP_STAFF_REQUIRE_2FA=True)
def test_parents_are_not_forced_into_two_factor(client, parent):
    client.force_login(parent.user)
    assert client.get("/").status_code == 200


def test_staff_without_the_requirement_use_the_portal_directly(client, teacher):
    client.force_login(teacher.user)
    assert client.get(reverse("staff_dashboard")).status_code == 200


def test_dutch_is_the_default_even_for_an_english_browser(client):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "nl"


def test_a_users_language_choice_follows_them(client, parent):
    client.force_login(parent.user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    parent.user.refresh_from_db()
    assert parent.user.language == "en"
    client.cookies.clear()
    client.force_login(parent.user)
    assert client.get("/")["Content-Language"] == "en"


def test_an_unknown_language_is_refused_and_nothing_changes(client, parent):
    client.force_login(parent.user)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    parent.user.refresh_from_db()
    assert parent.user.language == "nl"


def test_the_language_switch_never_redirects_off_site(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"
