"""Writes of absences and leave: report, recover, withdraw, mark unexplained, follow up, decide.

Every public service takes the acting user first and checks access itself (a view,
a task and a management command alike); a pupil the actor may not act for is "not
found" (404), never "forbidden", so nobody learns another child exists.

Idempotency: every form carries a ``submission`` key. A double submit finds the rows
the first one made (unique per pupil and submission); two parents reporting the same
child at once meet the "one open sickness per pupil" constraint and the pupil row
lock, so no spell is ever stored twice.

Notifications are rows written in the same transaction (``notify``: at most once per
user and cause, staff only within their working time); e-mail leaves after commit.
What staff send to a family (a leave decision, an unexplained-absence notice) leaves
within the sender's working time, as posts and chat messages do (``sender_delivery_time``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from klimop import access, media, worktime
from klimop import selectors as directory
from klimop import services as klimop_services
from klimop.models import Pupil, School, SchoolYear, StaffMember, User
from klimop.notifications.services import notify

from . import rules, statutory
from . import selectors as read
from .models import AbsenceReport, FollowUp, LeaveEvent, LeaveRequest, ReportEvent

Kind = AbsenceReport.Kind
Channel = AbsenceReport.Channel
Status = LeaveRequest.Status

MAX_NOTE_CHARS = 500


def day_label(day: dt.date) -> str:
    return formats.date_format(day, "l j F")


def _hhmm(moment: dt.time | None) -> str:
    return moment.strftime("%H:%M") if moment else ""


# --- reports -------------------------------------------------------------------------------------


def _hours_between(start: dt.time, end: dt.time) -> Decimal:
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return (Decimal(max(minutes, 0)) / Decimal(60)).quantize(Decimal("0.01"))


def _check_times(
    kind: str, from_time, until_time, settings
) -> tuple[dt.time | None, dt.time | None, Decimal | None]:
    """Validate the times of a kind; return (from, until, hours missed)."""
    if kind == Kind.SICK:
        return None, None, None
    if kind == Kind.APPOINTMENT and (from_time is None or until_time is None):
        raise ValidationError(
            {
                "from_time" if from_time is None else "until_time": _(
                    "Please fill in when the appointment starts and ends."
                )
            }
        )
    if kind == Kind.LATE:
        if until_time is None:
            raise ValidationError({"until_time": _("Please fill in when your child will arrive.")})
        if until_time <= settings.lessons_start:
            raise ValidationError(
                {
                    "until_time": _("Lessons start at %(time)s; an arrival after that time, please.")
                    % {"time": _hhmm(settings.lessons_start)}
                }
            )
        return None, until_time, _hours_between(settings.lessons_start, until_time)
    if (from_time is None) != (until_time is None):
        raise ValidationError({"until_time": _("Fill in both times, or neither for the whole day.")})
    if from_time is not None and until_time <= from_time:
        raise ValidationError({"until_time": _("The end time must be after the start time.")})
    if from_time is None:  # a whole day (unexplained): the lesson hours
        return None, None, Decimal(str(round(settings.lesson_hours, 2)))
    return from_time, until_time, _hours_between(from_time, until_time)


def _check_school_day(school, cal, day: dt.date, field: str = "starts_on") -> None:
    if worktime.is_working_day(cal, day):
        return
    name = read.why_no_school(school, day)
    if name:
        message = _("%(day)s is not a school day (%(name)s).") % {"day": day_label(day), "name": name}
    else:
        message = _("%(day)s is not a school day.") % {"day": day_label(day)}
    raise ValidationError({field: message})


def _span(report_kind: str, from_time, until_time) -> tuple[dt.time, dt.time]:
    if report_kind in (Kind.SICK,):
        return dt.time(0), dt.time(23, 59)
    return from_time or dt.time(0), until_time or dt.time(23, 59)


def _describe(report: AbsenceReport) -> str:
    if report.kind == Kind.SICK:
        return _("reported sick from %(day)s") % {"day": day_label(report.starts_on)}
    if report.kind == Kind.APPOINTMENT:
        return _("an appointment on %(day)s, %(from)s–%(until)s") % {
            "day": day_label(report.starts_on),
            "from": _hhmm(report.from_time),
            "until": _hhmm(report.until_time),
        }
    if report.kind == Kind.LATE:
        return _("arrives later on %(day)s (%(time)s)") % {
            "day": day_label(report.starts_on),
            "time": _hhmm(report.until_time),
        }
    return _("absent without a report on %(day)s") % {"day": day_label(report.starts_on)}


@dataclass(frozen=True)
class Skipped:
    """A child of a report of several who was not reported: already reported for that time
    (or on granted leave). ``message`` names the child and says what was reported before."""

    pupil: Pupil
    message: str


class Reports(list[AbsenceReport]):
    """The reports one form made (one per child reported), and the children it skipped because
    they were already reported for that time (``skipped``, in the order they were chosen)."""

    def __init__(self, reports=(), skipped: Sequence[Skipped] = ()):
        super().__init__(reports)
        self.skipped: list[Skipped] = list(skipped)


def _skipped_message(pupil: Pupil, clash: str | LeaveRequest) -> str:
    if isinstance(clash, LeaveRequest):
        return _("%(name)s has leave from %(first)s to %(last)s, so was not reported.") % {
            "name": pupil.first_name,
            "first": day_label(clash.starts_on),
            "last": day_label(clash.ends_on),
        }
    return _("%(name)s was already %(what)s, so was not reported again.") % {
        "name": pupil.first_name,
        "what": clash,
    }


def _conflicts(
    pupil: Pupil, kind: str, starts_on: dt.date, ends_on: dt.date | None, from_time, until_time
) -> tuple[list[str], list[AbsenceReport], list[str | LeaveRequest]]:
    """Messages for reports this one would clash with, the unexplained marks it explains, and
    the clashes themselves (what was reported before, described; or the granted leave).

    A sick spell clashes with another sick spell; a single-day report clashes with a
    sickness covering its day and with a report of its own kind whose times overlap.
    Unexplained marks on the days a real report covers are explained by it (not a clash),
    unless the new report is itself an unexplained mark.
    """
    last = ends_on or dt.date.max
    existing = AbsenceReport.objects.filter(
        pupil=pupil,
        cancelled_at__isnull=True,
        explained_by__isnull=True,
        starts_on__lte=last,
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on))
    messages, explains = [], []
    clashes: list[str | LeaveRequest] = []
    lo, hi = _span(kind, from_time, until_time)
    for other in existing:
        if other.kind == Kind.UNEXPLAINED and kind != Kind.UNEXPLAINED:
            explains.append(other)
            continue
        if kind == Kind.SICK and other.kind != Kind.SICK:
            continue  # a sickness makes a planned appointment moot; both stay visible
        if other.kind != Kind.SICK and kind != Kind.SICK:
            olo, ohi = _span(other.kind, other.from_time, other.until_time)
            same_kind = other.kind == kind or Kind.UNEXPLAINED in (other.kind, kind)
            if not same_kind or not (lo < ohi and olo < hi):
                continue
        what = _describe(other)
        clashes.append(what)
        messages.append(_("%(name)s: already %(what)s.") % {"name": pupil.first_name, "what": what})
    leave = LeaveRequest.objects.filter(
        pupils=pupil, status=Status.GRANTED, starts_on__lte=last, ends_on__gte=starts_on
    ).first()
    if leave is not None:
        clashes.append(leave)
        messages.append(
            _("%(name)s has leave from %(first)s to %(last)s.")
            % {
                "name": pupil.first_name,
                "first": day_label(leave.starts_on),
                "last": day_label(leave.ends_on),
            }
        )
    return messages, explains, clashes


def _lock_pupils(pupils: Sequence[Pupil]) -> None:
    # Serialises reports about the same child (two parents at 07:50): the second one
    # sees the first one's rows in its conflict check. Ordered by pk: no deadlocks.
    list(Pupil.objects.select_for_update().filter(pk__in=[p.pk for p in pupils]).order_by("pk"))


def _check_actor(actor: User, pupils: Sequence[Pupil], channel: str, kind: str) -> None:
    if not pupils:
        raise ValidationError({"pupils": _("Please choose at least one child.")})
    if channel == Channel.PORTAL:
        if kind == Kind.UNEXPLAINED:
            raise PermissionDenied
        allowed = set(
            rules.children_reportable_by(actor)
            .filter(pk__in=[p.pk for p in pupils])
            .values_list("pk", flat=True)
        )
    else:
        allowed = set(
            rules.pupils_in_care_of(actor).filter(pk__in=[p.pk for p in pupils]).values_list("pk", flat=True)
        )
    if any(p.pk not in allowed for p in pupils):
        raise Http404
    if len({p.school_id for p in pupils}) > 1:
        raise ValidationError({"pupils": _("Please report children of different schools separately.")})


def _already_made(
    actor: User,
    pupils: Sequence[Pupil],
    submission: uuid.UUID | None,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date | None,
    from_time: dt.time | None,
    until_time: dt.time | None,
) -> Reports | None:
    """What a first submit of this form stored, with the children it skipped then (they clash
    with a report that is still there), or None when this is the first submit."""
    if submission is None:
        return None
    if kind != Kind.SICK:
        ends_on = starts_on
    by_pupil = {
        r.pupil_id: r
        for r in AbsenceReport.objects.filter(submission=submission, pupil__in=pupils, reported_by=actor)
    }
    if not by_pupil:
        return None
    skipped = []
    for pupil in pupils:
        if pupil.pk not in by_pupil:
            _messages, _explains, clashes = _conflicts(pupil, kind, starts_on, ends_on, from_time, until_time)
            if clashes:
                skipped.append(Skipped(pupil, _skipped_message(pupil, clashes[0])))
    return Reports([by_pupil[p.pk] for p in pupils if p.pk in by_pupil], skipped=skipped)


def absence_reports_create(
    *,
    actor: User,
    pupils: Sequence[Pupil],
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    from_time: dt.time | None = None,
    until_time: dt.time | None = None,
    note: str = "",
    channel: str = Channel.PORTAL,
    caller: str = "",
    submission: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> Reports:
    """Report one or more children absent: sick (from a day, until recovered or a last day),
    an appointment (a day and a time span), a later arrival, or — staff only — absent
    without a report.

    Preconditions: ``channel`` PORTAL: the actor may act for every pupil
    (``access.pupils_actable_by``) and the school takes reports in the portal; PHONE and
    SCHOOL: every pupil is in the actor's care (``rules.pupils_in_care_of``). A pupil
    the actor may not report for raises ``Http404``. Parents report from today on;
    staff may also record an earlier day of the school year. The first day is a school
    day.

    Returns the reports (one per pupil). The same ``submission`` again returns the rows
    of the first call (a double submit). A report made after the cutoff (or after lessons
    started) on its first day is marked late. Side effects: unexplained marks on the same
    days are explained by the new report; an unexplained mark notifies the guardians
    within the school's office hours.

    Several children, one of them already reported for that time (or on granted leave): the
    others are reported, in the one transaction, and the returned ``Reports.skipped`` names
    the one that was not, with what was reported before. Only when every child clashes is
    nothing stored (``ValidationError`` naming each).
    """
    now = now or timezone.now()
    today = read.local_today(now)
    pupils = list(pupils)
    _check_actor(actor, pupils, channel, kind)
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Please choose what to report.")})
    if submission is not None:
        done = _already_made(actor, pupils, submission, kind, starts_on, ends_on, from_time, until_time)
        if done is not None:
            return done
    school = pupils[0].school
    settings = read.absence_settings_for(school)
    if channel == Channel.PORTAL and not settings.sick_reports_via_portal:
        raise ValidationError(
            _("%(school)s takes absence reports by phone: please call %(phone)s.")
            % {"school": school.name, "phone": school.phone or _("the school")}
        )
    cal = directory.school_calendar(school)
    if kind != Kind.SICK:
        ends_on = starts_on  # appointments, late arrivals and unexplained marks are single days
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The last day cannot be before the first day.")})
    if channel == Channel.PORTAL and starts_on < today:
        raise ValidationError(
            {"starts_on": _("You can report from today on. For an earlier day, please call the school.")}
        )
    earliest, latest = directory.date_bounds(school, today)
    if starts_on > latest:
        raise ValidationError({"starts_on": directory.too_far_ahead(latest)})
    if ends_on is not None and ends_on > latest:
        raise ValidationError({"ends_on": directory.too_far_ahead(latest)})
    if starts_on < earliest:
        raise ValidationError({"starts_on": directory.too_long_ago(earliest)})
    if read.school_year_containing(school, starts_on) is None:
        raise ValidationError({"starts_on": _("That day is outside the school year.")})
    _check_school_day(school, cal, starts_on)
    from_time, until_time, hours = _check_times(kind, from_time, until_time, settings)
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValidationError(
            {"note": _("Please keep the note under %(n)s characters.") % {"n": MAX_NOTE_CHARS}}
        )
    late = statutory.is_late_report(
        reported_at=now,
        first_day=starts_on,
        cutoff=school.sick_report_cutoff,
        lessons_start=settings.lessons_start,
    )
    submission = submission or uuid.uuid4()
    try:
        with transaction.atomic():
            _lock_pupils(pupils)
            # The twin of a double submit may have committed while this one waited for the lock.
            done = _already_made(actor, pupils, submission, kind, starts_on, ends_on, from_time, until_time)
            if done is not None:
                return done
            problems, explained, skipped, free = [], {}, [], []
            for pupil in pupils:
                clash, explains, clashes = _conflicts(pupil, kind, starts_on, ends_on, from_time, until_time)
                if clash:
                    # Already reported for that time: the others are reported, this one is named.
                    problems += clash
                    skipped.append(Skipped(pupil, _skipped_message(pupil, clashes[0])))
                else:
                    free.append(pupil)
                    explained[pupil.pk] = explains
            if not free:
                raise ValidationError(problems)
            reports = Reports(skipped=skipped)
            for pupil in free:
                report = AbsenceReport(
                    school=school,
                    pupil=pupil,
                    kind=kind,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    from_time=from_time,
                    until_time=until_time,
                    hours=hours,
                    note=note,
                    caller=(caller or "").strip()[:120] if channel == Channel.PHONE else "",
                    channel=channel,
                    reported_at=now,
                    reported_by=actor,
                    reported_late=late,
                    submission=submission,
                )
                report.full_clean(validate_constraints=False)
                report.save()
                ReportEvent.objects.create(
                    report=report,
                    action=ReportEvent.Action.CREATED,
                    actor=actor,
                    at=now,
                    detail=report.get_channel_display(),
                )
                for mark in explained[pupil.pk]:
                    mark.explained_by = report
                    mark.save(update_fields=["explained_by"])
                    ReportEvent.objects.create(
                        report=mark,
                        action=ReportEvent.Action.EXPLAINED,
                        actor=actor,
                        at=now,
                        detail=report.get_kind_display(),
                    )
                if kind == Kind.UNEXPLAINED:
                    _notify_unexplained(report, now)
                reports.append(report)
    except IntegrityError:
        # The other parent's report (or this form's twin) won the race: say so, store nothing.
        done = _already_made(actor, pupils, submission, kind, starts_on, ends_on, from_time, until_time)
        if done is not None:
            return done
        raise ValidationError(
            _("One of these children was reported just now by someone else. Please check the list.")
        ) from None
    return reports


def sender_delivery_time(actor: User | None, school: School, now: dt.datetime) -> dt.datetime:
    """When something a staff member sends to a family at ``now`` reaches it: the one rule
    of ``klimop.selectors.staff_delivery_time`` (their next working moment at the school)."""
    return directory.staff_delivery_time(sender=actor, school=school, now=now)


def _guardian_users(pupil: Pupil) -> list[User]:
    return list(
        User.objects.filter(
            guardian__relations__pupil=pupil,
            guardian__relations__access__in=access.ACT_ACCESS,
            is_active=True,
        ).distinct()
    )


def _notify_unexplained(report: AbsenceReport, now: dt.datetime) -> None:
    """Tell the guardians, within the working time of the staff member who recorded the mark
    (``sender_delivery_time``: a mark made in the evening reaches them at the next opening)."""
    school = report.school
    deliver_at = sender_delivery_time(report.reported_by, school, now)
    notify(
        users=_guardian_users(report.pupil),
        cause=f"absence-unexplained:{report.pk}",
        message="absence.unexplained",
        params={"name": report.pupil.first_name, "day": report.starts_on, "phone": school.phone or "-"},
        url=reverse("absences:overview"),
        deliver_at=deliver_at,
    )


def _pupil_for_actor(actor: User, report: AbsenceReport) -> None:
    if not (
        rules.children_reportable_by(actor).filter(pk=report.pupil_id).exists()
        or rules.is_staff_for(actor, report.pupil)
    ):
        raise Http404


def absence_report_recover(
    *, actor: User, report: AbsenceReport, back_on: dt.date, now: dt.datetime | None = None
) -> AbsenceReport:
    """Report that a sick child is better and back at school on ``back_on``.

    The spell ends on the last school day before ``back_on``. Back on the very first
    day of the report means the child was never absent: the report is withdrawn.
    Preconditions: the actor may report for the pupil (else 404); the report is an open
    sickness (else ``ValidationError``).
    """
    now = now or timezone.now()
    _pupil_for_actor(actor, report)
    today = read.local_today(now)
    if back_on > today + dt.timedelta(days=14):
        raise ValidationError({"back_on": _("Please report recovery at most two weeks ahead.")})
    if back_on < report.starts_on:
        raise ValidationError(
            {
                "back_on": _("The day back cannot be before the first day of sickness (%(day)s).")
                % {"day": day_label(report.starts_on)}
            }
        )
    cal = directory.school_calendar(report.school)
    with transaction.atomic():
        report = AbsenceReport.objects.select_for_update().select_related("school", "pupil").get(pk=report.pk)
        if not report.is_open:
            raise ValidationError(_("This sickness has already been closed."))
        if back_on == report.starts_on:
            report.cancelled_at, report.cancelled_by = now, actor
            report.save(update_fields=["cancelled_at", "cancelled_by"])
            ReportEvent.objects.create(
                report=report,
                action=ReportEvent.Action.CANCELLED,
                actor=actor,
                at=now,
                detail=_("better before the first day"),
            )
            return report
        days = statutory.school_days(cal, report.starts_on, back_on - dt.timedelta(days=1))
        report.ends_on = days[-1] if days else back_on - dt.timedelta(days=1)
        report.recovered_at, report.recovered_by = now, actor
        report.save(update_fields=["ends_on", "recovered_at", "recovered_by"])
        ReportEvent.objects.create(
            report=report,
            action=ReportEvent.Action.RECOVERED,
            actor=actor,
            at=now,
            detail=_("back on %(day)s") % {"day": back_on.isoformat()},
        )
    return report


def absence_report_cancel(
    *, actor: User, report: AbsenceReport, now: dt.datetime | None = None
) -> AbsenceReport:
    """Withdraw a report. Guardians withdraw their reports from today on; staff any report
    of a pupil in their care (a mistake on the phone). Withdrawn reports no longer count."""
    now = now or timezone.now()
    _pupil_for_actor(actor, report)
    is_staff = rules.is_staff_for(actor, report.pupil)
    if not is_staff and report.starts_on < read.local_today(now):
        raise ValidationError(_("A report about an earlier day can only be changed by the school."))
    with transaction.atomic():
        report = AbsenceReport.objects.select_for_update().get(pk=report.pk)
        if report.cancelled_at is not None:
            return report
        report.cancelled_at, report.cancelled_by = now, actor
        report.save(update_fields=["cancelled_at", "cancelled_by"])
        ReportEvent.objects.create(report=report, action=ReportEvent.Action.CANCELLED, actor=actor, at=now)
    return report


# --- follow-up after N school days of sickness ----------------------------------------------------


def _teacher_users(pupil: Pupil) -> list[User]:
    if pupil.group_id is None:
        return []
    return list(User.objects.filter(staff_members__groups=pupil.group_id, is_active=True).distinct())


#: How far back the sweep looks for sick reports: a spell that reached its N-th school day
#: while the sweep did not run (or that staff recorded afterwards) still gets its task.
FOLLOW_UP_LOOKBACK_DAYS = 120


def follow_ups_create_due(*, now: dt.datetime | None = None) -> int:
    """System sweep: a follow-up task for each sickness spell that reached the school's
    N-th consecutive school day (default 3), from that day's opening on.

    A spell is the run of consecutive school days on which the child was reported sick,
    however many reports make it (``statutory.sickness_spells``): reported day by day, or
    "better" in the evening and sick again the next morning. Weekends, holidays and study
    days neither count nor break it. Once per spell: a spell that has a task (due on one of
    its days, or made for one of its reports) gets no second one, also when a later report
    extends it or the sweep runs twice at once. The teachers of the pupil's group are
    notified (each within their own working time).
    """
    now = now or timezone.now()
    today = read.local_today(now)
    since = today - dt.timedelta(days=FOLLOW_UP_LOOKBACK_DAYS)
    # Pupils with a recent sick report that has no task of its own; their other reports
    # (which may carry the spell's task) come along in the next query.
    pupils = (
        read.sick_reports_of(None, until=today, since=since)
        .filter(follow_up__isnull=True)
        .order_by()
        .values("pupil_id")
    )
    reports = list(
        read.sick_reports_of(pupils, until=today, since=since).select_related("school__absence_settings")
    )
    follow_ups: dict[int, list[FollowUp]] = {}
    for task in FollowUp.objects.filter(pupil_id__in=pupils, due_on__gte=since - dt.timedelta(days=60)):
        follow_ups.setdefault(task.pupil_id, []).append(task)
    calendars: dict[int, worktime.WorkCalendar] = {}
    by_pupil: dict[int, list[AbsenceReport]] = {}
    for report in reports:
        by_pupil.setdefault(report.pupil_id, []).append(report)
    created = 0
    for pupil_id, mine in by_pupil.items():
        school = mine[0].school
        if school.pk not in calendars:
            calendars[school.pk] = directory.school_calendar(school)
        cal = calendars[school.pk]
        for spell in read.spells_by_pupil(cal, mine, until=today).get(pupil_id, []):
            n = read.absence_settings_for(school).sickness_follow_up_school_days
            due = statutory.nth_day_of_spell(cal, spell, n)
            if due is None or due > today or now < worktime.opening_of(cal, due):
                continue
            in_spell = read.reports_in_spell(mine, spell, until=today)
            if read.spell_follow_up(follow_ups.get(pupil_id, []), spell, [r.pk for r in in_spell]):
                continue
            created += _follow_up_create(pupil_id=pupil_id, school=school, due_on=due, cal=cal, now=now)
    return created


def _follow_up_create(
    *, pupil_id: int, school: School, due_on: dt.date, cal: worktime.WorkCalendar, now: dt.datetime
) -> int:
    """System: make the one task of the spell whose N-th school day is ``due_on`` and tell the
    teachers. Under the pupil's lock (as reports are made), the spell is worked out again from
    all the pupil's sick reports, so a spell longer than the sweep's look-back, a report made
    meanwhile or a second sweep never makes a second task."""
    today = read.local_today(now)
    with transaction.atomic():
        pupil = Pupil.objects.select_for_update(of=("self",)).select_related("group").get(pk=pupil_id)
        reports = list(read.sick_reports_of([pupil_id], until=today))
        spells = read.spells_by_pupil(cal, reports, until=today).get(pupil_id, [])
        spell = next((s for s in spells if s.covers(due_on)), None)
        n = read.absence_settings_for(school).sickness_follow_up_school_days
        if spell is None or statutory.nth_day_of_spell(cal, spell, n) != due_on:
            return 0
        in_spell = read.reports_in_spell(reports, spell, until=today)
        if read.spell_follow_up(FollowUp.objects.filter(pupil_id=pupil_id), spell, [r.pk for r in in_spell]):
            return 0
        follow_up, made = FollowUp.objects.get_or_create(
            report=in_spell[0],
            defaults={"school_id": school.pk, "pupil_id": pupil_id, "due_on": due_on, "created_at": now},
        )
        if not made:
            return 0
        notify(
            users=_teacher_users(pupil),
            cause=f"absence-follow-up:{follow_up.pk}",
            message="absence.follow_up",
            params={"name": pupil.first_name, "n": n, "day": spell.first_day},
            url=reverse("absences:today") + f"#follow-up-{follow_up.pk}",
        )
    return 1


def follow_up_complete(
    *, actor: User, follow_up: FollowUp, note: str = "", now: dt.datetime | None = None
) -> FollowUp:
    """A teacher (or whole-school staff) marks the follow-up done, with a note of the contact."""
    now = now or timezone.now()
    if not rules.is_staff_for(actor, follow_up.pupil):
        raise Http404
    note = (note or "").strip()
    if len(note) > 1000:
        raise ValidationError({"note": _("Please keep the note under %(n)s characters.") % {"n": 1000}})
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.done_at is not None:
            raise ValidationError(_("This follow-up was already marked done."))
        follow_up.done_at, follow_up.done_by, follow_up.note = now, actor, note
        follow_up.save(update_fields=["done_at", "done_by", "note"])
    return follow_up


# --- leave ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """An employer's statement (or other proof) after its content was checked."""

    content: ContentFile
    content_type: str
    name: str


