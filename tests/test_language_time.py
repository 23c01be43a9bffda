"""One language per page, every time in Amsterdam.

- The director's admin of the demo school, walked page by page in Dutch (index, every list with
  its filters, add and change forms, history, delete pages), shows no English words; a few
  portal pages in English show no Dutch ones. The words looked for are common interface words
  of the other language (TYPICAL_ENGLISH, TYPICAL_DUTCH); names of people and places are data.
- The admin has the portal's language switch, and the choice is stored on the user.
- Dates and times are Amsterdam's: an invitation sent at 00:20 is of that day, also in the
  nights the clocks change; the parent's data export writes ISO 8601 with +01:00 or +02:00.
- Weekday abbreviations: "ma di wo" in Dutch, "Mon Tue Wed" in English.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections import deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from demo import school as demo
from klimop.models import StaffMember, User
from klimop.privacy import services as privacy_services
from klimop.privacy.models import ConsentEvent
from tests import factories as f
from tests.conftest import DEMO_BUILT_AT

pytestmark = pytest.mark.django_db

AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Interface words that are English and not Dutch. Words both languages use (filter, status,
#: model, link, home, week, school, start, video, april, september…) are not in it.
TYPICAL_ENGLISH = _words(
    """
    the and or with without from for to this that these those your you are not has have by at on
    please here there which when who what select choose chosen available add change delete remove
    save search clear hide view edit history action actions created updated changed deleted added
    true false none yes no all any other unknown language logout password welcome error errors
    field required result results total selected settings user users pupil pupils guardian
    guardians child children parent parents teacher teachers staff group groups year years day
    days weeks date time today yesterday tomorrow now name first last report reports absence
    absences leave request requests round rounds survey surveys consent event events notification
    notifications message messages invited invitation signed sick granted refused withdrawn
    submitted pending answer answers reason booking bookings monday tuesday wednesday thursday
    friday saturday sunday mon tue wed thu fri sat sun january february march june july august
    october mar oct
"""
)
#: Interface words that are Dutch and not English (not "de", "van", "het": they are in names).
TYPICAL_DUTCH = _words(
    """
    een en voor met niet naar bij zijn wordt geen alle nog ook uw je jouw deze dit dat uit tot om
    als maar wel heeft hebben kunt opslaan annuleren terug wijzigen verwijderen toevoegen versturen
    uitloggen inloggen wachtwoord instellingen meldingen berichten bericht afwezigheid verlof ziek
    vandaag morgen gisteren maandag dinsdag woensdag donderdag vrijdag zaterdag zondag ma di wo vr
    za januari februari maart mei juni juli augustus oktober leerling leerlingen ouder ouders
    leerkracht leerkrachten groepen kinderen schooljaar toestemming gesprek gesprekken
"""
)
#: Words of the other language that are right where they are, each with its reason.
ALLOWED = {
    "Klimop": "the product's name",
    "csv": "a file format",
    "EN": "the language switch (NL | EN)",
}

_EMAIL_OR_URL = re.compile(r"\S+@\S+|https?://\S+")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


_NOT_READ = ("script", "style", "template", "code")


class _VisibleText(HTMLParser):
    """The text a person reads or hears: text nodes outside scripts and styles, and the
    title, alt, placeholder and aria-label attributes and the labels of input buttons.
    Text in ``<code>`` is left out: it is a file or column name that has to be typed exactly
    as shown (``pupils.csv``, ``date_of_birth``), in every language."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in _NOT_READ:
            self._hidden += 1
        attributes = dict(attrs)
        for name in ("title", "alt", "placeholder", "aria-label"):
            if attributes.get(name):
                self.parts.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.parts.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in _NOT_READ:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return parser.parts


def foreign_words(html: str, words: frozenset[str], data: set[str]) -> set[str]:
    """Which of ``words`` the page shows, outside ``data`` (names from the database)."""
    found = set()
    for part in visible_text(html):
        part = _EMAIL_OR_URL.sub(" ", part)
        for word in _WORD.findall(part):
            if word.lower() in words and word not in data and word not in ALLOWED:
                found.add(f"{word} (in {part[:80]!r})")
    return found


