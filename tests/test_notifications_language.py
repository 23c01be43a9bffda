"""Notifications are stored as a message id and parameters and written when read: in the
reader's language of that moment (page, e-mail, push), every moment on the school's clock."""

import datetime as dt
import json

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise

from klimop import services as directory_services
from klimop.models import User
from klimop.notifications import messages
from klimop.notifications.messages import REGISTRY, encode_params, render
from klimop.notifications.models import Notification
from klimop.notifications.services import _push_payload, notify, send_due_emails
from klimop.worktime import AMSTERDAM

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=AMSTERDAM)  # a Monday morning in term time


def _page(client) -> str:
    return client.get(reverse("notifications:notifications")).content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_dutch_parent_who_switches_to_english_reads_the_notification_and_its_email_in_english(
    client, parent
):
    notify(
        users=[parent.user],
        cause="absence-unexplained:1",
        message="absence.unexplained",
        params={"name": "Noor", "day": dt.date(2026, 11, 30), "phone": "010-1234567"},
        url="/",
    )
    client.force_login(parent.user)
    assert "Noor is niet op school" in _page(client)

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    parent.user.refresh_from_db()
    assert parent.user.language == "en"
    page = _page(client)
    assert "Noor is not at school" in page
    assert "Noor is not at school on Monday 30 November" in page
    assert "niet op school" not in page

    # The e-mail goes out after the switch: in English, though the row was made in Dutch.
    assert send_due_emails() == 1
    (email,) = mail.outbox
    assert email.subject == "[Klimop] Noor is not at school"
    assert "Noor is not at school on Monday 30 November" in email.body
    assert "010-1234567" in email.body
    # The row keeps what it said when it was made (the admin's list, a fallback).
    assert Notification.objects.get().title == "Noor is niet op school"


@time_machine.travel(NOW, tick=False)
def test_an_english_teachers_email_and_push_are_english_whatever_language_the_sweep_runs_in(
    school, school_year, teacher
):
    directory_services.non_school_days_fill(
        school=school, start=school_year.starts_on, end=school_year.ends_on
    )
    teacher.user.language = "en"
    teacher.user.save(update_fields=["language"])
    notify(
        users=[teacher.user],
        cause="absence-follow-up:1",
        message="absence.follow_up",
        params={"name": "Noor", "n": 3, "day": dt.date(2026, 11, 25)},
    )
    assert send_due_emails() == 1
    (email,) = mail.outbox
    assert email.to == [teacher.user.email]
    assert email.subject == "[Klimop] Noor has been sick for 3 school days"
    assert email.body.startswith("Sick since Wednesday 25 November. Please contact the parents")

    note = Notification.objects.select_related("user").get()
    push = json.loads(_push_payload(note))
    assert push["title"] == "Noor has been sick for 3 school days"
    # The push is in the teacher's language whatever language the sweep runs in.
    with translation.override("nl"):
        assert json.loads(_push_payload(note))["title"] == push["title"]
    teacher.user.language = "nl"
    teacher.user.save(update_fields=["language"])
    note = Notification.objects.select_related("user").get()
    assert json.loads(_push_payload(note))["title"] == "Noor is al 3 schooldagen ziek"


@pytest.mark.parametrize(
    ("moment", "dutch", "english"),
    [
        # 23:15 UTC is a quarter past midnight in Amsterdam: the next day.
        (
            dt.datetime(2026, 11, 2, 23, 15, tzinfo=dt.UTC),
            "dinsdag 3 november, 00:15",
            "Tuesday 3 November, 00:15",
        ),
        # The night summer time starts (29 March 2026, 02:00 → 03:00).
        (dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC), "zondag 29 maart, 03:30", "Sunday 29 March, 03:30"),
        # The night winter time starts (25 October 2026): the second 02:30.
        (
            dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),
            "zondag 25 oktober, 02:30",
            "Sunday 25 October, 02:30",
        ),
        # Half an hour before midnight in summer: still the same day in Amsterdam, the next in UTC+3.
        (dt.datetime(2026, 6, 30, 21, 30, tzinfo=dt.UTC), "dinsdag 30 juni, 23:30", "Tuesday 30 June, 23:30"),
    ],
)
def test_a_moment_is_shown_on_the_amsterdam_clock_whatever_the_active_time_zone(
    client, parent, moment, dutch, english
):
    with time_machine.travel(moment, tick=False):
        notify(
            users=[parent.user],
            cause="planner-cancelled:1",
            message="planner.cancelled",
            params={"child": "Noor", "when": moment},
        )
    note = Notification.objects.get()
    assert note.params["when"] == moment.isoformat()  # stored as it happened, not as text
    for zone in ("UTC", "Asia/Tokyo", "America/New_York"):
        with timezone.override(zone):
            with translation.override("nl"):
                assert dutch in Notification.objects.get().display_body
            with translation.override("en"):
                assert english in Notification.objects.get().display_body
    client.force_login(parent.user)
    assert dutch in _page(client)


