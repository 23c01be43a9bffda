"""The absences' part of the demo school (``manage.py demo_school``, orchestrated by ``demo/``).

The demo's school day (the build date, or the last school day before it): children reported
sick, one late and one for a doctor's visit, one by phone to the office; a 5a pupil in their
fourth school day of sickness, whose follow-up task the sweep made at the opening of the third;
ouder@'s leave request awaiting the director, another family's extra vacation granted weeks
ago. Each written through ``absences.services`` at the moment the parent, the office or the
director acted (``time_machine``, and the services' own ``now``), so every rule applies: who
may report for whom, school days, the cutoff that makes a report late, the Leerplichtwet
checks of leave, and the notifications they make. The director and the family read theirs.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Collection, Iterator
from contextlib import contextmanager

import time_machine

from klimop import access, worktime
from klimop.access import ACT_ACCESS
from klimop.demo import DemoSchool
from klimop.models import GuardianRelation, Pupil, School, User
from klimop.notifications.models import Notification
from klimop.notifications.services import notification_mark_read

from . import services
from .models import AbsenceReport, FollowUp, LeaveRequest

FRI = 4

_SICK, _APPOINTMENT = AbsenceReport.Kind.SICK, AbsenceReport.Kind.APPOINTMENT
_PORTAL, _PHONE = AbsenceReport.Channel.PORTAL, AbsenceReport.Channel.PHONE
#: The absences of the demo's day: group, kind, channel, reported (calendar days before,
#: hour, minute), appointment times, only that day, note. A parent reports in the portal; the
#: phone call goes to the office. The 5a report comes after the cutoff (08:20): late. A report
#: whose time is after the build is made a few minutes before it instead (row by row, in this
#: order), so a demo built at 07:00 holds no report "made at 08:41".
ABSENCES_TODAY = (
    ("1a", _SICK, _PORTAL, (1, 20, 48), None, False, "Koorts sinds vanmiddag, blijft morgen thuis."),
    ("3b", _SICK, _PORTAL, (0, 7, 12), None, False, ""),
    (
        "5a",
        _SICK,
        _PORTAL,
        (0, 8, 41),
        None,
        False,
        "Vanochtend pas buikpijn gekregen, blijft vandaag thuis.",
    ),
    (
        "6b",
        _APPOINTMENT,
        _PORTAL,
        (1, 19, 35),
        ((10, 30), (11, 45)),
        False,
        "Controle bij de huisarts, daarna weer naar school.",
    ),
    ("7a", _SICK, _PHONE, (0, 8, 3), None, False, "Buikgriep."),
    ("8b", _SICK, _PORTAL, (0, 7, 46), None, True, "Flink verkouden; morgen hopelijk weer op school."),
)
#: A pupil of leerkracht@'s group, sick for three school days: the follow-up task is due.
FOLLOW_UP_GROUP = "5a"
#: The group of the child whose extra vacation (art. 13a) was granted weeks ago and starts today.
LEAVE_GROUP = "4b"
VACATION_REASON = (
    "Mijn partner werkt in de kassenteelt. In alle schoolvakanties is het daar "
    "hoogseizoen, dus samen op vakantie kan alleen buiten de vakanties."
)
VACATION_EXPLANATION = "De werkgeversverklaring heb ik op papier afgegeven bij de administratie."
VACATION_DECISION = (
    "Verleend op grond van artikel 13a van de Leerplichtwet: de werkgeversverklaring "
    "(op papier ontvangen) laat zien dat een vakantie in de schoolvakanties niet "
    "mogelijk is. Dit is het enige extra vakantieverlof voor dit schooljaar."
)
WEDDING_REASON = (
    "Bruiloft van mijn broer. De ceremonie is 's ochtends vroeg en ver weg; we vertrekken "
    "de avond ervoor en zijn de maandag weer op school."
)


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=worktime.AMSTERDAM)


@contextmanager
def _at(moment: dt.datetime) -> Iterator[dt.datetime]:
    """The clock at ``moment``, for the services and the notifications they make."""
    with time_machine.travel(moment, tick=False):
        yield moment


def _read(cause: str, at: dt.datetime) -> None:
    """Each recipient read their notification of ``cause`` at ``at`` (or once it reached them)."""
    for note in Notification.objects.filter(cause=cause).select_related("user"):
        with _at(max(at, note.deliver_at)):
            notification_mark_read(actor=note.user, notification_ids=[note.pk])


def _school_days_from(
    cal: worktime.WorkCalendar, day: dt.date, n: int, step: int = 1, horizon: int = 60
) -> list[dt.date]:
    """Up to ``n`` school days from ``day`` on (inclusive), forward (``step`` 1) or back (-1)."""
    days: list[dt.date] = []
    for _ in range(horizon):
        if len(days) == n:
            break
        if worktime.is_working_day(cal, day):
            days.append(day)
        day += dt.timedelta(days=step)
    return days


def absences_create(
    *,
    demo: DemoSchool,
    logins: Collection[str],
    parent: User,
    office: User,
    director: User,
    moment: dt.datetime,
    today: dt.date,
    rng: random.Random,
) -> None:
    """The demo's school day (the build date, or the last school day before it): sick reports
    and a doctor's visit in six groups, one of them late; a 5a pupil in their fourth school
    day of sickness, whose follow-up task the sweep made yesterday; leave for ouder@'s children
    awaiting the director, and another family's extra vacation, granted weeks ago, from today.

    Children of the demo logins' families (``logins``) are left out (ouder@'s, ``parent``'s,
    pending leave aside), so the logins' own pages stay as the other parts describe them.
    """
    school, cal = demo.school, demo.calendar
    found = _school_days_from(cal, today, 1, step=-1, horizon=10)
    if not found:
        return  # the summer holidays: the school year has not begun
    day = found[0]
    excluded = set(
        Pupil.objects.filter(
            school=school, guardian_relations__guardian__user__email__in=list(logins)
        ).values_list("pk", flat=True)
    )
    by_group: dict[str, list[Pupil]] = defaultdict(list)
    for pupil in (
        Pupil.objects.filter(school=school)
        .exclude(pk__in=excluded)
        .select_related("school", "group")
        .order_by("external_id")
    ):
        by_group[pupil.group.name].append(pupil)
    # Who reports for a child: its first guardian with an account who may act for it.
    reporters: dict[int, int] = {}
    for pupil_id, user_id in (
        GuardianRelation.objects.filter(
            pupil__school=school, access__in=ACT_ACCESS, guardian__user__is_active=True
        )
        .order_by("guardian__external_id")
        .values_list("pupil_id", "guardian__user_id")
    ):
        reporters.setdefault(pupil_id, user_id)
    taken: set[int] = set()

    def pick(group: str, *, with_account: bool = True) -> tuple[Pupil, User | None]:
        pupil = rng.choice(
            [p for p in by_group[group] if p.pk not in taken and (p.pk in reporters or not with_account)]
        )
        taken.add(pupil.pk)
        reporter = User.objects.get(pk=reporters[pupil.pk]) if pupil.pk in reporters else None
        return pupil, reporter

    _leave_granted_create(director=director, cal=cal, day=day, moment=moment, pick=pick)

    # Sick since three school days ago: yesterday was the third, the sweep made the task.
    before = _school_days_from(cal, day - dt.timedelta(days=1), 3, step=-1)
    if len(before) == 3:
        pupil, reporter = pick(FOLLOW_UP_GROUP)
        with _at(_local(before[-1], 7, 35)) as now:
            services.absence_reports_create(
                actor=reporter,
                pupils=[pupil],
                kind=_SICK,
                starts_on=before[-1],
                note="Griep met hoge koorts.",
                now=now,
            )
        # The sweep made the task at the opening of the third day; the teachers were told.
        with _at(worktime.opening_of(cal, before[0])) as now:
            services.follow_ups_create_due(now=now)

    _leave_pending_create(parent=parent, cal=cal, day=day, before=before)

    for index, (group, kind, channel, (days_before, hour, minute), times, one_day, note) in enumerate(
        ABSENCES_TODAY
    ):
        pupil, reporter = pick(group, with_account=channel == _PORTAL)
        extra: dict[str, object] = {}
        if times:
            extra.update(from_time=dt.time(*times[0]), until_time=dt.time(*times[1]))
        actor = reporter
        if channel == _PHONE:
            actor = office
            caller = (
                GuardianRelation.objects.filter(pupil=pupil, access__in=ACT_ACCESS)
                .select_related("guardian")
                .order_by("guardian__external_id")
                .first()
            )
            extra["caller"] = caller.guardian.full_name if caller else ""
        reported = demo.not_after_build(
            _local(day - dt.timedelta(days=days_before), hour, minute),
            before=dt.timedelta(minutes=2 * (len(ABSENCES_TODAY) - index)),
        )
        with _at(reported) as now:
            services.absence_reports_create(
                actor=actor,
                pupils=[pupil],
                kind=kind,
                starts_on=day,
                ends_on=day if one_day else None,
                channel=channel,
                note=note,
                now=now,
                **extra,
            )


def _leave_granted_create(
    *, director: User, cal: worktime.WorkCalendar, day: dt.date, moment: dt.datetime, pick
) -> None:
    """Extra vacation (art. 13a) for a 4b child from the demo's day on, five school days,
    requested nine weeks ahead and granted by the director three days later.

    Skipped where the Leerplichtwet would refuse it (the first two school weeks).
    """
    pupil, parent = pick(LEAVE_GROUP)
    days = _school_days_from(cal, day, 5)
    submitted = max(
        _local(day - dt.timedelta(weeks=9), 20, 30), parent.invited_at + dt.timedelta(days=1, hours=10)
    )
    decided = _local((submitted + dt.timedelta(days=3)).date(), 10, 15)
    kind = LeaveRequest.Kind.EXTRA_VACATION
    check = services.leave_request_check(
        actor=parent,
        pupils=[pupil],
        kind=kind,
        starts_on=days[0],
        ends_on=days[-1],
        has_statement=False,
        now=submitted,
    )
    if check.errors or decided >= moment:
        return
    with _at(submitted):
        leave = services.leave_request_create(
            actor=parent,
            pupils=[pupil],
            kind=kind,
            starts_on=days[0],
            ends_on=days[-1],
            reason=VACATION_REASON,
            explanation=VACATION_EXPLANATION,
            now=submitted,
        )
    _read(f"leave-request:{leave.pk}", decided)
    with _at(decided):
        services.leave_decide(
            actor=director,
            leave_request=leave,
            decision=LeaveRequest.Status.GRANTED,
            reasons=VACATION_DECISION,
            now=decided,
        )
    _read(f"leave-decision:{leave.pk}", decided + dt.timedelta(hours=7))


def _leave_pending_create(
    *, parent: User, cal: worktime.WorkCalendar, day: dt.date, before: list[dt.date]
) -> None:
    """ouder@ asked leave for both children for a family wedding on a Friday about five weeks
    ahead (important circumstances, one school day), two evenings ago: the director has
    been notified and has not decided yet."""
    children = list(access.pupils_actable_by(parent).select_related("school").order_by("external_id"))
    fridays = [d for d in _school_days_from(cal, day + dt.timedelta(days=33), 10) if d.weekday() == FRI]
    submitted = _local(before[1] if len(before) > 1 else day - dt.timedelta(days=2), 21, 10)
    if not fridays or not children:
        return
    kind = LeaveRequest.Kind.IMPORTANT
    check = services.leave_request_check(
        actor=parent,
        pupils=children,
        kind=kind,
        starts_on=fridays[0],
        ends_on=fridays[0],
        has_statement=False,
        now=submitted,
    )
    if check.errors:
        return
    with _at(submitted):
        services.leave_request_create(
            actor=parent,
            pupils=children,
            kind=kind,
            starts_on=fridays[0],
            ends_on=fridays[0],
            reason=WEDDING_REASON,
            now=submitted,
        )


def summary(school: School) -> dict[str, object]:
    reports = AbsenceReport.objects.filter(school=school)
    groups = reports.values("pupil__group").distinct().count()
    late = reports.filter(reported_late=True).count()
    tasks = FollowUp.objects.filter(school=school, done_at__isnull=True).count()
    requests = LeaveRequest.objects.filter(school=school)
    waiting = requests.filter(status=LeaveRequest.Status.SUBMITTED).count()
    granted = requests.filter(status=LeaveRequest.Status.GRANTED).count()
    return {
        "absences": (
            f"{reports.count()} reports in {groups} groups ({late} reported late), "
            f"{tasks} open follow-up task{'' if tasks == 1 else 's'}"
        ),
        "leave requests": f"{requests.count()}: {waiting} awaiting the director, {granted} granted",
    }
