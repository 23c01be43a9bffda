"""Issue 14 in a real browser, one flow per person. A parent on a phone reports two children
sick where one already was: sees who was reported and who not, reports the other one better
the same day, and sees today's sickness in the history. A director on a desktop imports the
four directory files on one admin page: a bad row first (nothing imported, the problem with
its file, row and column), then only the corrected file chosen again, and the import.
Screenshots go to /tmp/klimop-shots/issue14-*.png."""

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import expect

from absences import services
from absences.models import AbsenceReport
from klimop.models import Group, GuardianRelation, Pupil
from klimop.worktime import AMSTERDAM
from tests import factories as f
from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, fits_the_screen, log_in, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "import"
TUESDAY_0740 = dt.datetime(2026, 11, 24, 7, 40, tzinfo=AMSTERDAM)

if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def new_page(browser, viewport):
    return browser.new_page(viewport=viewport, locale="nl-NL", timezone_id="Europe/Amsterdam")


def test_a_parent_reports_two_children_one_already_sick_and_marks_the_other_better(
    browser, live_server, school, group, other_group, parent, divorced_parent, child
):
    sibling = f.PupilFactory(group=other_group, first_name="Ties", last_name="Testkind")
    f.GuardianRelationFactory(pupil=sibling, guardian=parent)
    verified(parent.user)
    with time_machine.travel(TUESDAY_0740, tick=True) as traveller:
        services.absence_reports_create(
            actor=divorced_parent.user, pupils=[child], kind="sick", starts_on=TUESDAY_0740.date()
        )
        traveller.move_to(TUESDAY_0740 + dt.timedelta(minutes=10))
        page = new_page(browser, PHONE)
        log_in(page, live_server, parent.user)
        page.goto(f"{live_server.url}/afwezigheid/ziekmelden/")
        page.get_by_label("Noor · groep 5a").check()
        page.get_by_label("Ties · groep 6b").check()
        page.get_by_role("button", name="Melding versturen").click()
        page.wait_for_load_state()
        messages = page.locator(".messages")
        expect(messages).to_contain_text("Ties ziek gemeld vanaf dinsdag 24 november")
        expect(messages.locator(".alert--warning")).to_contain_text(
            "Noor was al ziek gemeld vanaf dinsdag 24 november en is daarom niet opnieuw gemeld."
        )
        expect(page.locator(".recover")).to_have_count(2)
        assert fits_the_screen(page)
        shot(page, "issue14-parent-one-already-reported-phone")
        assert AbsenceReport.objects.filter(pupil=sibling).count() == 1
        assert AbsenceReport.objects.filter(pupil=child).count() == 1

        # Ties is better by noon: back tomorrow. Today stays a sick day, in the history.
        traveller.move_to(TUESDAY_0740.replace(hour=12, minute=5))
        ties = page.locator(".absence-child", has_text="Ties Testkind")
        expect(ties.get_by_label("Weer op school op")).to_have_value("2026-11-25")
        ties.get_by_role("button", name="Beter melden").click()
        page.wait_for_load_state()
        expect(page.locator(".messages")).to_contain_text("Fijn dat Ties weer beter is")
        ties = page.locator(".absence-child", has_text="Ties Testkind")
        expect(ties.locator(".recover")).to_have_count(0)
        expect(ties).not_to_contain_text("Gepland")
        expect(ties.locator(".absence-history li")).to_contain_text("Vandaag, di 24 nov")
        expect(ties.locator(".absence-history li")).to_contain_text("Beter")
        expect(ties).not_to_contain_text("Geen afwezigheid in de afgelopen zes weken")
        shot(page, "issue14-parent-better-same-day-phone")
        page.set_viewport_size(DESKTOP)
        shot(page, "issue14-parent-better-same-day-desktop")
        ties.get_by_role("link", name="Alle afwezigheid dit schooljaar").click()
        page.wait_for_load_state()
        expect(page.locator(".register-facts")).to_contain_text("1 schooldag")


def test_a_director_imports_the_four_files_on_one_page(browser, live_server, other_school, other_director):
    f.SchoolYearFactory(school=other_school)
    verified(other_director.user)
    bad = (SAMPLES / "guardians.csv").read_text().replace("L1001,parent,full", "L1001,buurvrouw,full")
    bad_file = {"name": "guardians.csv", "mimeType": "text/csv", "buffer": bad.encode()}
    with time_machine.travel(TUESDAY_0740.replace(hour=10), tick=True):
        desk = new_page(browser, DESKTOP)
        log_in(desk, live_server, other_director.user, "/admin/")
        desk.get_by_role("link", name="Schoolgegevens importeren").click()
        desk.wait_for_load_state()
        expect(desk.locator(".directory-import__lead")).to_contain_text("groepen → medewerkers → leerlingen")
        shot(desk, "issue14-import-empty-desktop")
        for key in ("groups", "staff", "pupils"):
            desk.locator(f"input[name='{key}']").set_input_files(str(SAMPLES / f"{key}.csv"))
        desk.locator("input[name='guardians']").set_input_files(bad_file)
        desk.get_by_role("button", name="Voorbeeld").click()
        desk.wait_for_load_state()
        problems = desk.locator(".directory-import__table tbody tr")
        expect(problems).to_have_count(1)
        expect(problems).to_contain_text("guardians.csv")
        expect(problems.locator("td").nth(1)).to_have_text("3")
        expect(problems).to_contain_text("kind")
        expect(desk.locator(".directory-import__kept")).to_have_count(4)
        expect(desk.locator(".directory-import__kept--bad")).to_contain_text("guardians.csv heeft problemen")
        expect(desk.locator(".directory-import__confirm")).to_have_count(0)
        shot(desk, "issue14-import-bad-row-desktop")
        assert not Group.objects.filter(school=other_school).exists()

        desk.locator("input[name='guardians']").set_input_files(str(SAMPLES / "guardians.csv"))
        desk.get_by_role("button", name="Voorbeeld").click()
        desk.wait_for_load_state()
        expect(desk.locator("#preview-title")).to_have_text("Voorbeeld: nog niets geïmporteerd")
        expect(desk.locator(".directory-import__file")).to_have_count(4)
        expect(desk.locator(".directory-import__file").first).to_contain_text("4 nieuw")
        shot(desk, "issue14-import-preview-desktop")
        desk.get_by_role("button", name="Deze 4 bestanden importeren").click()
        desk.wait_for_load_state()
        expect(desk.locator(".messagelist")).to_contain_text("Geïmporteerd. groups.csv: 4 nieuw")
        shot(desk, "issue14-import-done-desktop")
        assert Pupil.objects.filter(school=other_school).count() == 5
        assert GuardianRelation.objects.filter(pupil__school=other_school).count() == 8
        desk.set_viewport_size(PHONE)
        desk.goto(f"{live_server.url}/admin/import/")
        shot(desk, "issue14-import-empty-phone")
