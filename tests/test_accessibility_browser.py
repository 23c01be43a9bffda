"""Accessibility: axe-core (WCAG 2.1 A and AA, 24 px touch targets) on every page of every role.

One test per role logs in once and visits each page that role uses: the main navigation's
targets and the detail pages they link to. The director and the office share the staff pages
the teacher's test checks (posts, chats, agenda): their tests check the pages only they have,
and between them every admin page they work in (the director's: school settings, the school
year, leave requests, conversation rounds, surveys; the office's: pupils, guardians, groups,
staff, consent, the imports). Every page is checked at phone width (390 px) and then, without
reloading, at desktop width (1280 px); so are a page with a message of the messages framework
and a form sent back with errors. A serious or critical violation fails the test; the message
names each one's rule, the elements and the page explaining the rule (tests/axe.py).

The cast has something in every list: a post with two photos, a chat with messages, a sick
report for today, a leave request, a parent-conversation round with a booking, an event and a
study day.
"""

import datetime as dt
import io
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import expect

from absences import services as absence_services
from absences.models import LeaveRequest
from communication.agenda import services as agenda_services
from communication.chats import services as chat_services
from communication.chats.models import Conversation
from communication.posts import services as post_services
from conversations import services as planner_services
from klimop.models import NonSchoolDay
from klimop.notifications.management.commands.webpush_keys import generate_vapid_keys
from klimop.worktime import AMSTERDAM
from tests.axe import add_axe, describe, serious_violations
from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, log_in, shot, verified
from tests.planner_times import WHILE_OPEN

pytest_plugins = ["tests.planner_cast"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)

#: Tuesday 19 January 2027: the teacher works, the post and the event are made.
BEFORE = dt.datetime(2027, 1, 19, 10, 0, tzinfo=AMSTERDAM)
#: Wednesday 27 January 2027, 10:00: the round is open for booking; the pages are checked.
NOW = WHILE_OPEN


def _jpeg(color):
    out = io.BytesIO()
    Image.new("RGB", (800, 600), color).save(out, format="JPEG")
    return SimpleUploadedFile("foto.jpg", out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def world(school, school_year, group, teacher, director, office, child, parent, divorced_parent, slots_5a):
    for person in (teacher, director, office, parent):
        verified(person.user)
    with time_machine.travel(BEFORE, tick=False):
        post = post_services.post_create(
            actor=teacher.user,
            group=group,
            title="Herfstwandeling in het park",
            body="We liepen door het park en zochten kastanjes.",
            photos=[_jpeg((200, 120, 40)), _jpeg((60, 140, 90))],
            consent_confirmed=True,
        )
        event = agenda_services.event_create(
            actor=teacher.user,
            group=group,
            title="Excursie naar de kinderboerderij",
            starts_at=dt.datetime(2027, 2, 3, 9, 0, tzinfo=AMSTERDAM),
            ends_at=dt.datetime(2027, 2, 3, 12, 0, tzinfo=AMSTERDAM),
            location="Kinderboerderij",
            bring="Laarzen",
        )
        chat_services.child_conversations_sync(school_year=school_year)
        chat = Conversation.objects.get(kind="child", pupil=child)
        chat_services.message_send(actor=parent.user, conversation=chat, body="Is de gymles morgen buiten?")
        chat_services.message_send(actor=teacher.user, conversation=chat, body="Ja, graag sportschoenen mee.")
        leave = absence_services.leave_request_create(
            actor=parent.user,
            pupils=[child],
            kind=LeaveRequest.Kind.IMPORTANT,
            starts_on=dt.date(2027, 3, 4),
            ends_on=dt.date(2027, 3, 4),
            reason="Bruiloft van een tante in Groningen.",
            explanation="De uitnodiging kwam pas deze week.",
        )
    NonSchoolDay.objects.create(
        school=school, date=dt.date(2027, 2, 26), kind=NonSchoolDay.Kind.STUDY_DAY, name="Studiedag"
    )
    with time_machine.travel(NOW.replace(hour=7, minute=45), tick=False):
        absence_services.absence_reports_create(
            actor=parent.user, pupils=[child], kind="sick", starts_on=NOW.date(), note="Koorts"
        )
    booking = planner_services.bookings_create(
        actor=parent.user, round_=slots_5a[0].round, choices=[(child, slots_5a[0])], now=NOW
    )[0]
    return {
        "post": post,
        "event": event,
        "chat": chat,
        "leave": leave,
        "booking": booking,
        "round": booking.round,
    }


def _problems_here(page, where, name):
    """The page as it is, at phone width and then at desktop width: its serious violations.
    With KLIMOP_SHOTS set, a screenshot at each width (tests/browser.py)."""
    problems = []
    slug = re.sub(r"[^a-z0-9]+", "-", where.lower()).strip("-") or "home"
    for size, width in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(size)
        if violations := serious_violations(page):
            problems.append(describe(f"{where} ({width})", violations))
        shot(page, f"a11y-{name}-{slug}-{width}")
    return problems


def _check_pages(page, live_server, paths, name, *, then=()):
    """Each page at phone width, then at desktop width; then each of ``then``'s states (a
    function that brings the page there, and returns its name). Every serious violation is
    described in the one failure."""
    problems = []
    for path in paths:
        page.set_viewport_size(PHONE)
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        assert response.status == 200, f"{path}: {response.status}"
        problems += _problems_here(page, path, name)
    for state in then:
        page.set_viewport_size(PHONE)
        problems += _problems_here(page, state(page, live_server), name)
    assert not problems, "\n".join(problems)


def _name_saved(page, live_server):
    """A message of the messages framework: "Uw naam is opgeslagen."."""
    page.goto(f"{live_server.url}/me/name/")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator(".messages [role=status]")).to_be_visible()
    return "/me/name/ (saved)"


