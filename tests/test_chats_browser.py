"""Chats in a real browser: a parent writes at 20:00, the teacher is notified at 08:00 the next
working day and answers, and the parent sees the answer appear without reloading (polling).
Screenshots go to /tmp/klimop-shots/chats-*.png."""

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import expect

from communication.chats.models import Conversation
from klimop.notifications.models import Notification
from klimop.worktime import AMSTERDAM
from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, log_in, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The teacher works Monday to Wednesday (conftest).
MONDAY_EVENING = dt.datetime(2026, 11, 23, 20, 0, tzinfo=AMSTERDAM)
TUESDAY_OPENING = dt.datetime(2026, 11, 24, 8, 0, tzinfo=AMSTERDAM)

if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
def cast(school, group, teacher, duo_teacher, child, parent, divorced_parent):
    for person in (teacher.user, duo_teacher.user, parent.user, divorced_parent.user):
        verified(person)
    return {"teacher": teacher, "parent": parent}


def test_a_parent_writes_at_20h_and_sees_the_teachers_answer_without_reloading(browser, live_server, cast):
    with time_machine.travel(MONDAY_EVENING, tick=True) as traveller:
        parent_page = browser.new_page(viewport=PHONE)
        log_in(parent_page, live_server, cast["parent"].user)
        parent_page.goto(f"{live_server.url}/gesprekken/nieuw/")
        parent_page.get_by_label("Bericht").fill(
            "Goedenavond, Noor heeft morgen om 10:00 een afspraak bij de tandarts. "
            "Mag ik haar om 9:45 ophalen?"
        )
        shot(parent_page, "chats-start-phone")
        parent_page.get_by_role("button", name="Versturen").click()
        parent_page.wait_for_load_state("networkidle")
        content = parent_page.content()
        assert "Niet bedoeld voor gesprekken over gedrag of ontwikkeling" in content
        # Two working days on the school calendar (duo-teachers): Tuesday and Wednesday.
        assert "U kunt een antwoord verwachten vóór woensdag 25 november, 16:30" in content
        conversation = Conversation.objects.get()
        note = Notification.objects.get(user=cast["teacher"].user)
        assert note.deliver_at == TUESDAY_OPENING
        shot(parent_page, "chats-parent-evening-phone")

        # The next morning: the teacher's notification is delivered; the parent's page stays open.
        traveller.move_to(TUESDAY_OPENING + dt.timedelta(minutes=1))
        teacher_page = browser.new_page(viewport=DESKTOP)
        log_in(teacher_page, live_server, cast["teacher"].user)
        teacher_page.goto(f"{live_server.url}/meldingen/")
        assert "Nieuw bericht van" in teacher_page.content()
        teacher_page.goto(f"{live_server.url}/gesprekken/")
        row = teacher_page.locator(".chat-row").first
        expect(row.locator(".chat-unread")).to_have_text("1")
        assert "Ouders wachten op antwoord" in teacher_page.content()
        shot(teacher_page, "chats-inbox-desktop")
        teacher_page.set_viewport_size(PHONE)
        shot(teacher_page, "chats-inbox-phone")
        teacher_page.set_viewport_size(DESKTOP)
        row.click()
        teacher_page.wait_for_load_state("networkidle")
        assert teacher_page.url.endswith(f"/gesprekken/{conversation.pk}/")
        teacher_page.get_by_label("Bericht").fill("Goedemorgen! Dat is goed, ik zet Noor om 9:45 klaar.")
        teacher_page.get_by_role("button", name="Versturen").click()
        teacher_page.wait_for_load_state("networkidle")
        shot(teacher_page, "chats-conversation-teacher-desktop")

        # Without reloading, the parent's page shows the answer within one polling round.
        answer = parent_page.locator(".bubble").filter(has_text="ik zet Noor om 9:45 klaar")
        expect(answer).to_be_visible(timeout=15_000)
        shot(parent_page, "chats-conversation-parent-phone")
        parent_page.set_viewport_size(DESKTOP)
        shot(parent_page, "chats-conversation-parent-desktop")

        # The parent's page marked the answer read: the teacher sees the receipt.
        teacher_page.reload()
        expect(teacher_page.locator(".bubble--mine .bubble__read").last).to_contain_text("gelezen door")
