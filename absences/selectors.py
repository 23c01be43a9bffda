"""Reads of absences and leave, filtered by the access rules (``absences.rules`` on ``klimop.access``).

Selectors take the viewer. A record someone may not see is "not found" (404), the
same as a missing one. The three ``*_context`` functions feed the include templates
other pages embed (staff dashboard, parent home); each returns a plain dict and
costs a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from klimop import access, worktime
from klimop import selectors as directory
from klimop.models import NonSchoolDay, Pupil, School, SchoolYear

from . import rules, statutory
from .models import AbsenceReport, AbsenceSettings, FollowUp, LeaveRequest

Kind = AbsenceReport.Kind


# --- settings and calendars -------------------------------------------------------------------


def absence_settings_for(school: School) -> AbsenceSettings:
    """The school's absence settings; an unsaved default when none were made yet."""
    return directory.school_settings(school, AbsenceSettings)


def local_today(now: dt.datetime | None = None) -> dt.date:
    """Today on the school's clock (``worktime.local_date``)."""
    return worktime.local_date(now or timezone.now())


def school_year_containing(school: School | int, day: dt.date) -> SchoolYear | None:
    school_id = school if isinstance(school, int) else school.pk
    return (
        SchoolYear.objects.filter(school_id=school_id, starts_on__lte=day, ends_on__gte=day)
        .order_by("-starts_on")
        .first()
    )


def current_school_year(school: School, today: dt.date) -> SchoolYear | None:
    """The school year running today; in the summer the last one that started."""
    return (
        school_year_containing(school, today)
        or SchoolYear.objects.filter(school=school, starts_on__lte=today).order_by("-starts_on").first()
        or SchoolYear.objects.filter(school=school).order_by("starts_on").first()
    )


def why_no_school(school: School, day: dt.date) -> str | None:
    """The name of the holiday or study day on ``day``, if the school entered one."""
    return NonSchoolDay.objects.filter(school=school, date=day).values_list("name", flat=True).first()


def next_school_day(cal: worktime.WorkCalendar, day: dt.date) -> dt.date:
    """``day`` itself when it is a school day, else the next one (or ``day`` when none is known)."""
    found = statutory.nth_school_day(cal, day, 1, horizon_days=120)
    return found or day


def is_after_cutoff(school: School, now: dt.datetime, settings: AbsenceSettings | None = None) -> bool:
    """Whether a report made ``now`` about today is late (``worktime.report_deadline``)."""
    settings = settings or absence_settings_for(school)
    day = worktime.local_date(now)
    return worktime.is_late(
        now, worktime.report_deadline(day, school.sick_report_cutoff, settings.lessons_start)
    )


def cutoff_of(school: School, settings: AbsenceSettings | None = None) -> dt.time:
    """The time of day from which a report for today is late: the cutoff, or lessons start if earlier."""
    settings = settings or absence_settings_for(school)
    return min(school.sick_report_cutoff, settings.lessons_start)


# --- reports a viewer may see ---------------------------------------------------------------


def _counting() -> Q:
    return Q(cancelled_at__isnull=True, explained_by__isnull=True)


# --- sickness spells ---------------------------------------------------------------------------


def sick_reports_of(pupils, *, until: dt.date, since: dt.date | None = None) -> QuerySet[AbsenceReport]:
    """The sick reports that count of ``pupils`` (ids, pupils or a queryset; None: every pupil)
    that began by ``until``, and, with ``since``, ran on or after it; by pupil and first day.
    The caller checked access."""
    qs = AbsenceReport.objects.filter(_counting(), kind=Kind.SICK, starts_on__lte=until)
    if pupils is not None:
        qs = qs.filter(pupil__in=pupils)
    if since is not None:
        qs = qs.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=since))
    return qs.order_by("pupil_id", "starts_on", "pk")


def _sick_period(report: AbsenceReport, until: dt.date) -> tuple[dt.date, dt.date]:
    """A sick report's days up to ``until`` (an open report runs to it)."""
    return report.starts_on, min(report.ends_on or until, until)


def spells_by_pupil(
    cal: worktime.WorkCalendar, reports: Iterable[AbsenceReport], *, until: dt.date
) -> dict[int, list[statutory.Spell]]:
    """Per pupil, the sickness spells (``statutory.sickness_spells``) their sick reports make
    up to ``until``, whatever the number of reports."""
    periods: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for report in reports:
        if report.kind == Kind.SICK and report.counts and report.starts_on <= until:
            periods[report.pupil_id].append(_sick_period(report, until))
    return {pupil_id: statutory.sickness_spells(cal, days) for pupil_id, days in periods.items()}