def _post_without_title(page, live_server):
    """A form sent back with its errors."""
    page.goto(f"{live_server.url}/berichten/nieuw/")
    page.get_by_role("button", name="Publiceren").click()
    expect(page.locator(".field--error").first).to_be_visible()
    return "/berichten/nieuw/ (errors)"


def _log_in(page, live_server, user, next_path):
    add_axe(page.context)
    log_in(page, live_server, user, next_path)


@pytest.fixture
def push_keys(settings):
    """With push keys, a parent's home also shows the invitation to turn notifications on."""
    settings.WEBPUSH_VAPID_PUBLIC_KEY, settings.WEBPUSH_VAPID_PRIVATE_KEY = generate_vapid_keys()


def test_a_parents_pages(page, live_server, world, parent, child, push_keys):
    w = world
    with time_machine.travel(NOW, tick=True):
        add_axe(page.context)
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server.url}/accounts/password/reset/")
        entrance = _problems_here(page, "/accounts/password/reset/", "parent")
        page.goto(f"{live_server.url}/accounts/login/")
        entrance += _problems_here(page, "/accounts/login/", "parent")
        assert not entrance, "\n".join(entrance)
        log_in(page, live_server, parent.user, "/")
        _check_pages(
            page,
            live_server,
            [
                "/",
                "/berichten/",
                f"/berichten/{w['post'].pk}/",
                "/gesprekken/",
                f"/gesprekken/{w['chat'].pk}/",
                "/gesprekken/nieuw/",
                "/agenda/",
                "/agenda/maand/2027/2/",
                f"/agenda/{w['event'].pk}/",
                "/agenda/abonneren/",
                "/meldingen/",
                "/afwezigheid/",
                "/afwezigheid/melden/",
                "/verlof/",
                "/verlof/aanvragen/",
                f"/verlof/{w['leave'].pk}/",
                "/oudergesprekken/",
                f"/oudergesprekken/{w['round'].pk}/",
                f"/oudergesprekken/afspraak/{w['booking'].pk}/",
                "/privacy/",
                "/me/contact/",
                "/me/name/",
                "/accounts/email/",
                "/accounts/password/change/",
            ],
            "parent",
            then=[_name_saved],
        )


