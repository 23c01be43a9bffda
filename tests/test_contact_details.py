"""A guardian keeps their own contact details current; nobody else's."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
URL = reverse("contact_details")


def test_a_parent_sees_and_corrects_their_own_contact_details(client, parent):
    client.force_login(parent.user)
    page = client.get(URL)
    assert parent.email in page.content.decode()
    response = client.post(URL, {"email": "Nieuw.Adres@Example.test", "phone": "06-11223344"}, follow=True)
    parent.refresh_from_db()
    assert (parent.email, parent.phone) == ("nieuw.adres@example.test", "06-11223344")
    assert response.status_code == 200


def test_an_invalid_phone_number_is_refused_with_a_message_and_nothing_changes(client, parent):
    client.force_login(parent.user)
    old = (parent.email, parent.phone)
    response = client.post(URL, {"email": "nieuw@example.test", "phone": "bel me maar"})
    assert response.status_code == 200
    assert "06-12345678" in response.content.decode()  # the example in the error message
    assert "nieuw@example.test" in response.content.decode()  # what was typed is kept
    parent.refresh_from_db()
    assert (parent.email, parent.phone) == old


def test_the_page_only_ever_edits_the_logged_in_guardian(client, parent, divorced_parent):
    client.force_login(parent.user)
    client.post(URL, {"email": "a@example.test", "phone": "", "guardian": divorced_parent.pk})
    divorced_parent.refresh_from_db()
    assert divorced_parent.email == "divorced@example.test"


def test_staff_without_children_are_sent_home(client, teacher):
    client.force_login(teacher.user)
    assert client.get(URL).status_code == 302


def test_a_parent_can_turn_email_notifications_off_and_on(client, parent):
    client.force_login(parent.user)
    client.post(URL, {"email": parent.email, "phone": ""})  # checkbox unticked
    parent.user.refresh_from_db()
    assert parent.user.notify_by_email is False
    client.post(URL, {"email": parent.email, "phone": "", "notify_by_email": "on"})
    parent.user.refresh_from_db()
    assert parent.user.notify_by_email is True