def reports_in_spell(
    reports: Iterable[AbsenceReport], spell: statutory.Spell, *, until: dt.date
) -> list[AbsenceReport]:
    """The reports (of one pupil) whose days make up ``spell``, by first day."""
    found = []
    for report in reports:
        first, last = _sick_period(report, until)
        if report.kind == Kind.SICK and report.counts and first <= spell.last_day and last >= spell.first_day:
            found.append(report)
    return sorted(found, key=lambda r: (r.starts_on, r.pk))


def spell_follow_up(
    follow_ups: Iterable[FollowUp], spell: statutory.Spell, report_ids: Iterable[int]
) -> FollowUp | None:
    """The follow-up task of a spell (of one pupil): due on one of its days, or made for one of
    its reports. One spell has one task, however many reports extend it afterwards."""
    ids = set(report_ids)
    return next((f for f in follow_ups if spell.covers(f.due_on) or f.report_id in ids), None)


def reports_visible_to(viewer) -> QuerySet[AbsenceReport]:
    """Reports about the viewer's own children (acting guardians) or the pupils in their care."""
    return AbsenceReport.objects.filter(
        Q(pupil__in=access.pupils_actable_by(viewer)) | Q(pupil__in=rules.pupils_in_care_of(viewer))
    )


def report_get_for(*, viewer, pk: int) -> AbsenceReport:
    """One report, or 404 for "missing" and "not yours" alike."""
    try:
        return reports_visible_to(viewer).select_related("pupil__group", "school").get(pk=pk)
    except AbsenceReport.DoesNotExist:
        raise Http404 from None


def covering(day: dt.date) -> Q:
    return Q(starts_on__lte=day) & (Q(ends_on__isnull=True) | Q(ends_on__gte=day))


@dataclass
class AbsenceRow:
    """One line of the teacher's list: a report, or granted leave, on one day."""

    pupil: Pupil
    kind: str
    label: str
    since: dt.date
    school_day: int | None = None
    report: AbsenceReport | None = None
    leave: LeaveRequest | None = None
    follow_up: FollowUp | None = None

    @property
    def reported_late(self) -> bool:
        return bool(self.report and self.report.reported_late)

    @property
    def multi_day(self) -> bool:
        return self.school_day is not None and self.school_day > 1


@dataclass
class GroupAbsences:
    group_name: str
    rows: list[AbsenceRow] = field(default_factory=list)


def absences_on(*, viewer, day: dt.date, cal: worktime.WorkCalendar | None = None) -> list[AbsenceRow]:
    """Who is absent (or arrives later) on ``day`` among the pupils in the viewer's care.

    Reports that count (not withdrawn, not explained away) plus granted leave. Four
    queries, whatever the number of rows.
    """
    staff = access.staff_member_of(viewer)
    if staff is None:
        return []
    pupils = rules.pupils_in_care_of(viewer)
    reports = list(
        AbsenceReport.objects.filter(_counting(), covering(day), pupil__in=pupils)
        .select_related("pupil__group", "reported_by", "follow_up")
        .order_by("pupil__group__year", "pupil__group__name", "pupil__first_name", "from_time")
    )
    leaves = list(
        LeaveRequest.objects.filter(
            status=LeaveRequest.Status.GRANTED, starts_on__lte=day, ends_on__gte=day, pupils__in=pupils
        )
        .prefetch_related(Prefetch("pupils", queryset=Pupil.objects.select_related("group")))
        .distinct()
    )
    if cal is None:
        cal = directory.school_calendar(staff.school)
    spells, earlier, tasks = _spells_on(cal, day, {r.pupil_id for r in reports if r.kind == Kind.SICK})
    rows = []
    for report in reports:
        since, school_day, follow_up = report.starts_on, None, getattr(report, "follow_up", None)
        spell = _spell_of(spells.get(report.pupil_id, []), report, day)
        if report.kind == Kind.SICK and spell is not None:
            # The spell, not the report: sick day by day is "since Monday, school day 3".
            since = spell.first_day
            school_day = len(statutory.school_days(cal, spell.first_day, day))
            in_spell = reports_in_spell(earlier.get(report.pupil_id, []), spell, until=day)
            follow_up = spell_follow_up(tasks.get(report.pupil_id, []), spell, [r.pk for r in in_spell])
        elif report.kind == Kind.SICK:
            school_day = len(statutory.school_days(cal, report.starts_on, day))
        rows.append(
            AbsenceRow(
                pupil=report.pupil,
                kind=report.kind,
                label=report.get_kind_display(),
                since=since,
                school_day=school_day,
                report=report,
                follow_up=follow_up,
            )
        )
    visible = set(pupils.values_list("pk", flat=True)) if leaves else set()
    for leave in leaves:
        for pupil in leave.pupils.all():
            if pupil.pk in visible:
                rows.append(
                    AbsenceRow(
                        pupil=pupil,
                        kind="leave",
                        label=str(LeaveRequest._meta.verbose_name).capitalize(),
                        since=leave.starts_on,
                        leave=leave,
                        school_day=len(statutory.school_days(cal, leave.starts_on, day)),
                    )
                )
    rows.sort(
        key=lambda r: (
            r.pupil.group.year if r.pupil.group else 0,
            r.pupil.group.name if r.pupil.group else "",
            r.pupil.first_name,
        )
    )
    return rows


