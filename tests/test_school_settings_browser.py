"""All of a school's settings on one page of the admin: the school's own and each feature's."""

import pytest

from absences.models import AbsenceSettings
from conversations.models import PlannerSettings
from tests.browser import DESKTOP, HAS_CHROMIUM, log_in, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def test_the_director_changes_a_features_setting_on_the_schools_page(page, live_server, director):
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, verified(director.user))
    page.goto(f"{live_server.url}/admin/klimop/school/{director.school_id}/change/")
    for heading in (
        "Instellingen afwezigheid",
        "Instellingen gesprekkenplanner",
        "Privacy-instellingen",
        "Doelen kwaliteitskaart",
    ):
        assert page.get_by_role("heading", name=heading).first.is_visible(), heading
    page.locator("#id_absence_settings-0-lessons_start").fill("08:45")
    page.locator("#id_planner_settings-0-planner_opens_days_before").fill("10")
    shot(page, "school-settings-one-page-desktop")
    page.get_by_role("button", name="Opslaan", exact=True).click()
    page.wait_for_load_state()
    assert page.locator(".messagelist .success").first.is_visible()
    assert (
        AbsenceSettings.objects.get(school_id=director.school_id).lessons_start.strftime("%H:%M") == "08:45"
    )
    planner = PlannerSettings.objects.get(school_id=director.school_id)
    assert (planner.planner_opens_days_before, planner.child_attends_years) == (10, [5, 6, 7, 8])
