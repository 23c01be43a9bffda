"""The agenda in a real browser (Debian's Chromium via Playwright), with screenshots.

Dates are relative to today (no frozen clock: the browser's cookies use the real one),
except the Christmas holiday, which the test opens in its own month.
"""

import datetime as dt

import pytest
from django.utils import timezone

from communication.agenda.models import Event
from klimop.models import NonSchoolDay
from klimop.worktime import AMSTERDAM
from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, log_in, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=AMSTERDAM)


@pytest.fixture
def agenda(school, group, other_group, teacher, director):
    today = timezone.localdate()
    days = [dt.date(2026, 12, d) for d in (21, 22, 23, 24, 28, 29, 30, 31)]
    NonSchoolDay.objects.bulk_create(
        [
            NonSchoolDay(school=school, date=d, kind=NonSchoolDay.Kind.SCHOOL_HOLIDAY, name="Kerstvakantie")
            for d in days
        ]
        + [
            NonSchoolDay(
                school=school,
                date=dt.date(2026, 12, 25),
                kind=NonSchoolDay.Kind.PUBLIC_HOLIDAY,
                name="Eerste Kerstdag",
            ),
            NonSchoolDay(
                school=school,
                date=dt.date(2027, 1, 1),
                kind=NonSchoolDay.Kind.PUBLIC_HOLIDAY,
                name="Nieuwjaarsdag",
            ),
            NonSchoolDay(
                school=school, date=dt.date(2026, 12, 7), kind=NonSchoolDay.Kind.STUDY_DAY, name="Studiedag"
            ),
        ]
    )
    soon = today + dt.timedelta(days=3)
    rows = [
        Event(
            school=school,
            group=group,
            title="Excursie naar het bos",
            kind=Event.Kind.TRIP,
            starts_on=soon,
            ends_on=soon,
            starts_at=_at(soon, 9),
            ends_at=_at(soon, 14, 30),
            location="Amsterdamse Bos",
            bring="Laarzen en een regenjas",
            important=True,
            created_by=teacher,
        ),
        Event(
            school=school,
            group=other_group,
            title="Toets 6b",
            kind=Event.Kind.TEST,
            starts_on=soon,
            ends_on=soon,
            all_day=True,
            created_by=teacher,
        ),
        Event(
            school=school,
            title="Koffie-uurtje met de directie",
            kind=Event.Kind.COFFEE_HOUR,
            starts_on=today + dt.timedelta(days=8),
            ends_on=today + dt.timedelta(days=8),
            starts_at=_at(today + dt.timedelta(days=8), 8, 30),
            ends_at=_at(today + dt.timedelta(days=8), 9, 30),
            location="Teamkamer",
            created_by=director,
        ),
        Event(
            school=school,
            title="Sinterklaasviering",
            kind=Event.Kind.ACTIVITY,
            starts_on=dt.date(2026, 12, 4),
            ends_on=dt.date(2026, 12, 4),
            all_day=True,
            created_by=director,
        ),
        Event(
            school=school,
            title="MR-vergadering",
            kind=Event.Kind.MR_MEETING,
            starts_on=dt.date(2026, 12, 15),
            ends_on=dt.date(2026, 12, 15),
            starts_at=_at(dt.date(2026, 12, 15), 19, 30),
            ends_at=_at(dt.date(2026, 12, 15), 21),
            created_by=director,
        ),
        Event(
            school=school,
            group=group,
            title="Kerstdiner groep 5a",
            kind=Event.Kind.ACTIVITY,
            starts_on=dt.date(2026, 12, 17),
            ends_on=dt.date(2026, 12, 17),
            starts_at=_at(dt.date(2026, 12, 17), 17),
            ends_at=_at(dt.date(2026, 12, 17), 19),
            bring="Een bord, beker en bestek",
            created_by=teacher,
        ),
    ]
    Event.objects.bulk_create(rows)


def test_parent_sees_group_event_and_christmas_holiday(page, live_server, parent, child, agenda):
    page.set_viewport_size(PHONE)
    log_in(page, live_server, verified(parent.user))

    page.goto(f"{live_server.url}/agenda/")
    assert page.get_by_role("link", name="Excursie naar het bos").is_visible()
    assert "Toets 6b" not in page.content()
    shot(page, "agenda-list-phone")
    page.set_viewport_size(DESKTOP)
    shot(page, "agenda-list-desktop")

    page.goto(f"{live_server.url}/agenda/maand/2026/12/")
    assert page.locator(".month-grid").get_by_text("Kerstvakantie").first.is_visible()
    assert page.locator(".month-grid").get_by_text("Kerstdiner groep 5a").is_visible()
    shot(page, "agenda-month-desktop")
    page.set_viewport_size(PHONE)
    assert page.locator(".month-list").get_by_text("Kerstvakantie").is_visible()
    assert page.locator(".month-list").get_by_text("21 dec – 1 jan").is_visible()
    shot(page, "agenda-month-phone")

    page.locator(".month-list").get_by_role("link", name="Kerstdiner groep 5a").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Kerstdiner groep 5a").is_visible()
    shot(page, "agenda-detail-phone")

    page.goto(f"{live_server.url}/agenda/abonneren/")
    page.get_by_role("button", name="Maak mijn persoonlijke link").click()
    page.wait_for_load_state()
    assert page.locator("#feed-webcal").input_value().startswith("webcal://")
    shot(page, "agenda-feed-phone")


def test_teacher_plans_an_event_with_short_notice_warning(page, live_server, teacher, group):
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, verified(teacher.user))
    page.goto(f"{live_server.url}/agenda/nieuw/")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    page.get_by_label("Titel", exact=True).fill("Gymles buiten")
    page.get_by_label("Datum", exact=True).fill(tomorrow.isoformat())
    page.get_by_label("Van", exact=True).fill("10:00")
    page.get_by_label("Tot", exact=True).fill("11:00")
    page.get_by_label("Graag meenemen").fill("Gymschoenen")
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").filter(has_text="Korte termijn").is_visible()
    shot(page, "agenda-form-warning-desktop")
    page.get_by_label("Ja, vraag ouders dit op korte termijn mee te nemen").check()
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Gymles buiten").is_visible()