def leave_statement_process(upload) -> Statement:
    """Accept a PDF (by its signature) or a photo/scan (decoded and re-encoded, metadata
    removed); raise ``ValidationError`` with a clear message otherwise. Size limits are
    klimop.media's: PDF 10 MB, photo 15 MB."""
    name = getattr(upload, "name", "") or "verklaring"
    upload.seek(0)
    head = upload.read(1024)
    upload.seek(0)
    if b"%PDF-" in head:
        media.check_pdf(upload)
        return Statement(
            content=ContentFile(upload.read(), name="statement.pdf"),
            content_type="application/pdf",
            name=media.safe_download_name(name),
        )
    try:
        image = media.process_photo(upload)
    except ValidationError as exc:
        if exc.code in ("too_large", "too_many_pixels"):
            raise
        raise ValidationError(
            _("%(name)s is not a PDF file or a photo. Please attach a PDF, JPEG or PNG.") % {"name": name},
            code="not_a_statement",
        ) from None
    base = name.rsplit(".", 1)[0][:100] or "verklaring"
    ext = "png" if image.content_type == "image/png" else "jpg"
    return Statement(content=image.image, content_type=image.content_type, name=f"{base}.{ext}")


def _leave_calendar(
    school: School, ends_on: dt.date
) -> tuple[worktime.WorkCalendar, list[statutory.SchoolYearSpan], dict[str, SchoolYear], bool]:
    """The calendar a leave period is checked on, the school years it may reach into, the
    entered ones by name, and whether the whole period lies within known years.

    The school's own calendar and school years first. A period that reaches past the last
    year the school entered is checked against the national calendar for the school's
    region (``klimop.services.school_year_bounds``, as ``school_year_create`` would enter
    the year): its first and last day, every weekday in between counted as a school day,
    because its holidays and the school's study days are not known yet. So the count of
    school days there can be too high, never too low: the 10-day limit and the attendance
    officer's threshold are never dodged. Past what the national calendar knows, the
    period is not known (the caller refuses it: "please apply later").
    """
    cal = directory.school_calendar(school)
    entered = list(SchoolYear.objects.filter(school=school).order_by("starts_on"))
    years = [statutory.SchoolYearSpan(y.name, y.starts_on, y.ends_on) for y in entered]
    if not entered:
        return cal, years, {}, False
    known_until, start_year = entered[-1].ends_on, entered[-1].starts_on.year + 1
    terms = list(cal.terms)
    while known_until < ends_on:
        try:
            first, last = klimop_services.school_year_bounds(region=school.region, start_year=start_year)
        except ValidationError:
            break
        first = max(first, known_until + dt.timedelta(days=1))
        if first <= last:
            name = f"{start_year}/{start_year + 1}"
            years.append(statutory.SchoolYearSpan(name, first, last, entered=False))
            terms.append((first, last))
            known_until = last
        start_year += 1
    return replace(cal, terms=tuple(terms)), years, {y.name: y for y in entered}, known_until >= ends_on


