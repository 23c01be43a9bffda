"""One language per page, every time in Amsterdam.

- A few portal pages in English show no Dutch words (the director's admin of the demo school,
  walked in Dutch, is tests/test_demo_school.py's: it reads the demo that module builds). The
  words looked for are common interface words of the other language (tests/language.py); names
  of people and places are data.
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

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from klimop.models import StaffMember, User
from klimop.privacy import services as privacy_services
from klimop.privacy.models import ConsentEvent
from tests import factories as f
from tests.language import _WORD, TYPICAL_DUTCH, foreign_words

pytestmark = pytest.mark.django_db

AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")


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
    """The person chip's weekdays (``{% weekdays %}``, klimop/templatetags/people.py) in the
    reader's language; the teacher's days off (Thursday, Friday) struck through and told to
    screen readers."""
    from django.template import engines
    from django.utils import translation

    chips = engines["django"].from_string("{% weekdays staff %}")
    with translation.override("en"):
        english = chips.render({"staff": teacher})
    with translation.override("nl"):
        dutch = chips.render({"staff": teacher})
    assert re.findall(r'<abbr title="[^"]+">(\w+)</abbr>', english) == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert re.findall(r'<abbr title="[^"]+">(\w+)</abbr>', dutch) == ["ma", "di", "wo", "do", "vr"]
    assert english.startswith('<ul class="weekdays" aria-label="Working days">')
    assert dutch.startswith('<ul class="weekdays" aria-label="Werkdagen">')
    assert re.findall(r'weekday--(on|off)"><abbr title="(\w+)"', dutch) == [
        ("on", "maandag"),
        ("on", "dinsdag"),
        ("on", "woensdag"),
        ("off", "donderdag"),
        ("off", "vrijdag"),
    ]
    assert dutch.count('<span class="sr-only"> (niet aanwezig)</span>') == 2
    assert english.count('<span class="sr-only"> (not working)</span>') == 2
    with translation.override("en"):  # nothing of the Dutch rendering is kept
        assert chips.render({"staff": teacher}) == english
