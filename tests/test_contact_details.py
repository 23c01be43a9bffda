"""A guardian keeps their own contact details current; nobody else's."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
URL = reverse("contact_details")


def _link_in(mail) -> str:
    return next(line for line in mail.body.splitlines() if "/me/contact/confirm/" in line)


def test_a_parent_corrects_their_phone_at_once_and_their_address_once_they_confirm_it(
    client, parent, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(parent.user)
    page = client.get(URL)
    assert parent.email in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL, {"email": "Nieuw.Adres@Example.test", "phone": "06-11223344"}, follow=True
        )
    assert response.status_code == 200
    assert "nieuw.adres@example.test" in response.content.decode()  # "we sent a link to …"
    parent.refresh_from_db()
    # The phone is theirs to set; the address is used only once confirmed from its mailbox.
    assert (parent.email, parent.phone) == ("parent@example.test", "06-11223344")
    (mail,) = mailoutbox
    assert mail.to == ["nieuw.adres@example.test"]
    path = _link_in(mail).split("testserver")[-1].split("localhost:8000")[-1]

    confirm_page = client.get(path)
    assert confirm_page.status_code == 200
    assert "nieuw.adres@example.test" in confirm_page.content.decode()
    parent.refresh_from_db()
    assert parent.email == "parent@example.test"  # opening the link alone changes nothing

    client.post(path)
    parent.refresh_from_db()
    assert parent.email == "nieuw.adres@example.test"
    # The link works once: it names the address it replaces.
    assert client.post(path).status_code == 400


def test_a_confirmation_link_is_no_use_to_anyone_else(
    client, parent, divorced_parent, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(parent.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, {"email": "mine@example.test", "phone": ""})
    path = "/" + _link_in(mailoutbox[0]).split("/", 3)[-1]
    client.force_login(divorced_parent.user)
    response = client.post(path)
    assert response.status_code == 400
    parent.refresh_from_db()
    divorced_parent.refresh_from_db()
    assert (parent.email, divorced_parent.email) == ("parent@example.test", "divorced@example.test")


def test_a_tampered_confirmation_link_is_refused(client, parent):
    client.force_login(parent.user)
    response = client.post(reverse("contact_email_confirm", kwargs={"token": "eyJnIjoxfQ:abc:def"}))
    assert response.status_code == 400
    parent.refresh_from_db()
    assert parent.email == "parent@example.test"


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