def _vacation_leave_by_year(
    pupils: Sequence[Pupil], cal: worktime.WorkCalendar, years: Sequence[statutory.SchoolYearSpan]
) -> dict[str, list[str]]:
    """Per school year, the children (of ``pupils``) who already have pending, granted or
    forwarded art. 13a leave with a school day in it: a request across the summer counts in
    both years."""
    if not years:
        return {}
    first, last = min(y.first_day for y in years), max(y.last_day for y in years)
    ids = {p.pk for p in pupils}
    taken: dict[str, set[str]] = {}
    for other in (
        LeaveRequest.objects.filter(
            pupils__in=list(ids),
            kind=LeaveRequest.Kind.EXTRA_VACATION,
            status__in=LeaveRequest.ACTIVE,
            starts_on__lte=last,
            ends_on__gte=first,
        )
        .prefetch_related("pupils")
        .distinct()
    ):
        for year in statutory.school_years_touched(cal, years, other.starts_on, other.ends_on):
            taken.setdefault(year.name, set()).update(p.first_name for p in other.pupils.all() if p.pk in ids)
    return {name: sorted(names) for name, names in taken.items()}


def leave_request_check(
    *,
    actor: User,
    pupils: Sequence[Pupil],
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    has_statement: bool,
    now: dt.datetime | None = None,
) -> statutory.LeaveCheck:
    """The statutory checks for a request the actor is about to make (also for the form's
    live preview). Pupils the actor may not act for: 404."""
    pupils = list(pupils)
    _check_leave_actor(actor, pupils)
    return _leave_check(
        pupils=pupils, kind=kind, starts_on=starts_on, ends_on=ends_on, has_statement=has_statement, now=now
    )[0]