#: How far back the teacher's list looks for the earlier reports of a spell.
SPELL_LOOKBACK_DAYS = 120


def _spells_on(
    cal: worktime.WorkCalendar, day: dt.date, pupil_ids: set[int]
) -> tuple[dict[int, list[statutory.Spell]], dict[int, list[AbsenceReport]], dict[int, list[FollowUp]]]:
    """The spells up to ``day`` of the pupils sick on it, their reports and their follow-up
    tasks: two queries (none without pupils)."""
    if not pupil_ids:
        return {}, {}, {}
    since = day - dt.timedelta(days=SPELL_LOOKBACK_DAYS)
    reports: dict[int, list[AbsenceReport]] = defaultdict(list)
    for report in sick_reports_of(pupil_ids, until=day, since=since):
        reports[report.pupil_id].append(report)
    tasks: dict[int, list[FollowUp]] = defaultdict(list)
    for task in FollowUp.objects.filter(pupil_id__in=pupil_ids, due_on__gte=since):
        tasks[task.pupil_id].append(task)
    spells = spells_by_pupil(cal, [r for mine in reports.values() for r in mine], until=day)
    return spells, reports, tasks


def _spell_of(spells: list[statutory.Spell], report: AbsenceReport, day: dt.date) -> statutory.Spell | None:
    """The spell a sick report covering ``day`` belongs to: the last one begun by ``day`` that
    the report reaches into."""
    last = min(report.ends_on or day, day)
    for spell in reversed(spells):
        if spell.first_day <= last and spell.last_day >= report.starts_on:
            return spell
    return None


def by_group(rows: list[AbsenceRow]) -> list[GroupAbsences]:
    groups: dict[str, GroupAbsences] = {}
    for row in rows:
        name = row.pupil.group.name if row.pupil.group else ""
        groups.setdefault(name, GroupAbsences(group_name=name)).rows.append(row)
    return list(groups.values())


def open_follow_ups_for(*, viewer) -> list[FollowUp]:
    """Follow-up tasks of the teachers of the pupils' groups; whole-school staff see all."""
    if access.staff_member_of(viewer) is None:
        return []
    return list(
        FollowUp.objects.filter(done_at__isnull=True, pupil__in=rules.pupils_in_care_of(viewer))
        .select_related("pupil__group", "report")
        .order_by("due_on", "pk")
    )


def follow_up_get_for(*, viewer, pk: int) -> FollowUp:
    try:
        return (
            FollowUp.objects.filter(pupil__in=rules.pupils_in_care_of(viewer))
            .select_related("pupil__group", "report")
            .get(pk=pk)
        )
    except FollowUp.DoesNotExist:
        raise Http404 from None


# --- the parent's view ----------------------------------------------------------------------------


@dataclass
class ChildAbsences:
    pupil: Pupil
    open_sickness: AbsenceReport | None
    upcoming: list[AbsenceReport]
    recent: list[AbsenceReport]


