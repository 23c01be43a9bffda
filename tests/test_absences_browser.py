"""Absences in a real browser: a parent reports two children sick at 07:50 on a phone; at 08:20 the
teachers of both groups see them (each only their own group), and the list prints. A parent requests
leave, the director decides in the admin, the parent reads and prints the decision.
Screenshots go to /tmp/klimop-shots/absences-*.png."""

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import expect

from absences.models import AbsenceReport, LeaveRequest
from klimop.worktime import AMSTERDAM
from tests import factories as f
from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, log_in, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TUESDAY_0750 = dt.datetime(2026, 11, 24, 7, 50, tzinfo=AMSTERDAM)
TUESDAY_0820 = dt.datetime(2026, 11, 24, 8, 20, tzinfo=AMSTERDAM)


def new_page(browser, viewport):
    # A Dutch browser, so date fields read dd-mm-jjjj as a Dutch parent sees them.
    return browser.new_page(viewport=viewport, locale="nl-NL", timezone_id="Europe/Amsterdam")


def show_include(page, live_server, user, name, viewport):
    """An include template as the lead will embed it (dashboard, home), on the site's own CSS."""
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    html = render_to_string(f"absences/{name}.html", {"request": request})
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/healthz")
    page.set_content(
        f'<!DOCTYPE html><html lang="nl"><head><meta name="viewport" content="width=device-width">'
        f'<link rel="stylesheet" href="/static/css/klimop.css"></head><body><main class="site-main">'
        f'<div class="container">{html}</div></main></body></html>',
        wait_until="networkidle",
    )
    return page


if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
def cast(school, group, other_group, teacher, other_teacher, director, child, parent):
    sibling = f.PupilFactory(group=other_group, first_name="Ties", last_name="Testkind")
    f.GuardianRelationFactory(pupil=sibling, guardian=parent)
    for i, name in enumerate(("Puck", "Jelte", "Marit")):
        classmate = f.PupilFactory(group=group, first_name=name, last_name="Valkenhorst")
        if i == 0:
            with time_machine.travel(TUESDAY_0750 - dt.timedelta(days=5), tick=False):
                # A spell since last Thursday, reported by phone: school day 3 today.
                from absences import services

                services.absence_reports_create(
                    actor=teacher.user,
                    pupils=[classmate],
                    kind="sick",
                    starts_on=dt.date(2026, 11, 19),
                    channel="phone",
                    caller="vader",
                    note="Griep",
                )
    for person in (teacher.user, other_teacher.user, director.user, parent.user):
        verified(person)
    return {"sibling": sibling}