def _leave_check(
    *,
    pupils: Sequence[Pupil],
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    has_statement: bool,
    now: dt.datetime | None,
) -> tuple[statutory.LeaveCheck, SchoolYear | None]:
    """``leave_request_check`` and the school year the request is filed under: the entered
    year of its first school day. Trusts its caller for access."""
    school = pupils[0].school
    today = read.local_today(now)
    _earliest, latest = directory.date_bounds(school, today)
    if max(starts_on, ends_on) > latest:
        # Also keeps the day-by-day count of school days short (a last day in 9999 …).
        check = statutory.LeaveCheck()
        check.errors.append(directory.too_far_ahead(latest))
        return check, None
    no_year = _("The school has no school year for these dates yet; please apply later.")
    cal, years, entered, known = _leave_calendar(school, max(starts_on, ends_on))
    if not known:
        check = statutory.LeaveCheck()
        check.errors.append(no_year)
        return check, None
    touched = statutory.school_years_touched(cal, years, starts_on, ends_on)
    check = statutory.check_leave(
        cal=cal,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        today=today,
        school_years=years,
        has_statement=has_statement,
        vacation_leave_by_year=_vacation_leave_by_year(pupils, cal, touched) if kind == "vacation" else None,
    )
    year = entered.get(check.school_years[0].name) if check.school_years else None
    if check.school_years and (year is None or not check.school_years[0].entered):
        # Leave that begins in a year the school has not entered yet waits for it.
        check.errors.append(no_year)
    return check, year