def _shape(path: str) -> tuple[str, frozenset[str]]:
    """/admin/klimop/pupil/7/change/ and …/8/change/ are one page; a list is one page per filter."""
    url = urlsplit(path)
    keys = {k for k, _v in parse_qsl(url.query, keep_blank_values=True)} - {"o", "p", "_changelist_filters"}
    return re.sub(r"\d+", "N", url.path), frozenset(keys)


#: Not visited: logging out, the script catalogue (tested on its own), and a school year's delete
#: page, which lists the year's every group, pupil and record (12 s; other delete pages show the
#: same template).
_NOT_WALKED = ("/admin/logout/", "/admin/jsi18n/")
_NOT_WALKED_SHAPES = {"/admin/klimop/schoolyear/N/delete/"}
_HEAVY_LISTS = ("/admin/klimop/schoolyear/",)
_LIST = re.compile(r"^/admin/\w+/\w+/$")


def walk_admin(client, limit: int = 300) -> dict[str, str]:
    """Every admin page reachable by links from the index, one of each shape, a list with at
    most one filter set at a time; returns path -> HTML."""
    pages: dict[str, str] = {}
    seen_shapes: set[tuple[str, frozenset[str]]] = set()
    queue = deque(["/admin/"])
    while queue and len(pages) < limit:
        path = queue.popleft()
        shape = _shape(path)
        if shape in seen_shapes or len(shape[1]) > 1 or path.startswith(_NOT_WALKED):
            continue
        if shape[0] in _NOT_WALKED_SHAPES or (shape[1] and not _LIST.match(shape[0])):
            continue  # filters only on a list: the export page with a filter is the export page
        seen_shapes.add(shape)
        response = client.get(path)
        if response.status_code == 302:
            queue.appendleft(urljoin(path, response["Location"]))
            continue
        # A link the director may not follow (a login in "recent actions") is refused: no page.
        if response.status_code != 200 or "text/html" not in response["Content-Type"] or response.streaming:
            continue
        html = response.content.decode()
        pages[path] = html
        for link in re.findall(r'href="([^"#]+)"', html):
            url = urlsplit(urljoin(path, link.replace("&amp;", "&")))
            if url.netloc in ("", "testserver") and url.path.startswith("/admin/"):
                queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return pages


def delete_selected_confirmations(client, pages: dict[str, str]) -> dict[str, str]:
    """The confirmation page of the "delete selected" action on each list that has it, for its
    first row (nothing is deleted: the confirmation is not sent)."""
    confirmations = {}
    for path, html in pages.items():
        first = re.search(r'name="_selected_action" value="(\d+)"', html)
        if "?" in path or path.startswith(_HEAVY_LISTS) or not first or 'value="delete_selected"' not in html:
            continue
        response = client.post(path, {"action": "delete_selected", "_selected_action": [first.group(1)]})
        assert response.status_code == 200, path
        confirmations[f"{path}delete_selected"] = response.content.decode()
    return confirmations


def _names_in_the_demo() -> set[str]:
    """Every word of a person's, school's or group's name: data, whatever language it looks like."""
    from klimop.models import Group, Guardian, Pupil, School

    names: set[str] = set()
    for model, fields in (
        (User, ("first_name", "last_name")),
        (Guardian, ("first_name", "last_name")),
        (Pupil, ("first_name", "last_name")),
        (School, ("name",)),
        (Group, ("name",)),
    ):
        for row in model.objects.values_list(*fields):
            for value in row:
                names.update(_WORD.findall(value or ""))
    return names


# --- the director's admin in Dutch ---------------------------------------------------------


@pytest.mark.usefixtures("demo_built")
def test_the_directors_admin_shows_no_english_in_dutch(client):
    director = User.objects.get(email=demo.LOGIN_DIRECTOR)
    assert director.language == "nl"
    client.force_login(director)
    with time_machine.travel(DEMO_BUILT_AT, tick=False):
        pages = walk_admin(client)
        pages.update(delete_selected_confirmations(client, pages))
    names = _names_in_the_demo()
    kinds = {_shape(p)[0].rstrip("/").rsplit("/", 1)[-1] for p in pages}
    # The walk reached lists, add and change forms, the history, delete pages and the
    # confirmation of the "delete selected" action.
    assert {"admin", "pupil", "add", "change", "history", "delete", "delete_selected"} <= kinds, sorted(kinds)
    assert len(pages) > 60
    found = {path: foreign_words(html, TYPICAL_ENGLISH, names) for path, html in pages.items()}
    problems = [f"{path}: {sorted(words)}" for path, words in found.items() if words]
    assert not problems, "\n".join(problems)


