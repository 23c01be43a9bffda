"""The private iCalendar feed: the token is the identity, and the feed parses in two libraries.

Second, independent parser: ``vobject`` (dev extra in pyproject.toml).
"""

import datetime as dt

import icalendar
import pytest
import time_machine
import vobject
from django.urls import reverse

from communication.agenda import services
from communication.agenda.models import Event, FeedToken
from klimop.models import NonSchoolDay
from klimop.worktime import AMSTERDAM

pytestmark = pytest.mark.django_db


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMSTERDAM)


@pytest.fixture
def events(teacher, other_teacher, director, group, other_group, school):
    NonSchoolDay.objects.bulk_create(
        NonSchoolDay(
            school=school,
            date=dt.date(2026, 12, d),
            name="Kerstvakantie",
            kind=NonSchoolDay.Kind.SCHOOL_HOLIDAY,
        )
        for d in (21, 22, 23, 24)
    )
    with time_machine.travel(at(2026, 11, 23, 10), tick=False):
        return {
            "mine": services.event_create(
                actor=teacher.user,
                group=group,
                title="Schoolreis 5a",
                kind=Event.Kind.TRIP,
                starts_at=at(2026, 12, 10, 9),
                ends_at=at(2026, 12, 10, 15),
                location="Artis",
            ),
            "other": services.event_create(
                actor=other_teacher.user,
                group=other_group,
                title="Toets 6b",
                kind=Event.Kind.TEST,
                all_day=True,
                starts_on=dt.date(2026, 12, 9),
            ),
            "school": services.event_create(
                actor=director.user,
                title="MR-vergadering",
                kind=Event.Kind.MR_MEETING,
                starts_at=at(2026, 12, 14, 19, 30),
                ends_at=at(2026, 12, 14, 21),
            ),
            "dst": services.event_create(
                actor=teacher.user,
                group=group,
                title="Lentewandeling",
                starts_at=at(2027, 3, 28, 10),
                ends_at=at(2027, 3, 28, 11),
            ),
        }