def _check_leave_actor(actor: User, pupils: Sequence[Pupil]) -> None:
    if not pupils:
        raise ValidationError({"pupils": _("Please choose at least one child.")})
    allowed = set(
        rules.children_reportable_by(actor).filter(pk__in=[p.pk for p in pupils]).values_list("pk", flat=True)
    )
    if any(p.pk not in allowed for p in pupils):
        raise Http404
    if len({p.school_id for p in pupils}) > 1:
        raise ValidationError({"pupils": _("Please request leave per school.")})


WARNING_MESSAGES = {
    "late": gettext_lazy(
        "You are applying less than 8 weeks before the leave starts. The school may "
        "ask why it could not be requested earlier."
    ),
    "no_statement": gettext_lazy(
        "There is no employer's statement attached. For extra vacation leave "
        "the school needs one that shows the parent cannot take a holiday "
        "in the school holidays."
    ),
}


def leave_request_create(
    *,
    actor: User,
    pupils: Sequence[Pupil],
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    reason: str,
    explanation: str = "",
    statement: Statement | None = None,
    submission: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> LeaveRequest:
    """A guardian requests leave for one or more of their children.

    Preconditions: the actor may act for every pupil (else 404), all at one school that
    takes leave requests in the portal. The Leerplichtwet rules (``statutory.check_leave``)
    are checked: a hard rule refuses the request with its reason (``ValidationError``,
    nothing stored); guidance (less than 8 weeks ahead, no employer's statement) needs an
    ``explanation`` (``ValidationError`` on that field otherwise, code ``needs_explanation``).
    A child with another pending or granted request overlapping these dates refuses it too.
    Leave over 10 school days of any kind but art. 13a is marked for the attendance officer.

    Side effects: a history row; the school's director is notified (within working time).
    The same ``submission`` again returns the first request (a double submit).
    """
    now = now or timezone.now()
    pupils = list(pupils)
    _check_leave_actor(actor, pupils)
    if submission is not None:
        done = LeaveRequest.objects.filter(requested_by=actor, submission=submission).first()
        if done is not None:
            return done
    school = pupils[0].school
    if not read.absence_settings_for(school).leave_requests_via_portal:
        raise ValidationError(
            _("%(school)s takes leave requests on a paper form; please ask the school.")
            % {"school": school.name}
        )
    if kind not in LeaveRequest.Kind.values:
        raise ValidationError({"kind": _("Please choose the kind of leave.")})
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("The last day cannot be before the first day.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Please describe the reason for the leave.")})
    saved: list[str] = []
    try:
        with transaction.atomic():
            _lock_pupils(pupils)
            check, year = _leave_check(
                pupils=pupils,
                kind=kind,
                starts_on=starts_on,
                ends_on=ends_on,
                has_statement=statement is not None,
                now=now,
            )
            if check.errors or year is None:
                raise ValidationError([str(e) for e in check.errors], code="refused")
            overlapping = (
                LeaveRequest.objects.filter(
                    pupils__in=pupils,
                    status__in=LeaveRequest.ACTIVE,
                    starts_on__lte=ends_on,
                    ends_on__gte=starts_on,
                )
                .prefetch_related("pupils")
                .distinct()
            )
            clashes = [
                _("%(names)s already has a leave request for %(first)s to %(last)s (%(status)s).")
                % {
                    "names": ", ".join(p.first_name for p in other.pupils.all() if p in pupils),
                    "first": day_label(other.starts_on),
                    "last": day_label(other.ends_on),
                    "status": other.get_status_display().lower(),
                }
                for other in overlapping
            ]
            if clashes:
                raise ValidationError(clashes, code="overlap")
            explanation = (explanation or "").strip()
            if check.warnings and not explanation:
                raise ValidationError(
                    {
                        "explanation": [
                            *[str(WARNING_MESSAGES[w]) for w in check.warnings],
                            _("You may still submit the request: please explain the circumstances here."),
                        ]
                    },
                    code="needs_explanation",
                )
            leave = LeaveRequest(
                school=school,
                school_year=year,
                guardian=access.guardian_for(actor, pupils[0]),
                requested_by=actor,
                kind=kind,
                starts_on=starts_on,
                ends_on=ends_on,
                school_days=check.school_days,
                reason=reason,
                explanation=explanation,
                warnings=check.warnings,
                for_attendance_officer=check.for_attendance_officer,
                submitted_at=now,
                submission=submission or uuid.uuid4(),
            )
            leave.full_clean(exclude=["statement"], validate_constraints=False)
            if statement is not None:
                leave.statement.save(statement.content.name, statement.content, save=False)
                saved.append(leave.statement.name)
                leave.statement_name, leave.statement_content_type = statement.name, statement.content_type
            leave.save()
            leave.pupils.set(pupils)
            LeaveEvent.objects.create(
                leave_request=leave, old_status="", new_status=Status.SUBMITTED, actor=actor, at=now
            )
            names = ", ".join(p.first_name for p in pupils)
            notify(
                users=User.objects.filter(
                    staff_members__school=school,
                    is_active=True,
                    staff_members__role=StaffMember.Role.DIRECTOR,
                ),
                cause=f"leave-request:{leave.pk}",
                message="leave.request",
                params={
                    "names": names,
                    "first": starts_on,
                    "last": ends_on,
                    "days": check.school_days,
                    "kind": leave.kind,
                },
                url=reverse("admin:absences_leaverequest_change", args=[leave.pk]),
            )
    except Exception:
        media.delete_files(saved)  # a rolled-back request leaves no file behind
        raise
    return leave


