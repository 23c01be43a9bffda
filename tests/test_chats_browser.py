"""Chats in a real browser: a parent writes at 20:00, the teacher is notified at 08:00 the next
working day and answers, and the parent sees the answer appear without reloading (polling).
One conversation per subject: a parent's new message lands in the chat already going, and a
teacher's phone inbox shows what waits first and finds an empty per-child chat by name.
Screenshots go to /tmp/klimop-shots/chats-*.png."""

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import expect

from communication.chats import services
from communication.chats.models import Conversation
from klimop.notifications.models import Notification
from klimop.worktime import AMSTERDAM
from tests import factories as f
from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, fits_the_screen, log_in, shot, verified

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


def test_a_parent_writes_at_20h_and_sees_the_teachers_answer_without_reloading(
    browser, live_server, cast, settings
):
    settings.KLIMOP_CHAT_POLL_SECONDS = 2  # the page asks every 10 s in production
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
        assert "Vraagt uw aandacht" in teacher_page.content()
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

        # Without reloading, the parent's page shows the answer within a polling round or two.
        answer = parent_page.locator(".bubble").filter(has_text="ik zet Noor om 9:45 klaar")
        expect(answer).to_be_visible(timeout=15_000)
        shot(parent_page, "chats-conversation-parent-phone")
        parent_page.set_viewport_size(DESKTOP)
        shot(parent_page, "chats-conversation-parent-desktop")

        # The parent's page marked the answer read: the teacher sees the receipt.
        teacher_page.reload()
        expect(teacher_page.locator(".bubble--mine .bubble__read").last).to_contain_text("gelezen door")


# The teacher works Monday to Wednesday: Tuesday morning she is at work.
TUESDAY_MORNING = dt.datetime(2026, 11, 24, 10, 0, tzinfo=AMSTERDAM)
CLASSMATES = [
    ("Sam", "Quelling", "Fleur", "Ambergen"),
    ("Lotte", "Ypenburg", "Bram", "Zwanenveld"),
    ("Mees", "Ulvenhout", "Anouk", "Ommeren"),
    ("Jip", "Xanten", "Roel", "Dekkers"),
    ("Fenna", "Wolters", "Iris", "Brink"),
    ("Daan", "Kuipers", "Joost", "Meijer"),
    ("Yara", "Hoekstra", "Sara", "Bos"),
    ("Luuk", "Vink", "Tom", "Smit"),
    ("Evi", "Mulder", "Nina", "Post"),
    ("Thijs", "Prins", "Koen", "Kok"),
    ("Roos", "Lammers", "Eva", "Dijk"),
    ("Stijn", "Verbeek", "Lars", "Graaf"),
]


def test_a_parents_new_message_lands_in_the_chat_already_going_and_the_teacher_finds_it_first(
    browser, live_server, cast, school_year, group
):
    teacher, parent = cast["teacher"], cast["parent"]
    for first, last, parent_first, parent_last in CLASSMATES:
        f.GuardianRelationFactory(
            pupil=f.PupilFactory(group=group, first_name=first, last_name=last),
            guardian__user__first_name=parent_first,
            guardian__user__last_name=parent_last,
        )
    with time_machine.travel(TUESDAY_MORNING - dt.timedelta(days=1, hours=2), tick=False):
        services.child_conversations_sync(school_year=school_year)
        child = parent.relations.get().pupil
        chat = Conversation.objects.get(kind="child", pupil=child)
        services.message_send(actor=parent.user, conversation=chat, body="Is de gymles morgen buiten?")
        services.message_send(
            actor=teacher.user, conversation=chat, body="Ja, buiten. Graag sportschoenen mee."
        )
        for member in chat.participants.select_related("user"):
            services.conversation_mark_read(actor=member.user, conversation=chat)

    with time_machine.travel(TUESDAY_MORNING, tick=True):
        # The parent, on a phone: "new conversation" about Noor continues the chat about Noor.
        page = browser.new_page(viewport=PHONE)
        log_in(page, live_server, parent.user)
        page.goto(f"{live_server.url}/gesprekken/")
        expect(page.get_by_role("heading", name="Noor")).to_be_visible()
        shot(page, "chats-parent-inbox-phone")
        page.get_by_role("link", name="Nieuw gesprek").click()
        page.get_by_label("Bericht").fill(
            "Noor gaat vrijdag om 11:00 naar de tandarts; ik haal haar om 10:45."
        )
        page.get_by_role("button", name="Versturen").click()
        expect(
            page.get_by_text("Er loopt al een gesprek over Noor; uw bericht staat hieronder.")
        ).to_be_visible()
        assert page.url.endswith(f"/gesprekken/{chat.pk}/")
        bubbles = page.locator(".bubble")
        expect(bubbles).to_have_count(3)
        expect(bubbles.first).to_contain_text("gymles")
        expect(bubbles.last).to_contain_text("tandarts")
        assert Conversation.objects.exclude(kind="child").count() == 0
        shot(page, "chats-parent-continued-phone")
        page.close()  # its polling would otherwise outlive the test on the shared live server

        # The teacher, on a phone: the waiting message first, a short page, no empty chats.
        page = browser.new_page(viewport=PHONE)
        log_in(page, live_server, teacher.user)
        page.goto(f"{live_server.url}/gesprekken/")
        first = page.locator(".chat-row").first
        expect(first).to_contain_text("Noor Testkind")
        expect(first).to_contain_text("tandarts")
        expect(first.locator(".chat-unread")).to_have_text("1")
        expect(first).to_contain_text("Wacht op uw antwoord")
        expect(page.locator(".chat-row")).to_have_count(1)  # thirteen children, one chat with news
        assert "Nog geen berichten" not in page.content()
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 1400, height  # was over 4,000 px of empty per-child chats
        assert fits_the_screen(page)
        shot(page, "chats-teacher-inbox-phone")

        # Sam's chat has no message yet: found by a parent's name, opened from the results.
        page.get_by_label("Naam van kind of ouder").fill("ambergen")
        page.get_by_role("button", name="Zoeken").click()
        expect(page.get_by_text("1 kind gevonden bij “ambergen”")).to_be_visible()
        expect(page.locator(".chat-find__child")).to_contain_text("Fleur Ambergen")
        assert fits_the_screen(page)
        shot(page, "chats-teacher-search-phone")
        page.set_viewport_size(DESKTOP)
        shot(page, "chats-teacher-search-desktop")
        expect(page.locator(".chat-find__child")).to_contain_text("nog geen berichten")
        page.locator(".chat-find__child").get_by_role("link", name="Gesprek over een kind").click()
        expect(page.get_by_role("heading", name="Sam Quelling")).to_be_visible()
        expect(page.get_by_text("Nog geen berichten. Schrijf hieronder het eerste.")).to_be_visible()
        page.goto(f"{live_server.url}/gesprekken/")
        shot(page, "chats-teacher-inbox-desktop")
        page.close()