def children_absences_for(
    *, viewer, now: dt.datetime | None = None, days_back: int = 42
) -> list[ChildAbsences]:
    """The viewer's children they may act for, each with their open, coming and recent reports.

    "Coming up" is what has not happened yet: a report from a later day, or an appointment or
    a later arrival today whose time is still ahead. Everything else that began by today is
    history ("recent"), so a sickness of today that ended with "better" is today's absence,
    never a planned one.
    """
    now = now or timezone.now()
    today = worktime.local_date(now)
    clock = now.astimezone(worktime.AMSTERDAM).time()

    def ahead(report: AbsenceReport) -> bool:
        if report.starts_on != today:
            return report.starts_on > today
        return report.kind in (Kind.APPOINTMENT, Kind.LATE) and (report.until_time or dt.time.max) > clock

    pupils = list(
        access.pupils_actable_by(viewer)
        .select_related("group", "school")
        .order_by("date_of_birth", "first_name")
    )
    reports = defaultdict(list)
    for report in (
        AbsenceReport.objects.filter(pupil__in=pupils, cancelled_at__isnull=True)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today - dt.timedelta(days=days_back)))
        .select_related("reported_by")
        .order_by("-starts_on", "-reported_at")
    ):
        reports[report.pupil_id].append(report)
    result = []
    for pupil in pupils:
        mine = reports[pupil.pk]
        result.append(
            ChildAbsences(
                pupil=pupil,
                open_sickness=next((r for r in mine if r.is_open), None),
                upcoming=sorted(
                    (r for r in mine if not r.is_open and ahead(r)),
                    key=lambda r: (r.starts_on, r.from_time or dt.time(0)),
                ),
                recent=[r for r in mine if not r.is_open and not ahead(r)],
            )
        )
    return result


# --- leave -----------------------------------------------------------------------------------


def _family_requests(viewer) -> QuerySet[LeaveRequest]:
    """Requests all of whose children the viewer may act for: both parents with gezag follow a
    request, and nobody sees a child's name they have no right to (a half-sibling, a barred child)."""
    actable = access.pupils_actable_by(viewer).values("pk")
    children = LeaveRequest.pupils.through.objects.filter(leaverequest=OuterRef("pk"))
    # Each request once: one of its children is the viewer's, and none is somebody else's.
    return LeaveRequest.objects.filter(
        Exists(children.filter(pupil__in=actable)), ~Exists(children.exclude(pupil__in=actable))
    )


def as_the_family_sees_it(leave: LeaveRequest, now: dt.datetime | None = None) -> LeaveRequest:
    """The request as the family sees it at ``now``: a decision that has not reached them yet
    (made outside the director's working time, ``announced_at`` still ahead) reads as still
    with the director, like a held post or chat message. Changes the instance in memory only;
    services read the row again. ``decision_shown_at`` tells when the family will read it
    (None when there is nothing held): such a request can no longer be withdrawn."""
    leave.decision_shown_at = None
    if leave.held_from_family(now or timezone.now()):
        leave.decision_shown_at = leave.announced_at
        leave.status = LeaveRequest.Status.SUBMITTED
        leave.decided_at = leave.decided_by = None
        leave.decision_reasons = ""
    return leave


def leave_requests_visible_to(viewer) -> QuerySet[LeaveRequest]:
    """The family's own requests (``_family_requests``); directors, office and IB-er: their school."""
    if getattr(viewer, "is_superuser", False):
        return LeaveRequest.objects.all()
    q = Q(pk__in=_family_requests(viewer).values("pk"))
    staff = access.staff_member_of(viewer)
    if staff is not None and staff.sees_whole_school:
        q |= Q(school_id=staff.school_id)
    return LeaveRequest.objects.filter(q)


def leave_request_get_for(*, viewer, pk: int, now: dt.datetime | None = None) -> LeaveRequest:
    """One request, or 404. The family sees a decision from the moment it reaches them
    (``as_the_family_sees_it``); the school's director, office and IB-er at once."""
    try:
        leave = (
            leave_requests_visible_to(viewer)
            .select_related("school", "school_year", "requested_by", "decided_by", "guardian")
            .prefetch_related(
                Prefetch("pupils", queryset=Pupil.objects.select_related("group")), "events__actor"
            )
            .get(pk=pk)
        )
    except LeaveRequest.DoesNotExist:
        raise Http404 from None
    staff = access.staff_member_of(viewer)
    if getattr(viewer, "is_superuser", False) or (
        staff is not None and staff.sees_whole_school and staff.school_id == leave.school_id
    ):
        return leave
    return as_the_family_sees_it(leave, now)