def feed(client, user) -> bytes:
    token = services.feed_token_get_or_create(actor=user)
    with time_machine.travel(at(2026, 11, 23, 10), tick=False):
        response = client.get(reverse("agenda:agenda_feed", args=[token.token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return response.content


def summaries(body: bytes) -> set[str]:
    cal = icalendar.Calendar.from_ical(body)
    return {str(e["SUMMARY"]) for e in cal.walk("VEVENT")}


def test_feed_parses_in_icalendar_and_vobject_with_exactly_the_parents_events(
    client,
    parent,
    events,
):
    body = feed(client, parent.user)
    cal = icalendar.Calendar.from_ical(body)
    found = summaries(body)
    assert "Schoolreis 5a (group 5a)" in found or "Schoolreis 5a (groep 5a)" in found
    assert "MR-vergadering" in found
    assert "Kerstvakantie" in found
    assert not any("Toets 6b" in s for s in found)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Amsterdam"]

    parsed = vobject.readOne(body.decode())
    vevents = parsed.contents["vevent"]
    assert len(vevents) == len(found) == 4
    by_summary = {v.summary.value: v for v in vevents}
    holiday = by_summary["Kerstvakantie"]
    assert holiday.dtstart.value == dt.date(2026, 12, 21)
    assert holiday.dtend.value == dt.date(2026, 12, 25)  # exclusive end
    meeting = by_summary["MR-vergadering"]
    assert meeting.dtstart.value == at(2026, 12, 14, 19, 30)
    assert meeting.dtstart.value.utcoffset() == dt.timedelta(hours=1)


def test_dst_event_has_summer_time_offset(client, parent, events):
    body = feed(client, parent.user)
    cal = icalendar.Calendar.from_ical(body)
    walk = next(e for e in cal.walk("VEVENT") if str(e["SUMMARY"]).startswith("Lentewandeling"))
    start = walk["DTSTART"].dt
    assert walk["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert (start.hour, start.utcoffset()) == (10, dt.timedelta(hours=2))
    assert start.astimezone(dt.UTC) == dt.datetime(2027, 3, 28, 8, 0, tzinfo=dt.UTC)
    # The VTIMEZONE itself (not only Python's tz database) says summer time.
    vtz = cal.walk("VTIMEZONE")[0].to_tz()
    assert dt.datetime(2027, 3, 28, 10, tzinfo=vtz).utcoffset() == dt.timedelta(hours=2)
    assert dt.datetime(2027, 3, 28, 1, tzinfo=vtz).utcoffset() == dt.timedelta(hours=1)
    parsed = vobject.readOne(body.decode())
    v = next(v for v in parsed.contents["vevent"] if v.summary.value.startswith("Lentewandeling"))
    assert v.dtstart.value.astimezone(dt.UTC) == dt.datetime(2027, 3, 28, 8, 0, tzinfo=dt.UTC)


def test_uids_are_stable_and_dtstamp_present(client, parent, events):
    first = icalendar.Calendar.from_ical(feed(client, parent.user))
    second = icalendar.Calendar.from_ical(feed(client, parent.user))
    uids = [str(e["UID"]) for e in first.walk("VEVENT")]
    assert uids == [str(e["UID"]) for e in second.walk("VEVENT")]
    assert len(set(uids)) == len(uids)
    assert f"event-{events['mine'].pk}@klimop" in uids
    assert all("DTSTAMP" in e for e in first.walk("VEVENT"))


def test_another_parents_token_shows_only_that_parents_events(
    client,
    parent,
    barred_parent,
    info_parent,
    step_parent,
    events,
):
    # The token is the identity: whoever fetches it, the owner's access decides.
    client.force_login(parent.user)
    barred = summaries(feed(client, barred_parent.user))
    assert not any("Schoolreis 5a" in s or "Toets 6b" in s or "Lentewandeling" in s for s in barred)
    assert barred == set()  # barred from their only child: not even that child's school
    assert not any("Toets 6b" in s for s in summaries(feed(client, info_parent.user)))
    assert summaries(feed(client, step_parent.user)) == set()


def test_teacher_feed_has_own_group_not_other_group(client, teacher, events):
    found = summaries(feed(client, teacher.user))
    assert any("Schoolreis 5a" in s for s in found)
    assert not any("Toets 6b" in s for s in found)


def test_revoked_and_unknown_tokens_404(client, parent, events):
    token = services.feed_token_get_or_create(actor=parent.user)
    url = reverse("agenda:agenda_feed", args=[token.token])
    assert client.get(url).status_code == 200
    services.feed_token_revoke(actor=parent.user)
    assert client.get(url).status_code == 404
    assert client.get(reverse("agenda:agenda_feed", args=["nope" * 10])).status_code == 404


def test_renew_makes_a_new_token_and_kills_the_old(client, parent):
    old = services.feed_token_get_or_create(actor=parent.user)
    new = services.feed_token_renew(actor=parent.user)
    assert new.token != old.token
    assert len(new.token) >= 43
    assert client.get(reverse("agenda:agenda_feed", args=[old.token])).status_code == 404
    assert client.get(reverse("agenda:agenda_feed", args=[new.token])).status_code == 200
    assert FeedToken.objects.filter(user=parent.user, revoked_at__isnull=True).count() == 1


def test_database_allows_one_active_token_per_user(parent):
    from django.db import IntegrityError, transaction

    FeedToken.objects.create(user=parent.user)
    with pytest.raises(IntegrityError), transaction.atomic():
        FeedToken.objects.create(user=parent.user)


def test_feed_settings_page_shows_both_urls_and_revokes(client, parent):
    client.force_login(parent.user)
    page = reverse("agenda:agenda_feed_settings")
    change = reverse("agenda:agenda_feed_settings_change")
    assert "webcal://" not in client.get(page).content.decode()
    client.post(change, {"action": "create"})
    token = FeedToken.objects.get(user=parent.user)
    html = client.get(page).content.decode()
    assert f"webcal://testserver/agenda/feed/{token.token}.ics" in html
    assert f"http://testserver/agenda/feed/{token.token}.ics" in html
    client.post(change, {"action": "revoke"})
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_feed_settings_needs_login(client):
    response = client.get(reverse("agenda:agenda_feed_settings"))
    assert response.status_code == 302
