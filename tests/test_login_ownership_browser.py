"""Whose login is it, in a real browser: the other school's director and the parent themself."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from klimop.models import StaffMember
from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, log_in_with_the_form, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def test_another_schools_director_cannot_rename_or_readdress_a_parents_login(
    page, live_server, parent, other_director
):
    page.set_viewport_size(DESKTOP)
    log_in_with_the_form(page, live_server, verified(other_director.user))
    page.goto(f"{live_server.url}/admin/klimop/staffmember/add/")
    page.get_by_label("Extern id").fill("AANVAL")
    page.get_by_label("E-mailadres").fill(parent.user.email)
    page.get_by_label("Voornaam").fill("Aan")
    page.get_by_label("Achternaam").fill("Valler")
    page.get_by_role("button", name="Opslaan", exact=True).click()
    page.wait_for_load_state()

    staff = StaffMember.objects.get(external_id="AANVAL")
    page.goto(f"{live_server.url}/admin/klimop/staffmember/{staff.pk}/change/")
    email = page.get_by_label("E-mailadres")
    assert email.is_disabled()
    assert email.input_value() == parent.user.email
    assert page.get_by_label("Voornaam").input_value() == parent.user.first_name
    assert page.get_by_text("Deze login is van de persoon zelf").is_visible()
    shot(page, "login-ownership-staff-form-desktop")

    parent.user.refresh_from_db()
    assert (parent.user.first_name, parent.user.email) != ("Aan", "aanvaller@example.test")
    (notice,) = [m for m in mail.outbox if m.to == [parent.user.email]]
    assert "heeft u toegevoegd" in notice.subject


def test_a_parent_confirms_a_new_contact_address_from_its_mailbox(page, live_server, parent):
    page.set_viewport_size(PHONE)
    log_in_with_the_form(page, live_server, verified(parent.user))
    page.goto(f"{live_server.url}/me/contact/")
    page.get_by_label("E-mailadres voor de school").fill("nieuw.adres@example.test")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_text("We hebben een link gestuurd naar nieuw.adres@example.test")).to_be_visible()
    parent.refresh_from_db()
    assert parent.email == "parent@example.test"

    (confirmation,) = [m for m in mail.outbox if m.to == ["nieuw.adres@example.test"]]
    link = re.search(r"https?://\S+/me/contact/confirm/\S+", confirmation.body).group(0)
    page.goto(live_server.url + "/" + link.split("/", 3)[3])
    assert page.get_by_role("heading", name="Bevestig uw e-mailadres").is_visible()
    shot(page, "contact-email-confirm-phone")
    page.get_by_role("button", name="Ja, gebruik dit adres").click()
    expect(page.get_by_text("de school gebruikt nu nieuw.adres@example.test")).to_be_visible()
    parent.refresh_from_db()
    assert parent.email == "nieuw.adres@example.test"


def test_a_teacher_at_two_schools_switches_school_in_the_account_menu(
    page, live_server, teacher, group, other_group_elsewhere
):
    from tests import factories as f

    f.StaffMemberFactory(
        school=other_group_elsewhere.school, user=teacher.user, groups=[other_group_elsewhere]
    )
    page.set_viewport_size(PHONE)
    log_in_with_the_form(page, live_server, verified(teacher.user))
    page.locator("summary", has_text="Account").first.click()
    expect(page.get_by_text(f"Leerkracht · {teacher.school.name}")).to_be_visible()
    shot(page, "school-switch-menu-phone")
    page.get_by_role("button", name="Wissel naar Basisschool Elders").click()
    page.wait_for_load_state()
    assert page.get_by_text("U werkt nu in Basisschool Elders").is_visible()
    page.goto(f"{live_server.url}/staff/")
    assert page.get_by_role("heading", name="Groep 5a").is_visible()
    page.locator("summary", has_text="Account").first.click()
    expect(page.get_by_text("Leerkracht · Basisschool Elders")).to_be_visible()
    assert page.get_by_role("button", name=f"Wissel naar {teacher.school.name}").is_visible()


def test_a_parent_changes_their_own_name_and_finds_the_login_address_page(page, live_server, parent):
    page.set_viewport_size(PHONE)
    log_in_with_the_form(page, live_server, verified(parent.user))
    page.locator("summary", has_text="Account").first.click()
    page.get_by_role("link", name="Mijn naam").click()
    page.get_by_label("Voornaam").fill("Anna")
    page.get_by_label("Achternaam").fill("de Boer")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_text("Uw naam is opgeslagen.")).to_be_visible()
    shot(page, "my-name-phone")
    parent.user.refresh_from_db()
    assert parent.user.get_full_name() == "Anna de Boer"

    page.locator("summary", has_text="Account").first.click()
    page.get_by_role("link", name="E-mailadres om in te loggen").click()
    page.wait_for_url("**/accounts/email/")
    expect(page.locator("body")).to_contain_text(parent.user.email)
    shot(page, "login-email-phone")