def leave_requests_for_family(*, viewer, now: dt.datetime | None = None) -> list[LeaveRequest]:
    """The family's requests, newest first, each as the family sees it at ``now``."""
    if not access.is_guardian(viewer):
        return []
    now = now or timezone.now()
    return [
        as_the_family_sees_it(leave, now)
        for leave in _family_requests(viewer)
        .select_related("school", "requested_by")
        .prefetch_related("pupils")
        .order_by("-submitted_at")
    ]


def open_leave_requests_for(*, viewer) -> list[LeaveRequest]:
    """Requests awaiting the viewer's decision (a director's school), oldest first."""
    staff = access.staff_member_of(viewer)
    if staff is None or not rules.may_decide_leave(viewer, staff.school):
        return []
    return list(
        LeaveRequest.objects.filter(school_id=staff.school_id, status=LeaveRequest.Status.SUBMITTED)
        .select_related("requested_by")
        .prefetch_related("pupils")
        .order_by("submitted_at")
    )


def family_requests_this_year(leave_request: LeaveRequest) -> list[LeaveRequest]:
    """Other requests for any of the same children in the school year(s) of this one (the
    director's context): filed under its year, or with days in a year it reaches into."""
    same_years = Q(school_year_id=leave_request.school_year_id)
    for first, last in SchoolYear.objects.filter(
        school_id=leave_request.school_id,
        starts_on__lte=leave_request.ends_on,
        ends_on__gte=leave_request.starts_on,
    ).values_list("starts_on", "ends_on"):
        same_years |= Q(starts_on__lte=last, ends_on__gte=first)
    return list(
        LeaveRequest.objects.filter(same_years, pupils__in=leave_request.pupils.all())
        .exclude(pk=leave_request.pk)
        .distinct()
        .prefetch_related("pupils")
        .order_by("starts_on")
    )


def objection_addressee(leave_request: LeaveRequest, settings: AbsenceSettings | None = None) -> str:
    """To whom the parent may object: the attendance officer where over 10 days were asked
    (art. 14 lid 3), else the head of school who decided (Awb art. 6:7: six weeks)."""
    from django.utils.translation import gettext as _

    settings = settings or absence_settings_for(leave_request.school)
    if leave_request.for_attendance_officer or leave_request.status == LeaveRequest.Status.FORWARDED:
        return settings.attendance_officer or _(
            "the attendance officer (leerplichtambtenaar) of your municipality"
        )
    director = leave_request.decided_by.get_full_name() if leave_request.decided_by else ""
    if director:
        return _("%(name)s, director of %(school)s") % {"name": director, "school": leave_request.school}
    return _("the director of %(school)s") % {"school": leave_request.school}


# --- register -----------------------------------------------------------------------------------


@dataclass
class PupilRegister:
    pupil: Pupil
    school_year: SchoolYear
    sick_spells: int = 0
    sick_days: int = 0
    appointments: int = 0
    appointment_hours: Decimal = Decimal(0)
    late_arrivals: int = 0
    leave_days: int = 0
    unexplained_days: int = 0
    unexplained_hours: Decimal = Decimal(0)
    reported_late: int = 0
    reports: list[AbsenceReport] = field(default_factory=list)
    leaves: list[LeaveRequest] = field(default_factory=list)
    threshold: statutory.ThresholdHit | None = None
    long_absence: bool = False


def pupil_get_for_register(*, viewer, pk: int) -> Pupil:
    """Staff in whose care the pupil is, or an acting guardian; 404 otherwise."""
    pupil = (
        Pupil.objects.filter(
            Q(pk__in=rules.pupils_in_care_of(viewer)) | Q(pk__in=access.pupils_actable_by(viewer))
        )
        .select_related("group", "school")
        .filter(pk=pk)
        .first()
    )
    if pupil is None:
        raise Http404
    return pupil