def leave_request_withdraw(
    *, actor: User, leave_request: LeaveRequest, now: dt.datetime | None = None
) -> LeaveRequest:
    """The family withdraws a request the director has not decided yet."""
    now = now or timezone.now()
    if not read.leave_requests_visible_to(actor).filter(pk=leave_request.pk).exists() or (
        not access.is_guardian(actor)
    ):
        raise Http404
    with transaction.atomic():
        leave = LeaveRequest.objects.select_for_update().get(pk=leave_request.pk)
        if leave.status != Status.SUBMITTED:
            raise ValidationError(_("This request has already been decided."))
        leave.status = Status.WITHDRAWN
        leave.save(update_fields=["status"])
        LeaveEvent.objects.create(
            leave_request=leave, old_status=Status.SUBMITTED, new_status=Status.WITHDRAWN, actor=actor, at=now
        )
    return leave


def leave_decide(
    *, actor: User, leave_request: LeaveRequest, decision: str, reasons: str, now: dt.datetime | None = None
) -> LeaveRequest:
    """The director grants, refuses or forwards (to the attendance officer) a request.

    Preconditions: the actor may decide for the school (``rules.may_decide_leave``, else
    ``PermissionDenied``); the request awaits a decision; the reasons are written (a
    formal decision states them). Leave over 10 school days (any kind but art. 13a, which
    is refused) can only be forwarded: the attendance officer decides it (art. 14 lid 3).
    Side effects: a history row; the requesting parent is notified in the portal and by
    e-mail with the decision, its reasons and where to object within six weeks. Like a
    post or a chat message, the decision reaches the family within the director's working
    time (``sender_delivery_time``, kept as ``announced_at``): decided on Saturday evening,
    the family sees it, and hears of it, on Monday at the opening.
    """
    now = now or timezone.now()
    if not rules.may_decide_leave(actor, leave_request.school):
        raise PermissionDenied
    with transaction.atomic():
        leave = LeaveRequest.objects.select_for_update().select_related("school").get(pk=leave_request.pk)
        leave_decision_check(leave_request=leave, decision=decision, reasons=reasons)
        old = leave.status
        leave.status, leave.decided_at, leave.decided_by = decision, now, actor
        leave.decision_reasons = reasons.strip()
        leave.announced_at = sender_delivery_time(actor, leave.school, now)
        leave.save(update_fields=["status", "decided_at", "decided_by", "decision_reasons", "announced_at"])
        LeaveEvent.objects.create(
            leave_request=leave,
            old_status=old,
            new_status=decision,
            actor=actor,
            at=now,
            note=leave.decision_reasons,
        )
        _notify_decision(leave)
    return leave


