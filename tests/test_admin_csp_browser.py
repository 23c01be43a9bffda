"""The admin, django-import-export and allauth pages under the Content-Security-Policy, in Chromium.

tests/test_security_headers.py proves the HTML has no inline code; this proves the scripts of
Django's admin, import-export, django-celery-beat and allauth do not add any at run time
(calendars, selectors, "select all"): tests/conftest.py fails a browser test on any
Content-Security-Policy report on the console.
"""

import pytest
from playwright.sync_api import expect

from klimop.models import StaffMember, User
from tests import factories as f
from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, log_in, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def _visit(page, live_server, path):
    response = page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("networkidle")
    assert response.status == 200, path
    return response


def test_the_directors_admin_and_imports_run_without_policy_violations(
    page, live_server, school, group, child, parent
):
    director = f.StaffMemberFactory(
        school=school, role=StaffMember.Role.DIRECTOR, user__email="director@example.test"
    )
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, verified(director.user), "/admin/")
    assert page.locator("#content").is_visible()

    _visit(page, live_server, "/admin/klimop/pupil/")
    page.locator("#action-toggle").check()  # the actions bar (admin/js/actions.js)
    page.locator("#changelist-filter").first.is_visible()

    _visit(page, live_server, "/admin/klimop/pupil/add/")
    page.locator(".datetimeshortcuts a").first.click()  # "today" of the date widget
    calendar = page.locator(".datetimeshortcuts a").nth(1)
    calendar.click()  # opens the calendar popup (admin/js/calendar.js)
    expect(page.locator(".calendarbox").first).to_be_visible()

    _visit(page, live_server, f"/admin/klimop/guardian/{parent.pk}/change/")
    _visit(page, live_server, f"/admin/klimop/group/{group.pk}/change/")
    _visit(page, live_server, f"/admin/klimop/school/{school.pk}/change/")

    _visit(page, live_server, "/admin/klimop/pupil/import/")
    _visit(page, live_server, "/admin/klimop/pupil/export/")
    toggle = page.locator("input.select-toggle")
    if toggle.count():  # "Select all" (templates/admin/import_export/export.html)
        toggle.uncheck()
        assert page.locator(".selectable-field-export-row input[type=checkbox]:checked").count() == 0
        toggle.check()
        assert page.locator(".selectable-field-export-row input[type=checkbox]:checked").count() > 0
    shot(page, "csp-admin-export")


def test_the_superusers_periodic_tasks_and_users_run_without_policy_violations(page, live_server):
    admin = User.objects.create_superuser(email="beheer@example.test", password="test-password-123")
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, verified(admin), "/admin/")
    _visit(page, live_server, "/admin/django_celery_beat/periodictask/add/")
    _visit(page, live_server, "/admin/django_celery_beat/crontabschedule/add/")
    _visit(page, live_server, "/admin/klimop/user/add/")
    _visit(page, live_server, "/admin/auth/group/add/")  # the permissions' two-list selector
    shot(page, "csp-admin-group")


def test_the_login_password_reset_and_two_factor_pages_run_without_policy_violations(
    page, live_server, teacher
):
    page.set_viewport_size(PHONE)
    _visit(page, live_server, "/accounts/login/")
    _visit(page, live_server, "/accounts/password/reset/")
    log_in(page, live_server, verified(teacher.user), "/accounts/2fa/")
    _visit(page, live_server, "/accounts/2fa/totp/activate/")
    shot(page, "csp-2fa-phone")


def test_what_was_inline_code_still_works(page, live_server, parent, child, other_group, director):
    """The copy buttons, the agenda's filter that submits itself and the bars' widths moved from
    inline code to static/js/klimop.js."""
    sibling = f.PupilFactory(group=other_group, first_name="Bram", last_name=child.last_name)
    f.GuardianRelationFactory(pupil=sibling, guardian=parent)
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, live_server, verified(parent.user), "/agenda/")

    page.locator("#agenda-groep").select_option(str(other_group.pk))  # no button: it submits
    page.wait_for_url(f"**/agenda/?groep={other_group.pk}")

    page.goto(f"{live_server.url}/agenda/abonneren/")
    page.get_by_role("button", name="Maak mijn persoonlijke link").click()
    page.wait_for_load_state()
    copy = page.locator("[data-copy=feed-https]")
    copy.click()
    # The button says so once the clipboard has the link: writing it is a promise.
    expect(copy).to_have_text("Gekopieerd")
    assert page.evaluate("() => navigator.clipboard.readText()") == page.locator("#feed-https").input_value()

    page.context.clear_cookies()
    log_in(page, live_server, verified(director.user), "/kwaliteit/")
    targets = page.eval_on_selector_all(".q-meter__target", "els => els.map(e => e.style.left)")
    fills = page.eval_on_selector_all(".q-meter__fill", "els => els.map(e => e.style.width)")
    assert targets
    assert fills
    assert all(left.endswith("%") and left != "0%" for left in targets), targets
    assert all(width.endswith("%") for width in fills), fills
