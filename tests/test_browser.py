"""The portal in a real browser: Debian's Chromium through Playwright against a live server.

Playwright cannot download its own browser on our CI and development machines, so the
launch arguments point at /usr/bin/chromium. Screenshots go to /tmp/klimop-shots/, never into
the repository.
"""

import pytest

from klimop.models import StaffMember
from tests import factories as f
from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, SHOTS, log_in, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


# --- scenarios ------------------------------------------------------------------------------


def test_parent_logs_in_and_sees_child_and_teacher(page, live_server, parent, child, teacher, duo_teacher):
    log_in(page, live_server, verified(parent.user))

    assert page.url == f"{live_server.url}/"
    card = page.get_by_role("article").filter(has_text=child.full_name)
    assert card.is_visible()
    assert card.get_by_text(teacher.user.get_full_name()).is_visible()
    assert card.get_by_text(duo_teacher.user.get_full_name()).is_visible()
    assert page.get_by_role("heading", name=child.full_name).is_visible()


def test_teacher_logs_in_and_sees_the_groups_pupils(page, live_server, teacher, child, barred_child):
    classmate = f.PupilFactory(group=child.group, first_name="Daan", last_name="Klasgenoot")

    log_in(page, live_server, verified(teacher.user))

    assert page.url == f"{live_server.url}/staff/"
    assert page.get_by_role("heading", name="Groep 5a").is_visible()
    assert page.get_by_role("link", name=child.full_name).is_visible()
    assert page.get_by_role("link", name=classmate.full_name).is_visible()
    assert barred_child.first_name not in page.content()

    page.get_by_role("link", name=child.full_name).click()
    assert page.get_by_role("heading", name=child.full_name).is_visible()


def test_barred_parent_sees_nothing_of_the_barred_child(
    page, live_server, barred_parent, barred_child, other_teacher
):
    log_in(page, live_server, verified(barred_parent.user))

    assert page.get_by_text("Er zijn (nog) geen kinderen aan uw account gekoppeld.").is_visible()
    html = page.content()
    assert barred_child.first_name not in html
    assert other_teacher.user.get_full_name() not in html


def test_wrong_password_shows_the_error_in_dutch(page, live_server, parent):
    verified(parent.user)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mailadres").fill(parent.user.email)
    page.get_by_label("Wachtwoord", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Inloggen").click()

    assert page.get_by_role("alert").is_visible()
    assert "/accounts/login/" in page.url


def test_account_menu_logs_out(page, live_server, parent, child):
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, verified(parent.user))

    page.locator("details.account-menu > summary").click()
    page.get_by_role("button", name="Uitloggen").click()

    page.wait_for_url(f"{live_server.url}/accounts/login/**")
    assert page.get_by_role("button", name="Inloggen").is_visible()


# --- screenshots: phone and desktop ------------------------------------------------------------


@pytest.fixture
def demo_school(
    school, group, other_group, teacher, duo_teacher, director, child, parent, divorced_parent, info_parent
):
    """A few more pupils and a second child, so the pages look like a real school."""
    names = [
        "Sanne de Vries",
        "Milan Jansen",
        "Julia van den Berg",
        "Luuk Bakker",
        "Tess Visser",
        "Finn Smit",
        "Mila Meijer",
        "Lucas de Boer",
    ]
    for name in names:
        first, last = name.split(" ", 1)
        f.PupilFactory(group=group, first_name=first, last_name=last)
    for name in ["Emma Mulder", "Daan de Groot", "Zoë Bos"]:
        first, last = name.split(" ", 1)
        f.PupilFactory(group=other_group, first_name=first, last_name=last)
    f.StaffMemberFactory(
        school=school, groups=[other_group], user__email="groep6@example.test", role=StaffMember.Role.TEACHER
    )
    sibling = f.PupilFactory(group=other_group, first_name="Bram", last_name=child.last_name)
    f.GuardianRelationFactory(pupil=sibling, guardian=parent)
    for user in (parent.user, teacher.user, director.user):
        verified(user)
    return {"parent": parent, "teacher": teacher, "director": director, "child": child}


@pytest.mark.parametrize("size_name", ["phone", "desktop"])
def test_screenshots(page, live_server, demo_school, size_name):
    page.set_viewport_size(PHONE if size_name == "phone" else DESKTOP)

    page.goto(f"{live_server.url}/accounts/login/")
    shot(page, f"login-{size_name}")
    page.goto(f"{live_server.url}/accounts/password/reset/")
    shot(page, f"password-reset-{size_name}")

    log_in(page, live_server, demo_school["parent"].user)
    shot(page, f"home-{size_name}")
    page.goto(f"{live_server.url}/pupils/{demo_school['child'].pk}/")
    shot(page, f"pupil-parent-{size_name}")
    page.goto(f"{live_server.url}/me/contact/")
    shot(page, f"contact-details-{size_name}")

    page.context.clear_cookies()
    log_in(page, live_server, demo_school["teacher"].user)
    shot(page, f"dashboard-{size_name}")
    page.goto(f"{live_server.url}/pupils/{demo_school['child'].pk}/")
    shot(page, f"pupil-teacher-{size_name}")

    assert (SHOTS / f"home-{size_name}.png").stat().st_size > 0