def leave_decision_check(*, leave_request: LeaveRequest, decision: str, reasons: str) -> None:
    """The rules a decision must meet (``ValidationError`` otherwise); the caller checked access."""
    if leave_request.status != Status.SUBMITTED:
        raise ValidationError(
            _("This request has already been decided (%(status)s).")
            % {"status": leave_request.get_status_display().lower()}
        )
    if decision not in (Status.GRANTED, Status.REFUSED, Status.FORWARDED):
        raise ValidationError({"decision": _("Please choose a decision.")})
    if not (reasons or "").strip():
        raise ValidationError({"reasons": _("Please write the reasons: a decision must state them.")})
    if leave_request.for_attendance_officer and decision != Status.FORWARDED:
        raise ValidationError(
            {
                "decision": _(
                    "More than 10 school days: the attendance officer decides (Leerplichtwet art. 14). "
                    "Please forward the request."
                )
            }
        )


def _decision_params(leave: LeaveRequest) -> dict:
    """The decision as the parent reads it in the portal and the e-mail, rendered in their
    language when read (absences.notification_messages)."""
    officer = read.absence_settings_for(leave.school).attendance_officer
    return {
        "status": leave.status,
        "names": ", ".join(p.first_name for p in leave.pupils.all()),
        "first": leave.starts_on,
        "last": leave.ends_on,
        "days": leave.school_days,
        "reasons": leave.decision_reasons,
        "to_officer": leave.for_attendance_officer or leave.status == Status.FORWARDED,
        "officer": officer or "",
        "director": leave.decided_by.get_full_name() if leave.decided_by else "",
        "school": str(leave.school),
    }