@pytest.mark.usefixtures("demo_built")
def test_the_admins_scripts_are_dutch_too(client):
    """The two-box selector of a round's groups and a teacher's groups ("Alle groepen kiezen",
    not "Choose all groepen") reads its words from the admin's JavaScript catalogue."""
    client.force_login(User.objects.get(email=demo.LOGIN_DIRECTOR))
    catalogue = client.get(reverse("admin:jsi18n")).content.decode()
    for dutch in ("Alle %s kiezen", "Geselecteerde %s kiezen", "Alle %s verwijderen", "Beschikbare %s"):
        assert dutch in catalogue


# --- portal pages in English ---------------------------------------------------------------


@time_machine.travel(dt.datetime(2026, 10, 6, 10, 0, tzinfo=AMS), tick=False)
def test_portal_pages_in_english_show_no_dutch(client, school, child, parent, teacher):
    names = {w for p in (child, parent) for w in _WORD.findall(f"{p.first_name} {p.last_name}")}
    names |= set(_WORD.findall(school.name)) | set(_WORD.findall(f"{teacher.user.get_full_name()}"))
    for person, paths in (
        (
            parent.user,
            [
                reverse("home"),
                reverse("absences:report_sick"),
                reverse("privacy:privacy_home"),
                reverse("my_name"),
                reverse("absences:leave_create"),
                reverse("agenda:agenda"),
                reverse("agenda:agenda_feed_settings"),
            ],
        ),
        (
            teacher.user,
            [
                reverse("home"),
                reverse("absences:today"),
                reverse("absences:staff_report"),
                reverse("agenda:event_create"),
            ],
        ),
    ):
        person.language = "en"
        person.save(update_fields=["language"])
        client.force_login(person)
        for path in paths:
            response = client.get(path, follow=True)
            assert response.status_code == 200, path
            words = foreign_words(response.content.decode(), TYPICAL_DUTCH, names)
            assert not words, f"{path} as {person.email}: {sorted(words)}"


# --- the language switch in the admin ------------------------------------------------------


def test_the_admin_has_the_language_switch_and_remembers_the_choice(client, director):
    client.force_login(director.user)
    page = client.get(reverse("admin:index")).content.decode()
    assert f'action="{reverse("set_language")}"' in page
    assert 'name="language" value="en"' in page
    assert '<input type="hidden" name="next" value="/admin/">' in page

    response = client.post(reverse("set_language"), {"language": "en", "next": "/admin/klimop/pupil/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/klimop/pupil/"
    director.user.refresh_from_db()
    assert director.user.language == "en"
    english = client.get("/admin/klimop/pupil/").content.decode()
    assert "Select pupil to change" in english
    assert 'lang="en"' in english

    client.post(reverse("set_language"), {"language": "nl", "next": "/admin/"})
    assert "Selecteer leerling om te wijzigen" in client.get("/admin/klimop/pupil/").content.decode()


# --- dates and times in Amsterdam ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        # 00:20 in Amsterdam is 23:20 (winter) or 22:20 (summer) UTC of the day before.
        (dt.datetime(2026, 11, 24, 0, 20, tzinfo=AMS), "24 november 2026"),
        (dt.datetime(2026, 8, 21, 0, 20, tzinfo=AMS), "21 augustus 2026"),
        # The nights the clocks change: back at 03:00 (25 October), forward at 02:00 (28 March).
        (dt.datetime(2026, 10, 25, 0, 20, tzinfo=AMS), "25 oktober 2026"),
        (dt.datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=AMS), "25 oktober 2026"),
        (dt.datetime(2027, 3, 28, 0, 20, tzinfo=AMS), "28 maart 2027"),
        (dt.datetime(2027, 3, 28, 3, 20, tzinfo=AMS), "28 maart 2027"),
        (dt.datetime(2027, 3, 27, 23, 59, tzinfo=AMS), "27 maart 2027"),
    ],
)
def test_an_invitation_shows_the_day_it_was_sent_in_amsterdam(client, director, parent, sent, shown):
    User.objects.filter(pk=parent.user_id).update(invited_at=sent, last_login=None)
    with time_machine.travel(dt.datetime(2027, 4, 1, 12, 0, tzinfo=AMS), tick=False):
        client.force_login(director.user)
        page = client.get(reverse("admin:klimop_guardian_changelist")).content.decode()
    assert f"uitgenodigd {shown}" in page


