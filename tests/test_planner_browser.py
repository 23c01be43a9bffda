"""The planner in a real browser: a parent of two children books two back-to-back conversations
the day before booking opens for other families; the teacher sees them on the printable day.
Screenshots go to /tmp/klimop-shots/planner-*.png."""

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import expect

from conversations.models import Booking
from tests import factories as f
from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, log_in, shot, verified
from tests.planner_times import FIRST_DAY, SIBLINGS_OPEN

# The planner's fixtures (a round for 5a and 6b, slots, a sibling in 6b).
pytest_plugins = ["tests.planner_cast"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)

MONDAY_MORNING = SIBLINGS_OPEN + dt.timedelta(hours=1, minutes=30)  # 25 January 2027, 09:30


@pytest.fixture
def cast(
    conversation_round,
    slots_5a,
    slots_6b,
    teacher,
    other_teacher,
    child,
    sibling,
    parent,
    divorced_parent,
    group,
):
    single = f.GuardianRelationFactory(
        pupil=f.PupilFactory(group=group), guardian__user__email="single@example.test"
    ).guardian
    for person in (teacher.user, parent.user, single.user):
        verified(person)
    return {
        "round": conversation_round,
        "parent": parent,
        "single": single,
        "teacher": teacher,
        "child": child,
        "sibling": sibling,
    }


def test_a_parent_of_two_books_back_to_back_a_day_before_the_others(browser, live_server, cast):
    round_url = f"{live_server.url}/oudergesprekken/{cast['round'].pk}/"
    with time_machine.travel(MONDAY_MORNING, tick=True):
        # A family with one child waits until tomorrow.
        single_page = browser.new_page(viewport=PHONE)
        log_in(single_page, live_server, cast["single"].user)
        single_page.goto(round_url)
        expect(single_page.locator(".alert--info")).to_contain_text("dinsdag 26 januari, 08:00")
        expect(single_page.locator(".slot")).to_have_count(0)
        shot(single_page, "planner-not-open-yet-phone")

        page = browser.new_page(viewport=PHONE)
        log_in(page, live_server, cast["parent"].user)
        page.goto(f"{live_server.url}/oudergesprekken/")
        expect(page.locator(".planner-card")).to_contain_text("Kies een tijd voor")
        shot(page, "planner-home-phone")
        page.get_by_role("link", name="Gesprek plannen").click()
        page.wait_for_load_state("networkidle")
        expect(page.locator(".planner-suggest")).to_contain_text("Aansluitend")
        expect(page.locator(".planner-suggest .run").first).to_contain_text("Noor")
        expect(page.locator(".planner-suggest .run").first).to_contain_text("Fedde")
        shot(page, "planner-round-phone")
        page.set_viewport_size(DESKTOP)
        shot(page, "planner-round-desktop")
        page.set_viewport_size(PHONE)

        page.get_by_role("button", name="Plan deze 2 gesprekken").click()
        page.wait_for_load_state("networkidle")
        expect(page.locator(".messages")).to_contain_text("2 gesprekken gepland")
        expect(page.locator(".planner-booked")).to_have_count(2)
        bookings = sorted(Booking.objects.select_related("slot"), key=lambda b: b.slot.starts_at)
        assert [b.pupil for b in bookings] == [cast["child"], cast["sibling"]]
        assert bookings[0].slot.ends_at <= bookings[1].slot.starts_at
        assert bookings[1].slot.starts_at - bookings[0].slot.ends_at <= dt.timedelta(minutes=20)
        assert bookings[0].slot.staff != bookings[1].slot.staff
        shot(page, "planner-booked-phone")

        page.locator(".planner-booked a").first.click()
        page.wait_for_load_state("networkidle")
        expect(page.locator(".planner-confirm")).to_contain_text("dinsdag 9 februari, 13:00")
        expect(page.get_by_role("link", name="Zet in mijn agenda")).to_be_visible()
        shot(page, "planner-confirmation-phone")
        page.set_viewport_size(DESKTOP)
        shot(page, "planner-confirmation-desktop")

    with time_machine.travel(MONDAY_MORNING + dt.timedelta(days=1), tick=True):
        teacher_page = browser.new_page(viewport=DESKTOP)
        log_in(teacher_page, live_server, cast["teacher"].user)
        teacher_page.goto(f"{live_server.url}/oudergesprekken/rondes/{cast['round'].pk}/")
        expect(teacher_page.locator(".planner-table")).to_contain_text("Noor Testkind")
        shot(teacher_page, "planner-staff-round-desktop")
        teacher_page.set_viewport_size(PHONE)
        shot(teacher_page, "planner-staff-round-phone")
        teacher_page.set_viewport_size(DESKTOP)
        teacher_page.goto(
            f"{live_server.url}/oudergesprekken/rondes/{cast['round'].pk}/dag/{FIRST_DAY.isoformat()}/"
        )
        expect(teacher_page.locator(".planner-print__table").first).to_contain_text("Noor Testkind")
        shot(teacher_page, "planner-day-desktop")
        teacher_page.emulate_media(media="print")
        expect(teacher_page.locator(".site-header")).to_be_hidden()
        shot(teacher_page, "planner-day-print")


def test_a_parent_whose_time_is_taken_meanwhile_chooses_another_without_losing_the_page(
    browser, live_server, cast, slots_5a, group
):
    """Booking is open for everyone. A family with one child opens the page; before they click,
    another family takes the first time. The refusal replaces only their child's part: the
    message on top (focused, for a screen reader), the time gone, the page not reloaded. The
    next time they pick is booked."""
    from conversations import services

    single = cast["single"]
    name = single.pupils.get().first_name
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(days=1), tick=True):
        page = browser.new_page(viewport=PHONE)
        log_in(page, live_server, single.user, f"/oudergesprekken/{cast['round'].pk}/")
        expect(page.locator(".slot")).to_have_count(len(slots_5a))
        page.evaluate("window.klimopNotReloaded = true")

        rival = f.GuardianRelationFactory(pupil=f.PupilFactory(group=group)).guardian
        services.bookings_create(
            actor=rival.user, round_=cast["round"], choices=[(rival.pupils.get(), slots_5a[0])]
        )
        page.locator(".slot").first.click()
        page.get_by_role("button", name=f"Plannen voor {name}").click()

        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Helaas, iemand anders heeft net")
        expect(alert).to_contain_text("De tijden hieronder zijn nog vrij.")
        expect(alert).to_be_focused()
        expect(page.locator(".slot")).to_have_count(len(slots_5a) - 1)
        expect(page.locator(".slot").first).to_contain_text("13:15")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert page.evaluate("window.klimopNotReloaded === true")
        shot(page, "planner-refused-phone")
        page.set_viewport_size(DESKTOP)
        shot(page, "planner-refused-desktop")

        page.locator(".slot").first.click()
        page.get_by_role("button", name=f"Plannen voor {name}").click()
        expect(page.locator(".planner-confirm")).to_contain_text("dinsdag 9 februari, 13:15")
    assert Booking.objects.get(pupil__guardian_relations__guardian=single).slot == slots_5a[1]