def test_a_teachers_pages(page, live_server, world, teacher, child, group):
    w = world
    with time_machine.travel(NOW, tick=True):
        _log_in(page, live_server, teacher.user, "/staff/")
        _check_pages(
            page,
            live_server,
            [
                "/staff/",
                f"/pupils/{child.pk}/",
                "/berichten/mijn/",
                "/berichten/nieuw/",
                f"/berichten/{w['post'].pk}/",
                f"/berichten/{w['post'].pk}/bewerken/",
                "/gesprekken/",
                f"/gesprekken/{w['chat'].pk}/",
                "/gesprekken/nieuw/groep/",
                "/agenda/",
                f"/agenda/{w['event'].pk}/",
                f"/agenda/{w['event'].pk}/wijzigen/",
                "/meldingen/",
                "/afwezigheid/vandaag/",
                "/afwezigheid/registreren/",
                "/oudergesprekken/",
                "/oudergesprekken/rondes/",
                f"/oudergesprekken/rondes/{w['round'].pk}/",
                f"/oudergesprekken/rondes/{w['round'].pk}/dag/2027-02-09/",
                "/afwezigheid/vandaag/afdrukken/",
                f"/privacy/groep/{group.pk}/",
                "/accounts/2fa/",
            ],
            "teacher",
            then=[_post_without_title],
        )


def test_the_directors_pages_and_admin(page, live_server, world, director, school, school_year, child):
    """The director's own pages, and the admin where the school is set up and decided on."""
    w = world
    with time_machine.travel(NOW, tick=True):
        _log_in(page, live_server, director.user, "/staff/")
        _check_pages(
            page,
            live_server,
            [
                "/staff/",
                "/afwezigheid/register/",
                f"/afwezigheid/leerling/{child.pk}/",
                f"/verlof/{w['leave'].pk}/",
                "/kwaliteit/",
                "/privacy/overzicht/",
                f"/oudergesprekken/rondes/{w['round'].pk}/",
                f"/oudergesprekken/rondes/{w['round'].pk}/voorstel/",
                "/admin/",
                f"/admin/klimop/school/{school.pk}/change/",
                "/admin/klimop/schoolyear/",
                f"/admin/klimop/schoolyear/{school_year.pk}/change/",
                "/admin/absences/leaverequest/",
                f"/admin/absences/leaverequest/{w['leave'].pk}/change/",
                "/admin/conversations/round/",
                f"/admin/conversations/round/{w['round'].pk}/change/",
                "/admin/conversations/round/add/",
                "/admin/quality/survey/add/",
            ],
            "director",
        )


def test_the_offices_pages_and_admin(page, live_server, world, office, teacher, group, child, parent):
    """The office's own pages, and the admin where it keeps the directory and imports it."""
    with time_machine.travel(NOW, tick=True):
        _log_in(page, live_server, office.user, "/staff/")
        _check_pages(
            page,
            live_server,
            [
                "/staff/",
                "/afwezigheid/vandaag/",
                "/afwezigheid/registreren/",
                "/admin/",
                "/admin/klimop/pupil/",
                f"/admin/klimop/pupil/{child.pk}/change/",
                "/admin/klimop/pupil/add/",
                "/admin/klimop/guardian/",
                f"/admin/klimop/guardian/{parent.pk}/change/",
                "/admin/klimop/group/",
                f"/admin/klimop/group/{group.pk}/change/",
                "/admin/klimop/staffmember/",
                f"/admin/klimop/staffmember/{teacher.pk}/change/",
                "/admin/privacy/consentdecision/",
                "/admin/import/",
                "/admin/klimop/pupil/import/",
            ],
            "office",
        )