def test_a_parent_reports_two_children_sick_and_both_teachers_see_them_at_the_cutoff(
    browser, live_server, cast, parent, teacher, other_teacher
):
    with time_machine.travel(TUESDAY_0750, tick=True) as traveller:
        page = new_page(browser, PHONE)
        log_in(page, live_server, parent.user)
        page.goto(f"{live_server.url}/afwezigheid/")
        shot(page, "absences-parent-overview-phone")
        page.get_by_role("link", name="Ziek melden").first.click()
        page.wait_for_load_state()
        expect(page.locator(".cutoff-note")).to_contain_text("08:20")
        expect(page.locator(".cutoff-note")).to_contain_text("010-0000000")
        page.get_by_label("Noor · groep 5a").check()
        page.get_by_label("Ties · groep 6b").check()
        expect(page.get_by_label("Ziek", exact=True)).to_be_checked()
        expect(page.get_by_label("Eerste dag", exact=True)).to_have_value("2026-11-24")
        # Times belong to appointments: hidden for a sick report.
        expect(page.locator("[data-show-for='appointment late']").first).to_be_hidden()
        page.get_by_label("Toelichting voor de leerkracht (optioneel)").fill("Allebei koorts sinds vannacht.")
        shot(page, "absences-report-phone")
        page.get_by_role("button", name="Melding versturen").click()
        page.wait_for_load_state()
        expect(page.locator(".messages")).to_contain_text("Noor, Ties ziek gemeld vanaf dinsdag 24 november")
        expect(page.locator(".recover")).to_have_count(2)
        shot(page, "absences-reported-phone")
        assert AbsenceReport.objects.filter(reported_late=False).count() == 3

        # At the cutoff, each teacher sees their own group's absences.
        traveller.move_to(TUESDAY_0820)
        desk = new_page(browser, DESKTOP)
        log_in(desk, live_server, teacher.user)
        desk.goto(f"{live_server.url}/afwezigheid/vandaag/")
        rows = desk.locator(".absence-row")
        expect(rows).to_have_count(2)
        expect(desk.locator(".absence-row", has_text="Noor Testkind")).to_contain_text("Op tijd")
        expect(desk.locator(".absence-row", has_text="Noor Testkind")).to_contain_text("Allebei koorts")
        expect(desk.locator(".absence-row", has_text="Puck Valkenhorst")).to_contain_text("schooldag 4")
        expect(desk.get_by_text("Ties Testkind")).to_have_count(0)
        shot(desk, "absences-teacher-today-desktop")
        desk.set_viewport_size(PHONE)
        shot(desk, "absences-teacher-today-phone")
        card = show_include(new_page(browser, DESKTOP), live_server, teacher.user, "_staff_today", DESKTOP)
        expect(card.locator(".absence-row")).to_have_count(2)
        shot(card, "absences-dashboard-card-desktop")
        card = show_include(card, live_server, parent.user, "_parent_card", PHONE)
        expect(card.locator(".absence-card__list li")).to_have_count(2)
        shot(card, "absences-home-card-phone")

        other = new_page(browser, DESKTOP)
        log_in(other, live_server, other_teacher.user)
        other.goto(f"{live_server.url}/afwezigheid/vandaag/")
        expect(other.locator(".absence-row")).to_have_count(1)
        expect(other.locator(".absence-row")).to_contain_text("Ties Testkind")

        desk.set_viewport_size(DESKTOP)
        desk.goto(f"{live_server.url}/afwezigheid/vandaag/afdrukken/")
        expect(desk.locator(".print-table tbody tr")).to_have_count(2)
        shot(desk, "absences-teacher-print-desktop")
        desk.emulate_media(media="print")
        expect(desk.locator(".print-toolbar")).to_be_hidden()
        shot(desk, "absences-teacher-print-media")

        # A late report (after the cutoff) is marked late on the teacher's list.
        traveller.move_to(TUESDAY_0820 + dt.timedelta(minutes=15))
        page.goto(f"{live_server.url}/afwezigheid/melden/?soort=late")
        expect(page.locator(".cutoff-note")).to_contain_text("te laat")
        shot(page, "absences-report-late-phone")