def objection_text(leave: LeaveRequest) -> str:
    """The right to object (Awb art. 6:7: six weeks) and to whom (art. 14 lid 3 Leerplichtwet)."""
    to = read.objection_addressee(leave)
    if leave.status == Status.FORWARDED:
        return _(
            "The attendance officer will decide on your request. You may object to that decision "
            "within six weeks of its date, to %(to)s."
        ) % {"to": to}
    return _(
        "If you disagree with this decision, you may object in writing within six weeks of its "
        "date, to %(to)s. Please state your name, the date, the decision you object to and why."
    ) % {"to": to}


def _notify_decision(leave: LeaveRequest) -> None:
    users = [leave.requested_by] if leave.requested_by is not None else []
    notify(
        users=users,
        cause=f"leave-decision:{leave.pk}",
        message=f"leave.{leave.status}",
        params=_decision_params(leave),
        url=reverse("absences:leave_detail", args=[leave.pk]),
        deliver_at=leave.announced_at,
    )


def pending_statements_forget(
    *, older_than: dt.timedelta = dt.timedelta(days=1), now: dt.datetime | None = None
) -> int:
    """System: remove statements kept for a leave form that was never sent (see views)."""
    from django.core.files.storage import default_storage

    now = now or timezone.now()
    folder = "private/leave/pending"
    try:
        _dirs, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return 0
    gone = 0
    for name in files:
        path = f"{folder}/{name}"
        try:
            if now - default_storage.get_modified_time(path) > older_than:
                default_storage.delete(path)
                gone += 1
        except (FileNotFoundError, NotImplementedError):
            continue
    return gone