def test_a_notification_without_a_message_id_or_with_an_unknown_one_shows_its_stored_text(client, parent):
    notify(users=[parent.user], cause="old:1", title="Een oude melding", body="Van voor de berichtcodes")
    notify(
        users=[parent.user], cause="old:2", message="planner.cancelled", params={"child": "Noor", "when": NOW}
    )
    Notification.objects.filter(cause="old:2").update(message="feature.removed")
    client.force_login(parent.user)
    page = _page(client)
    assert "Een oude melding" in page
    assert "Van voor de berichtcodes" in page
    assert "Gesprek voor Noor geannuleerd" in page  # the text stored when it was made


def test_a_message_refuses_missing_parameters_and_translations_as_parameters(parent):
    with pytest.raises(ValueError, match="misses"):
        notify(users=[parent.user], cause="x:1", message="planner.cancelled", params={"child": "Noor"})
    with pytest.raises(TypeError):
        encode_params(
            "absence.unexplained", {"name": translation.gettext_lazy("Sick"), "day": NOW.date(), "phone": ""}
        )
    with pytest.raises(TypeError, match="must be a datetime"):
        notify(
            users=[parent.user],
            cause="x:1",
            message="planner.cancelled",
            params={"child": "Noor", "when": "dinsdag 3 november, 14:30"},
        )
    with pytest.raises(ValueError, match="Unknown"):
        notify(users=[parent.user], cause="x:1", message="no.such.message")
    assert not Notification.objects.exists()


def test_notifying_600_parents_renders_once_per_language_and_inserts_in_bulk(monkeypatch):
    users = User.objects.bulk_create(
        [User(email=f"ouder{i}@example.test", language="en" if i % 3 == 0 else "nl") for i in range(600)]
    )
    calls = []
    original = messages.render

    def counting(*args, **kwargs):
        calls.append(translation.get_language())
        return original(*args, **kwargs)

    monkeypatch.setattr("klimop.notifications.services.render", counting)
    with CaptureQueriesContext(connection) as queries:
        made = notify(
            users=User.objects.filter(pk__in=[u.pk for u in users]),
            cause="post:1",
            message="post.published_group",
            params={"group": "5a", "title": "Naar de dierentuin"},
        )
    assert made == 600
    assert sorted(calls) == ["en", "nl"]
    inserts = [
        q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "notifications_notification"')
    ]
    assert len(inserts) == 2  # bulk_create in batches of 500
    assert len(queries) < 12
    titles = dict(Notification.objects.values_list("user__language", "title").distinct())
    assert titles == {"nl": "Nieuw bericht voor groep 5a", "en": "New post for group 5a"}


def test_the_notifications_page_renders_many_rows_without_a_query_each(client, parent):
    client.force_login(parent.user)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("notifications:notifications")).status_code == 200
        return len(queries)

    notify(
        users=[parent.user], cause="c:0", message="planner.cancelled", params={"child": "Noor", "when": NOW}
    )
    _page(client)
    one = count()
    for i in range(1, 20):
        notify(
            users=[parent.user],
            cause=f"c:{i}",
            message="planner.cancelled" if i % 2 else "post.published_group",
            params={"child": "Noor", "when": NOW, "group": "5a", "title": f"Bericht {i}"},
        )
    _page(client)
    assert count() == one


EXPECTED_MESSAGES = [
    "absence.follow_up",
    "absence.unexplained",
    "chat.acknowledged",
    "chat.answer_escalation",
    "chat.answer_reminder",
    "chat.message",
    "consent.changed",
    "consent.renewal",
    "event.reminder",
    "leave.forwarded",
    "leave.granted",
    "leave.refused",
    "leave.request",
    "planner.booked",
    "planner.cancelled",
    "planner.closed",
    "planner.invite",
    "planner.invite_head_start",
    "planner.moved",
    "planner.reminder",
    "post.published_group",
    "post.published_school",
    "post.rhythm",
    "school_year.entered",
    "school_year.unknown",
]


def test_every_feature_registers_its_messages_when_django_starts():
    assert sorted(REGISTRY) == EXPECTED_MESSAGES


@pytest.mark.parametrize("message_id", EXPECTED_MESSAGES)
def test_every_message_renders_in_dutch_and_english_with_all_its_parameters(message_id):
    kind = REGISTRY[message_id]
    stored = json.loads(json.dumps(encode_params(message_id, kind.example)))  # as read back from the database
    rendered = {}
    for language in ("nl", "en"):
        with translation.override(language):
            rendered[language] = render(message_id, stored, strict=True)
    for title, body in rendered.values():
        assert title
        assert "%(" not in title
        assert "%(" not in body
    assert rendered["nl"][0] != rendered["en"][0]
    if kind.body and (isinstance(kind.body, Promise) or callable(kind.body)):
        assert rendered["nl"][1] != rendered["en"][1]
