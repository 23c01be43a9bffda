"""Privacy preferences in a real browser: a parent withdraws, the teacher sees it at once.

Debian's Chromium through Playwright against a live server (see tests/test_browser.py).
Screenshots go to /tmp/klimop-shots/privacy-*.png, never into the repository.
"""

import pytest

from klimop.privacy import services as services
from klimop.privacy.models import ConsentPurpose
from tests import factories as f
from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, log_in, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def test_parent_withdraws_group_page_consent_and_the_teacher_sees_it(
    page, live_server, child, parent, divorced_parent, teacher, duo_teacher, group
):
    # Both custodial parents agreed to everything; a classmate has no consent at all.
    for guardian in (parent, divorced_parent):
        services.consent_set_many(
            actor=guardian.user, pupil=child, choices=dict.fromkeys(ConsentPurpose.values, True)
        )
    # The other parent said no to video: the parent sees "the stricter choice applies".
    services.consent_set(actor=divorced_parent.user, pupil=child, purpose=ConsentPurpose.VIDEO, granted=False)
    classmate = f.PupilFactory(group=group, first_name="Daan", last_name="Jansen")
    classmate_parent = f.GuardianRelationFactory(pupil=classmate).guardian
    services.consent_set_many(
        actor=classmate_parent.user, pupil=classmate, choices=dict.fromkeys(ConsentPurpose.values, True)
    )
    sibling = f.PupilFactory(
        group=group,
        first_name="Fenna",
        last_name="Testkind",
        date_of_birth=child.date_of_birth.replace(year=2019),
    )
    f.GuardianRelationFactory(pupil=sibling, guardian=parent)

    page.set_viewport_size(PHONE)
    log_in(page, live_server, verified(parent.user), "/privacy/")
    assert page.url == f"{live_server.url}/privacy/"
    card = page.locator(f"#child-{child.pk}")
    switch = card.get_by_role("switch", name="Foto's op de groepspagina")
    assert switch.is_checked()
    assert card.get_by_text("De strengste keuze geldt").is_visible()
    shot(page, "privacy-parent-phone")

    switch.set_checked(False, force=True)
    card.get_by_role("button", name=f"Keuzes voor {child.first_name} opslaan").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text(f"Uw keuzes voor {child.first_name} zijn opgeslagen.").is_visible()
    assert (
        not page.locator(f"#child-{child.pk}")
        .get_by_role("switch", name="Foto's op de groepspagina")
        .is_checked()
    )
    shot(page, "privacy-parent-phone-saved")

    page.context.clear_cookies()
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, verified(teacher.user), f"/privacy/groep/{group.pk}/")
    row = page.locator(f"tr[data-pupil='{child.pk}']")
    assert row.get_by_text("Niet herkenbaar").is_visible()
    assert page.get_by_role("note").filter(has_text=child.full_name).is_visible()
    assert page.locator(f"tr[data-pupil='{classmate.pk}']").get_by_text("Niet herkenbaar").count() == 0
    shot(page, "privacy-teacher-desktop")


def test_office_overview_on_desktop(page, live_server, office, group, other_group, child, parent):
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, verified(office.user), "/privacy/overzicht/")
    assert page.get_by_role("link", name="Groep 5a").is_visible()
    shot(page, "privacy-office-desktop")