def test_every_request_works_in_amsterdam_time(client, director):
    client.force_login(director.user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE == "Europe/Amsterdam"
    assert settings.USE_TZ


@pytest.mark.parametrize(
    ("moment", "offset"),
    [
        (dt.datetime(2026, 10, 24, 23, 30, tzinfo=AMS), "+02:00"),  # the last summer night
        (dt.datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=AMS), "+01:00"),  # the second 02:30
        (dt.datetime(2027, 3, 28, 3, 30, tzinfo=AMS), "+02:00"),  # just after the clocks went forward
        (dt.datetime(2026, 12, 1, 0, 20, tzinfo=AMS), "+01:00"),
    ],
)
def test_the_data_export_writes_amsterdam_times(client, child, parent, moment, offset):
    with time_machine.travel(moment, tick=False):
        privacy_services.consent_set(actor=parent.user, pupil=child, purpose="group_page", granted=True)
        client.force_login(parent.user)
        data = json.loads(client.get(reverse("privacy:privacy_my_data")).content)
    local = moment.astimezone(AMS).replace(tzinfo=None).isoformat()
    assert data["exported_at"] == f"{local}{offset}"
    assert data["consent_history"][-1]["at"] == f"{local}{offset}"
    assert data["consent_decisions"][-1]["decided_at"] == f"{local}{offset}"
    event = ConsentEvent.objects.filter(pupil=child).latest("at")
    assert str(event).startswith(moment.astimezone(AMS).strftime("%Y-%m-%d %H:%M "))


@pytest.mark.parametrize(
    ("moment", "offset"),
    [
        (dt.datetime(2026, 10, 24, 23, 30, tzinfo=AMS), "+02:00"),
        (dt.datetime(2026, 12, 1, 0, 20, tzinfo=AMS), "+01:00"),
    ],
)
def test_the_chat_export_writes_amsterdam_times(client, child, parent, teacher, moment, offset):
    from communication.chats import services as chat_services

    with time_machine.travel(moment, tick=False):
        chat_services.conversation_start_direct(actor=parent.user, pupil=child, body="Vraag")
        client.force_login(parent.user)
        data = client.get(reverse("chats:chat_export")).json()
    local = f"{moment.astimezone(AMS).replace(tzinfo=None).isoformat()}{offset}"
    assert data["exported_at"] == local
    assert (data["messages"][0]["written_at"], data["messages"][0]["delivered_at"]) == (local, local)


# --- weekday abbreviations ------------------------------------------------------------------


def test_working_days_are_abbreviated_in_the_readers_language(client, director, school, group):
    f.StaffMemberFactory(
        school=school,
        role=StaffMember.Role.TEACHER,
        user__email="weekdays@example.test",
        user__last_name="Weekdagen",
        works_monday=True,
        works_tuesday=True,
        works_wednesday=False,
        works_thursday=True,
        works_friday=False,
    )
    client.force_login(director.user)
    url = reverse("admin:klimop_staffmember_changelist") + "?q=Weekdagen"
    assert '<td class="field-weekdays">ma di do</td>' in client.get(url).content.decode()
    User.objects.filter(pk=director.user_id).update(language="en")
    assert '<td class="field-weekdays">Mon Tue Thu</td>' in client.get(url).content.decode()


def test_the_weekday_chips_are_capitalised_in_english(teacher):
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("en"):
        english = render_to_string("includes/weekdays.html", {"staff": teacher})
    with translation.override("nl"):
        dutch = render_to_string("includes/weekdays.html", {"staff": teacher})
    assert re.findall(r'<abbr title="[^"]+">(\w+)</abbr>', english) == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert re.findall(r'<abbr title="[^"]+">(\w+)</abbr>', dutch) == ["ma", "di", "wo", "do", "vr"]
