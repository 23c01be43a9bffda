"""Issue 14, point 5: reporting several children when one of them is already reported, and the
parent's overview after "better" on the same day.

Several children, one already reported for that time: the others are reported (one
transaction, idempotent under a double submit) and the message names the one that was not.
A sickness of today that ended with "better" is today's absence in the history, never a
planned one. Dates: Tuesday 24 November 2026; the cutoff is 08:20 (conftest defaults).
"""

import datetime as dt
import uuid

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from absences import selectors, services
from absences.models import AbsenceReport, LeaveRequest
from klimop.worktime import AMSTERDAM
from tests import factories as f

Kind = AbsenceReport.Kind
TUESDAY = dt.date(2026, 11, 24)
WEDNESDAY = dt.date(2026, 11, 25)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=AMSTERDAM)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def sibling(parent, other_group):
    pupil = f.PupilFactory(group=other_group, first_name="Ties", last_name="Testkind")
    f.GuardianRelationFactory(pupil=pupil, guardian=parent)
    return pupil


def report(actor, pupils, kind=Kind.SICK, *, starts_on=TUESDAY, **kwargs):
    return services.absence_reports_create(
        actor=actor.user, pupils=list(pupils), kind=kind, starts_on=starts_on, **kwargs
    )


# --- several children, one already reported ---------------------------------------------------------


def test_the_other_child_is_reported_and_the_one_already_sick_is_named(
    parent, divorced_parent, child, sibling
):
    with time_machine.travel(at(TUESDAY, 7, 40), tick=False):
        [noor] = report(divorced_parent, [child])
    with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
        made = report(parent, [child, sibling])

    assert [r.pupil for r in made] == [sibling]
    assert [s.pupil for s in made.skipped] == [child]
    assert made.skipped[0].message == (
        "Noor was already reported sick from Tuesday 24 November, so was not reported again."
    )
    assert AbsenceReport.objects.filter(pupil=child).get() == noor  # untouched
    assert not made[0].reported_late


def test_a_double_submit_of_such_a_report_stores_nothing_twice_and_says_the_same(parent, child, sibling):
    key = uuid.uuid4()
    with time_machine.travel(at(TUESDAY, 7, 40), tick=False):
        report(parent, [child])
    with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
        first = report(parent, [child, sibling], submission=key)
        again = report(parent, [child, sibling], submission=key)

    assert [r.pk for r in again] == [r.pk for r in first]
    assert [s.message for s in again.skipped] == [s.message for s in first.skipped]
    assert AbsenceReport.objects.count() == 2


def test_when_every_child_is_already_reported_nothing_is_stored_and_each_is_named(parent, child, sibling):
    with time_machine.travel(at(TUESDAY, 7, 40), tick=False):
        report(parent, [child, sibling])
    with time_machine.travel(at(TUESDAY, 7, 50), tick=False), pytest.raises(ValidationError) as exc:
        report(parent, [child, sibling])
    assert [m.split(":")[0] for m in exc.value.messages] == ["Noor", "Ties"]
    assert AbsenceReport.objects.count() == 2


@pytest.mark.parametrize(
    ("kind", "first", "second", "both"),
    [
        (Kind.APPOINTMENT, ("10:00", "11:00"), ("10:30", "11:30"), False),
        (Kind.APPOINTMENT, ("10:00", "11:00"), ("13:00", "14:00"), True),
        (Kind.LATE, (None, "09:30"), (None, "10:00"), False),
    ],
)
def test_appointments_and_late_arrivals_skip_only_the_child_already_reported_for_that_time(
    parent, child, sibling, kind, first, second, both
):
    def times(pair):
        return {
            "from_time": dt.time.fromisoformat(pair[0]) if pair[0] else None,
            "until_time": dt.time.fromisoformat(pair[1]),
        }

    with time_machine.travel(at(TUESDAY, 7, 40), tick=False):
        report(parent, [child], kind, starts_on=WEDNESDAY, **times(first))
        made = report(parent, [child, sibling], kind, starts_on=WEDNESDAY, **times(second))

    if both:
        assert {r.pupil for r in made} == {child, sibling}
        assert made.skipped == []
    else:
        assert [r.pupil for r in made] == [sibling]
        assert made.skipped[0].message.startswith("Noor was already ")
        assert "Wednesday 25 November" in made.skipped[0].message


