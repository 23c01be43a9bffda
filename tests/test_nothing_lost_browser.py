"""Nothing typed is lost, in a real browser (issue 13, point 4): a parent's chat message meets a
database that is down, the try-again page says so, and going back (or opening the chat again)
gives the text back; once it is sent the draft is gone, and logging out forgets every draft."""

import datetime as dt

import pytest
import time_machine
from django.db import OperationalError
from playwright.sync_api import expect

from communication.chats import services as chat_services
from communication.chats.models import Message
from klimop.worktime import AMSTERDAM
from tests.browser import HAS_CHROMIUM, PHONE, log_in, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TUESDAY_MORNING = dt.datetime(2026, 11, 24, 10, 0, tzinfo=AMSTERDAM)
TYPED = "Noor heeft morgen om 10:00 een afspraak bij de tandarts. Mag ik haar om 9:45 ophalen?"
DRAFTS = "Object.keys(localStorage).filter(k => k.startsWith('klimop-draft:'))"

if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def test_a_chat_message_survives_a_database_outage_and_goes_once_it_is_back(
    browser, live_server, school, group, teacher, child, parent, monkeypatch
):
    verified(parent.user)
    real_send = chat_services.message_send

    def database_down_once(**kwargs):
        monkeypatch.setattr(chat_services, "message_send", real_send)  # back for the next try
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    with time_machine.travel(TUESDAY_MORNING, tick=True):
        conversation = chat_services.conversation_start_direct(
            actor=parent.user, pupil=child, body="Goedemorgen juf"
        )
        chat_url = f"{live_server.url}/gesprekken/{conversation.pk}/"
        page = browser.new_page(viewport=PHONE)
        log_in(page, live_server, parent.user)
        page.goto(chat_url)
        page.get_by_label("Bericht").fill(TYPED)

        monkeypatch.setattr(chat_services, "message_send", database_down_once)
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="Versturen").click()
        expect(page.get_by_role("heading", name="Probeer het opnieuw")).to_be_visible()
        assert "Wat u net verstuurde, is niet opgeslagen." in page.content()
        shot(page, "nothing-lost-503-phone")

        # Back to the chat: the text is still in the box.
        page.go_back(wait_until="load")
        expect(page.get_by_label("Bericht")).to_have_value(TYPED)
        # Also when the chat is opened afresh: the browser kept the draft.
        page.goto(chat_url)
        expect(page.get_by_label("Bericht")).to_have_value(TYPED)
        expect(page.locator("[data-draft-note]")).to_contain_text("Uw bericht is nog niet verstuurd")
        shot(page, "nothing-lost-restored-phone")

        # The database is back: the message goes, and its draft is gone.
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="Versturen").click()
        assert Message.objects.filter(conversation=conversation, body__contains="tandarts").count() == 1
        expect(page.get_by_label("Bericht")).to_have_value("")
        assert page.evaluate(DRAFTS) == []
        page.goto(chat_url)
        expect(page.get_by_label("Bericht")).to_have_value("")

        # A new draft, then logging out (a shared tablet): no draft of anyone stays.
        page.get_by_label("Bericht").fill("Nog een vraag over de gymles")
        assert len(page.evaluate(DRAFTS)) == 1
        page.goto(f"{live_server.url}/accounts/logout/")
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("main").get_by_role("button", name="Uitloggen").click()
        assert page.evaluate(DRAFTS) == []
