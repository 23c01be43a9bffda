"""The portal in a real browser: Debian's Chromium through Playwright against a live server.

Playwright cannot download its own browser on our CI and development machines, so the
launch arguments point at Debian's (tests/browser.py). Screenshots go to /tmp/klimop-shots/, never into
the repository.
"""

import pytest
from playwright.sync_api import expect

from klimop.models import StaffMember
from klimop.notifications.management.commands.webpush_keys import generate_vapid_keys
from tests import factories as f
from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, fits_the_screen, log_in_with_the_form, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


# --- scenarios ------------------------------------------------------------------------------


def test_parent_logs_in_and_sees_child_and_teacher(page, live_server, parent, child, teacher, duo_teacher):
    log_in_with_the_form(page, live_server, verified(parent.user))

    assert page.url == f"{live_server.url}/"
    card = page.get_by_role("article").filter(has_text=child.full_name)
    assert card.is_visible()
    assert card.get_by_text(teacher.user.get_full_name()).is_visible()
    assert card.get_by_text(duo_teacher.user.get_full_name()).is_visible()
    expect(page.get_by_role("heading", name=child.full_name)).to_be_visible()


def test_teacher_logs_in_and_sees_the_groups_pupils(page, live_server, teacher, child, barred_child):
    classmate = f.PupilFactory(group=child.group, first_name="Daan", last_name="Klasgenoot")

    log_in_with_the_form(page, live_server, verified(teacher.user))

    assert page.url == f"{live_server.url}/staff/"
    assert page.get_by_role("heading", name="Groep 5a").is_visible()
    assert page.get_by_role("link", name=child.full_name).is_visible()
    assert page.get_by_role("link", name=classmate.full_name).is_visible()
    assert barred_child.first_name not in page.content()

    page.get_by_role("link", name=child.full_name).click()
    expect(page.get_by_role("heading", name=child.full_name)).to_be_visible()


def test_barred_parent_sees_nothing_of_the_barred_child(
    page, live_server, barred_parent, barred_child, other_teacher
):
    log_in_with_the_form(page, live_server, verified(barred_parent.user))

    assert page.get_by_role("heading", name="De school kan u via Klimop geen informatie geven").is_visible()
    assert page.get_by_role("link", name="010-0000000").is_visible()
    html = page.content()
    assert barred_child.first_name not in html
    assert other_teacher.user.get_full_name() not in html


def test_wrong_password_shows_the_error_in_dutch(page, live_server, parent):
    verified(parent.user)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mailadres").fill(parent.user.email)
    page.get_by_label("Wachtwoord", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Inloggen").click()

    expect(page.get_by_role("alert")).to_be_visible()
    assert "/accounts/login/" in page.url


@pytest.fixture
def vapid(settings):
    public, private = generate_vapid_keys()
    settings.WEBPUSH_VAPID_PUBLIC_KEY, settings.WEBPUSH_VAPID_PRIVATE_KEY = public, private


@pytest.mark.full_browser  # the push invitation shows only where push messages exist
def test_on_a_desktop_a_parent_reads_the_menu_dismisses_the_push_invitation_and_logs_out(
    page, live_server, parent, child, vapid
):
    """At 1280 px every destination has its label beside its icon; the invitation to turn on
    notifications goes away with "Niet nu" and stays away on this device after a reload."""
    page.set_viewport_size(DESKTOP)
    log_in_with_the_form(page, live_server, verified(parent.user))

    nav = page.get_by_role("navigation", name="Hoofdmenu")
    for name in ("Home", "Berichten", "Gesprekken", "Agenda", "Meldingen"):
        link = nav.get_by_role("link", name=name)
        expect(link).to_be_visible()
        label = link.locator(".main-nav__label")
        expect(label).to_be_visible()
        icon, text = link.locator("svg").bounding_box(), label.bounding_box()
        assert icon is not None
        assert text is not None
        assert text["width"] > 20, name  # shown, not only for screen readers
        assert text["x"] >= icon["x"] + icon["width"] - 1, name  # beside the icon, not under it
        assert abs((text["y"] + text["height"] / 2) - (icon["y"] + icon["height"] / 2)) < 4, name

    quick = page.get_by_role("navigation", name="Snelle acties")
    expect(quick.get_by_role("link", name="Ziekmelden")).to_be_visible()
    expect(quick.get_by_role("link", name="Privacy")).to_be_visible()

    invite = page.get_by_role("region", name="Mis geen bericht")
    expect(invite).to_be_visible()
    expect(invite.get_by_role("button", name="Aanzetten")).to_be_enabled()
    shot(page, "home-push-invite-desktop")
    invite.get_by_role("button", name="Niet nu").click()
    expect(invite).to_be_hidden()
    page.reload()  # waits for "load": the deferred push.js has run by then
    assert page.evaluate("document.getElementById('push-invite').hidden") is True
    expect(page.get_by_role("heading", name=child.full_name)).to_be_visible()
    # Remembered on this device only: without it, the invitation is back.
    page.evaluate("window.localStorage.clear()")
    page.reload()
    expect(invite).to_be_visible()

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
def test_the_first_pages_fit_the_screen_of_a_phone_and_a_desktop(
    page, live_server, demo_school, size_name, vapid
):
    """Login, password reset, the parent's home (with the push invitation), a pupil, contact
    details, the teacher's and the director's dashboard: none scrolls sideways (pictures with
    KLIMOP_SHOTS=1, tests/browser.py)."""
    wide = []
    page.set_viewport_size(PHONE if size_name == "phone" else DESKTOP)

    def look(name):
        shot(page, f"{name}-{size_name}")
        if not fits_the_screen(page):
            wide.append(page.url)

    page.goto(f"{live_server.url}/accounts/login/")
    look("login")
    page.goto(f"{live_server.url}/accounts/password/reset/")
    look("password-reset")

    log_in_with_the_form(page, live_server, demo_school["parent"].user)
    look("home")
    page.goto(f"{live_server.url}/pupils/{demo_school['child'].pk}/")
    look("pupil-parent")
    page.goto(f"{live_server.url}/me/contact/")
    look("contact-details")

    page.context.clear_cookies()
    log_in_with_the_form(page, live_server, demo_school["teacher"].user)
    look("dashboard")
    page.goto(f"{live_server.url}/pupils/{demo_school['child'].pk}/")
    look("pupil-teacher")

    page.context.clear_cookies()
    log_in_with_the_form(page, live_server, demo_school["director"].user)
    look("dashboard-director")

    assert not wide, f"scrolls sideways at {size_name} width: {wide}"