def pupil_register(
    *, pupil: Pupil, school_year: SchoolYear, today: dt.date, cal: worktime.WorkCalendar | None = None
) -> PupilRegister:
    """A pupil's absences in one school year, by kind; the caller checked access."""
    cal = cal or directory.school_calendar(pupil.school)
    register = PupilRegister(pupil=pupil, school_year=school_year)
    until = min(today, school_year.ends_on)
    reports = list(
        AbsenceReport.objects.filter(_counting(), pupil=pupil, starts_on__lte=school_year.ends_on)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=school_year.starts_on))
        .select_related("reported_by")
        .order_by("starts_on", "from_time")
    )
    register.reports = reports
    # Sickness by spell, however many reports make one (``statutory.sickness_spells``).
    spells = statutory.sickness_spells(
        cal,
        [
            (max(r.starts_on, school_year.starts_on), min(r.ends_on or until, until))
            for r in reports
            if r.kind == Kind.SICK
        ],
    )
    register.sick_spells = len(spells)
    register.sick_days = sum(spell.school_days for spell in spells)
    register.long_absence = any(spell.school_days > statutory.LONG_ABSENCE_SCHOOL_DAYS for spell in spells)
    marks = []
    for report in reports:
        register.reported_late += report.reported_late
        if report.kind == Kind.APPOINTMENT:
            register.appointments += 1
            register.appointment_hours += report.hours or 0
        elif report.kind == Kind.LATE:
            register.late_arrivals += 1
        elif report.kind == Kind.UNEXPLAINED:
            register.unexplained_days += 1
            register.unexplained_hours += report.hours or 0
            marks.append((report.starts_on, report.hours or Decimal(0)))
    # Leave across the summer counts in both years, each with its own school days.
    register.leaves = []
    for leave in LeaveRequest.objects.filter(
        pupils=pupil,
        status=LeaveRequest.Status.GRANTED,
        starts_on__lte=school_year.ends_on,
        ends_on__gte=school_year.starts_on,
    ).order_by("starts_on"):
        first, last = max(leave.starts_on, school_year.starts_on), min(leave.ends_on, school_year.ends_on)
        in_year = len(statutory.school_days(cal, first, last))
        if in_year:
            register.leaves.append(leave)
            register.leave_days += in_year
    register.threshold = statutory.unexplained_threshold(cal, marks)
    return register


@dataclass
class ThresholdRow:
    pupil: Pupil
    hit: statutory.ThresholdHit
    total_hours: Decimal


@dataclass(frozen=True)
class SpellDates:
    """A sickness spell's first and last day as the register shows them (no last day while it
    goes on)."""

    starts_on: dt.date
    ends_on: dt.date | None


@dataclass
class LongAbsenceRow:
    """A sickness spell of more than four school weeks: ``report`` holds its dates."""

    pupil: Pupil
    report: SpellDates
    school_days: int


def school_register(
    *, viewer, school_year: SchoolYear, today: dt.date
) -> tuple[list[ThresholdRow], list[LongAbsenceRow]]:
    """The office's lists: pupils who reached the unexplained-absence threshold (art. 21a)
    and pupils with a sickness spell over four school weeks. Empty for other viewers."""
    if not rules.may_see_school_register(viewer):
        return [], []
    staff = access.staff_member_of(viewer)
    if staff is None or staff.school_id != school_year.school_id:  # None: not staff (never here)
        raise Http404
    cal = directory.school_calendar(staff.school)
    in_year = Q(starts_on__lte=school_year.ends_on, starts_on__gte=school_year.starts_on)
    marks: dict[int, list] = defaultdict(list)
    pupils: dict[int, Pupil] = {}
    for report in (
        AbsenceReport.objects.filter(_counting(), in_year, school_id=staff.school_id, kind=Kind.UNEXPLAINED)
        .select_related("pupil__group")
        .order_by("starts_on")
    ):
        marks[report.pupil_id].append((report.starts_on, report.hours or Decimal(0)))
        pupils[report.pupil_id] = report.pupil
    over = []
    for pupil_id, pupil_marks in marks.items():
        hit = statutory.unexplained_threshold(cal, pupil_marks)
        if hit is not None:
            over.append(
                ThresholdRow(
                    pupil=pupils[pupil_id], hit=hit, total_hours=sum((h for _d, h in pupil_marks), Decimal(0))
                )
            )
    over.sort(key=lambda row: (row.hit.reached_on, row.pupil.last_name))
    long_rows = []
    until = min(today, school_year.ends_on)
    # Spells, not reports: sick day by day for five weeks is one long absence.
    sick: dict[int, list[AbsenceReport]] = defaultdict(list)
    for report in (
        sick_reports_of(None, until=until, since=school_year.starts_on)
        .filter(school_id=staff.school_id, starts_on__gte=school_year.starts_on)
        .select_related("pupil__group")
    ):
        sick[report.pupil_id].append(report)
    all_sick = [r for mine in sick.values() for r in mine]
    for pupil_id, spells in spells_by_pupil(cal, all_sick, until=until).items():
        for spell in spells:
            if spell.school_days <= statutory.LONG_ABSENCE_SCHOOL_DAYS:
                continue
            in_spell = reports_in_spell(sick[pupil_id], spell, until=until)
            goes_on = any(r.ends_on is None or r.ends_on > until for r in in_spell)
            long_rows.append(
                LongAbsenceRow(
                    pupil=in_spell[0].pupil,
                    report=SpellDates(spell.first_day, None if goes_on else spell.last_day),
                    school_days=spell.school_days,
                )
            )
    long_rows.sort(key=lambda row: (row.report.starts_on, row.pupil.last_name))
    return over, long_rows


