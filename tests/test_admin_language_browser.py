"""The director's admin in a browser: Dutch throughout, also what the admin's scripts write
(the two-box selector of a teacher's groups), and the portal's language switch in the user
tools, which turns the admin English and back and is remembered on the login."""

import pytest
from playwright.sync_api import expect

from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, log_in_with_the_form, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def test_the_director_reads_the_admin_in_dutch_and_switches_to_english(page, live_server, director, teacher):
    page.set_viewport_size(DESKTOP)
    log_in_with_the_form(
        page, live_server, verified(director.user), next_path="/accounts/login/?next=/admin/"
    )
    tools = page.locator("#user-tools")
    expect(tools.get_by_role("button", name="Nederlands")).to_have_attribute("aria-pressed", "true")
    expect(tools.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "false")
    shot(page, "admin-language-index-nl-desktop")

    # A teacher's groups: the selector the admin's script builds speaks Dutch too.
    page.goto(f"{live_server.url}/admin/klimop/staffmember/{teacher.pk}/change/")
    selector, groups = page.locator(".selector"), "groepen waaraan lesgegeven wordt"  # "groups taught"
    expect(selector.locator(".selector-available-title label")).to_contain_text(f"Beschikbare {groups}")
    expect(selector.locator(".selector-chooseall")).to_have_text(f"Alle {groups} kiezen")
    expect(selector.locator(".selector-clearall")).to_have_text(f"Alle {groups} verwijderen")
    expect(page.locator("body")).not_to_contain_text("Choose")
    expect(page.get_by_role("heading", level=1)).to_have_text("Medewerker wijzigen")
    expect(page.get_by_text("Voornaam:", exact=True)).to_be_visible()
    shot(page, "admin-language-staff-nl-desktop")

    # English: the same page, every label in English, and the choice is kept on the login.
    with page.expect_navigation(wait_until="load"):
        tools.get_by_role("button", name="English").click()
    assert page.url == f"{live_server.url}/admin/klimop/staffmember/{teacher.pk}/change/"
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(selector.locator(".selector-chooseall")).to_have_text("Choose all groups taught")
    expect(page.get_by_role("heading", level=1)).to_have_text("Change staff member")
    expect(tools.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")
    shot(page, "admin-language-staff-en-desktop")
    director.user.refresh_from_db()
    assert director.user.language == "en"

    page.goto(f"{live_server.url}/admin/klimop/staffmember/")
    days = page.locator("tr", has_text=teacher.user.get_full_name()).locator("td.field-weekdays")
    expect(days).to_have_text("Mon Tue Wed")
    shot(page, "admin-language-staff-list-en-desktop")

    with page.expect_navigation(wait_until="load"):
        tools.get_by_role("button", name="Nederlands").click()
    expect(days).to_have_text("ma di wo")
    expect(page.get_by_role("heading", name="Selecteer medewerker om te wijzigen")).to_be_visible()

    # On a phone the switch stays within reach in the header.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/admin/")
    expect(tools.get_by_role("button", name="English")).to_be_in_viewport()
    shot(page, "admin-language-index-nl-phone")