def test_a_parent_requests_leave_and_reads_the_directors_decision(
    browser, live_server, cast, parent, director, child
):
    with time_machine.travel(dt.datetime(2026, 11, 24, 19, 0, tzinfo=AMSTERDAM), tick=True) as traveller:
        page = new_page(browser, PHONE)
        log_in(page, live_server, parent.user)
        page.goto(f"{live_server.url}/verlof/aanvragen/")
        page.get_by_label("Noor · groep 5a").check()
        page.get_by_label("Extra vakantieverlof vanwege het beroep van een ouder (art. 13a)").check()
        page.get_by_label("Eerste verlofdag").fill("2026-12-14")
        page.get_by_label("Laatste verlofdag").fill("2026-12-18")
        page.get_by_label("Reden").fill("Mijn man werkt in de kassenteelt; in de zomer is er geen vrij.")
        # The live check: five school days, and two warnings (late, no statement).
        expect(page.locator("[data-leave-check]")).to_contain_text("5 schooldagen")
        expect(page.locator(".leave-check__warning")).to_have_count(2)
        shot(page, "absences-leave-form-phone")
        page.get_by_role("button", name="Aanvraag versturen").click()
        page.wait_for_load_state()
        expect(page.locator(".field__errors")).to_contain_text("licht de omstandigheden hier toe")
        expect(page.get_by_label("Reden")).to_have_value(
            "Mijn man werkt in de kassenteelt; in de zomer is er geen vrij."
        )
        page.get_by_label("Toelichting (als de school u waarschuwt)").fill(
            "Het rooster voor december kwam vorige week; de verklaring volgt per post."
        )
        page.get_by_role("button", name="Aanvraag versturen").click()
        page.wait_for_load_state()
        expect(page.locator(".leave-steps .is-current")).to_contain_text("Bij de directeur")
        shot(page, "absences-leave-sent-phone")
        leave = LeaveRequest.objects.get()

        traveller.move_to(dt.datetime(2026, 11, 25, 9, 0, tzinfo=AMSTERDAM))
        desk = new_page(browser, DESKTOP)
        card = show_include(desk, live_server, director.user, "_director_leave", DESKTOP)
        expect(card.locator(".leave-open__list li")).to_have_count(1)
        shot(card, "absences-dashboard-leave-desktop")
        log_in(desk, live_server, director.user)
        desk.goto(f"{live_server.url}/admin/absences/leaverequest/")
        expect(desk.locator("#result_list tbody tr")).to_have_count(1)
        shot(desk, "absences-admin-list-desktop")
        desk.locator("#result_list tbody tr a").first.click()
        desk.wait_for_load_state()
        desk.get_by_label("Toekennen").check()
        desk.get_by_label("Motivering:").fill(
            "Het seizoenswerk van vader is aannemelijk; de werkgeversverklaring volgt. Eenmalig toegekend."
        )
        shot(desk, "absences-admin-decide-desktop")
        desk.get_by_role("button", name="Opslaan", exact=True).click()
        desk.wait_for_load_state()
        leave.refresh_from_db()
        assert leave.status == LeaveRequest.Status.GRANTED

        page.goto(f"{live_server.url}/verlof/{leave.pk}/")
        expect(page.locator(".decision")).to_contain_text("Eenmalig toegekend")
        expect(page.locator(".decision__objection")).to_contain_text("binnen zes weken")
        shot(page, "absences-leave-decided-phone")
        page.goto(f"{live_server.url}/verlof/{leave.pk}/besluit/")
        page.set_viewport_size(DESKTOP)
        expect(page.locator(".letter")).to_contain_text("Besluit op uw verlofaanvraag")
        shot(page, "absences-leave-letter-desktop")


def test_the_office_sees_the_register_and_a_teacher_records_a_phone_report(
    browser, live_server, cast, teacher, office, child
):
    from absences import services

    verified(office.user)
    for day in (dt.date(2026, 11, 16), dt.date(2026, 11, 17), dt.date(2026, 11, 18)):
        with time_machine.travel(dt.datetime.combine(day, dt.time(10), tzinfo=AMSTERDAM), tick=False):
            services.absence_reports_create(
                actor=teacher.user, pupils=[child], kind="unexplained", starts_on=day, channel="school"
            )
    with time_machine.travel(TUESDAY_0820 + dt.timedelta(minutes=25), tick=True):
        desk = new_page(browser, DESKTOP)
        log_in(desk, live_server, office.user)
        desk.goto(f"{live_server.url}/afwezigheid/register/")
        expect(desk.locator("table").first).to_contain_text("Noor Testkind")
        expect(desk.locator("table").first).to_contain_text("18 november 2026")
        shot(desk, "absences-register-desktop")

        page = new_page(browser, PHONE)
        log_in(page, live_server, teacher.user)
        page.goto(f"{live_server.url}/afwezigheid/registreren/")
        page.get_by_label("Leerling").select_option(label="Jelte Valkenhorst · groep 5a")
        page.get_by_label("Huisarts, tandarts of ziekenhuis").check()
        page.get_by_label("Wie belde?").fill("moeder")
        page.get_by_label("Van", exact=True).fill("10:00")
        page.get_by_label("Tot", exact=True).fill("11:30")
        shot(page, "absences-staff-report-phone")
        page.get_by_role("button", name="Opslaan").click()
        page.wait_for_load_state()
        row = page.locator(".absence-row", has_text="Jelte Valkenhorst")
        expect(row).to_contain_text("10:00–11:30")
        expect(row).to_contain_text("Te laat")
        expect(row).to_contain_text("telefonisch")