def on_time_share(*, school: School, start: dt.date, end: dt.date) -> tuple[int, int]:
    """(on time, all) parent sick reports in a period: the quality card's figure."""
    reports = AbsenceReport.objects.filter(
        school=school, kind=Kind.SICK, cancelled_at__isnull=True, starts_on__range=(start, end)
    )
    return reports.filter(reported_late=False).count(), reports.count()


# --- the include templates' contexts -----------------------------------------------------------------


def dashboard_context(viewer, now: dt.datetime | None = None) -> dict:
    """For ``absences/_staff_today.html`` on the staff dashboard.

    Today's absences of the viewer's groups (teachers) or the whole school (director,
    office, IB-er), grouped by group; the viewer's open follow-up tasks; the cutoff.
    Empty (``show`` False) for non-staff.
    """
    staff = access.staff_member_of(viewer)
    if staff is None:
        return {"show": False}
    now = now or timezone.now()
    today = local_today(now)
    school = staff.school
    settings = absence_settings_for(school)
    cal = directory.school_calendar(school)
    rows = absences_on(viewer=viewer, day=today, cal=cal)
    cutoff = cutoff_of(school, settings)
    return {
        "show": True,
        "today": today,
        "is_school_day": worktime.is_working_day(cal, today),
        "groups": by_group(rows),
        "count": len(rows),
        "late_count": sum(1 for r in rows if r.reported_late),
        "cutoff": cutoff,
        "after_cutoff": is_after_cutoff(school, now, settings),
        "follow_ups": open_follow_ups_for(viewer=viewer),
        "whole_school": staff.sees_whole_school,
    }


def parent_card_context(viewer, now: dt.datetime | None = None) -> dict:
    """For ``absences/_parent_card.html`` on a parent's home.

    The children the viewer may report for (with an open sickness, if any), the
    school's cutoff and phone number, and the family's leave requests in progress.
    Empty (``show`` False) for users who may act for no child.
    """
    now = now or timezone.now()
    children = children_absences_for(viewer=viewer, now=now, days_back=0)
    if not children:
        return {"show": False}
    schools = {c.pupil.school_id: c.pupil.school for c in children}
    school = next(iter(schools.values()))
    settings = absence_settings_for(school)
    cutoff = cutoff_of(school, settings)
    today = worktime.local_date(now)
    leave = [
        r
        for r in leave_requests_for_family(viewer=viewer, now=now)
        if r.status == LeaveRequest.Status.SUBMITTED or r.ends_on >= today
    ][:3]
    return {
        "show": True,
        "children": children,
        "school": school,
        "cutoff": cutoff,
        "after_cutoff": is_after_cutoff(school, now, settings),
        "via_portal": any(absence_settings_for(s).sick_reports_via_portal for s in schools.values()),
        "leave_via_portal": any(absence_settings_for(s).leave_requests_via_portal for s in schools.values()),
        "leave_requests": leave,
    }


def director_leave_context(viewer, now: dt.datetime | None = None) -> dict:
    """For ``absences/_director_leave.html`` on the staff dashboard: open leave requests of the
    director's school, oldest first, with the days waiting. Empty for everyone else."""
    requests = open_leave_requests_for(viewer=viewer)
    staff = access.staff_member_of(viewer)
    if staff is None or not rules.may_decide_leave(viewer, staff.school):
        return {"show": False}
    now = now or timezone.now()
    return {"show": True, "requests": requests, "now": now}