def test_a_child_on_granted_leave_is_named_and_the_other_reported(parent, director, child, sibling):
    with time_machine.travel(at(dt.date(2026, 9, 1), 10), tick=False):
        leave = services.leave_request_create(
            actor=parent.user,
            pupils=[child],
            kind=LeaveRequest.Kind.IMPORTANT,
            starts_on=WEDNESDAY,
            ends_on=WEDNESDAY,
            reason="Bruiloft van een oom",
        )
        services.leave_decide(
            actor=director.user,
            leave_request=leave,
            decision=LeaveRequest.Status.GRANTED,
            reasons="Bruiloft: een dag.",
        )
    with time_machine.travel(at(TUESDAY, 7, 40), tick=False):
        made = report(parent, [child, sibling], starts_on=WEDNESDAY)
    assert [r.pupil for r in made] == [sibling]
    assert made.skipped[0].message == (
        "Noor has leave from Wednesday 25 November to Wednesday 25 November, so was not reported."
    )


def test_the_page_reports_the_other_child_and_names_the_one_already_reported(
    client, parent, divorced_parent, child, sibling
):
    with time_machine.travel(at(TUESDAY, 7, 40), tick=False):
        report(divorced_parent, [child])
    client.force_login(parent.user)
    form = {
        "submission": "5e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
        "pupils": [child.pk, sibling.pk],
        "kind": "sick",
        "starts_on": "2026-11-24",
        "note": "Griep",
    }
    with time_machine.travel(at(TUESDAY, 8, 30), tick=False), translation.override("nl"):
        page = client.post(reverse("absences:report_sick"), form, follow=True).content.decode()
        again = client.post(reverse("absences:report_sick"), form, follow=True).content.decode()

    assert "Ties ziek gemeld vanaf dinsdag 24 november" in page
    assert "Noor was al ziek gemeld vanaf dinsdag 24 november en is daarom niet opnieuw gemeld." in page
    assert "Te laat gemeld" in page or "te laat" in page  # after the cutoff: marked late
    assert "Noor was al ziek gemeld" in again
    assert AbsenceReport.objects.filter(pupil=sibling).count() == 1


# --- the overview after "better" ----------------------------------------------------------------------


def sections(page: str) -> tuple[str, str]:
    """The child's "Coming up" and "Recent" parts of the overview (Dutch)."""
    recent_at = page.index(">Recent<")
    planned_at = page.find(">Gepland<")
    planned = page[planned_at:recent_at] if planned_at != -1 else ""
    return planned, page[recent_at:]


@pytest.mark.parametrize("reported_at", [at(TUESDAY, 7, 50), at(TUESDAY, 9, 15)])
def test_better_on_the_same_day_shows_todays_sickness_as_today_not_planned(
    client, parent, child, reported_at
):
    with time_machine.travel(reported_at, tick=False):
        [made] = report(parent, [child])
    client.force_login(parent.user)
    with time_machine.travel(at(TUESDAY, 12, 0), tick=False), translation.override("nl"):
        client.post(reverse("absences:recover", args=[made.pk]), {"back_on": "2026-11-25"})
        page = client.get(reverse("absences:overview")).content.decode()
        register = client.get(reverse("absences:pupil_register", args=[child.pk])).content.decode()

    made.refresh_from_db()
    assert made.ends_on == TUESDAY
    assert made.recovered_at is not None
    planned, recent = sections(page)
    assert "24 nov" not in planned
    assert "Vandaag, di 24 nov" in recent
    assert "Beter" in recent
    assert "Geen afwezigheid in de afgelopen zes weken." not in page
    assert ("Te laat gemeld" in recent) is made.reported_late
    assert "1 schooldag" in register


def test_the_overview_reads_today_on_the_schools_clock_near_midnight(parent, child):
    """23:30 in Amsterdam is 22:30 UTC: still Tuesday at school."""
    with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
        [made] = report(parent, [child])
        services.absence_report_recover(actor=parent.user, report=made, back_on=WEDNESDAY)
    with time_machine.travel(at(TUESDAY, 23, 30), tick=False):
        [mine] = selectors.children_absences_for(viewer=parent.user)
    assert mine.upcoming == []
    assert mine.recent == [made]


def test_todays_appointment_is_coming_up_until_it_ends_then_history(parent, child):
    with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
        [made] = report(parent, [child], Kind.APPOINTMENT, from_time=dt.time(13), until_time=dt.time(14))
    with time_machine.travel(at(TUESDAY, 12, 0), tick=False):
        [before] = selectors.children_absences_for(viewer=parent.user)
    with time_machine.travel(at(TUESDAY, 14, 30), tick=False):
        [after] = selectors.children_absences_for(viewer=parent.user)
    assert (before.upcoming, before.recent) == ([made], [])
    assert (after.upcoming, after.recent) == ([], [made])
