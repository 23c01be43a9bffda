"""The Leerplichtwet 1969 rules for absences and leave, as pure functions on a school calendar.

No database and no "now": callers pass a :class:`klimop.worktime.WorkCalendar` (whose
working days are the school days: weekends, holidays, public holidays and study days
are not) and plain dates. Everything is counted in *school days* and *school weeks*
(a week with at least one school day), as the law counts them.

- Art. 13a (extra vacation because of a parent's profession): at most once per school
  year, at most 10 school days, never in the first two school weeks of the school
  year — hard rules. Leave that reaches into two school years (from July across the
  summer) is checked against the first two school weeks of each, and counts once in
  each. Applying 8 weeks ahead and an employer's statement are guidance from the
  government (Rijksoverheid) — warnings only.
- Art. 11 sub g / art. 14 (important circumstances): up to 10 school days the head of
  school decides; over 10 the municipal attendance officer does (art. 14 lid 3). That
  holds for any leave that is not art. 13a: "other" leave over 10 school days goes to
  the attendance officer too. Art. 13a over 10 school days stays a hard refusal.
- Art. 21a: unexcused absence of 16 hours or more within four consecutive school
  weeks must be reported (to DUO); holiday weeks do not count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from klimop import worktime

LEAVE_MAX_SCHOOL_DAYS = 10
VACATION_LEAVE_NOT_IN_FIRST_SCHOOL_WEEKS = 2
LEAVE_APPLY_DAYS_AHEAD = 8 * 7
UNEXPLAINED_THRESHOLD_HOURS = Decimal(16)
UNEXPLAINED_WINDOW_SCHOOL_WEEKS = 4
#: "Long absence": a sickness spell of more than four school weeks' worth of school days.
LONG_ABSENCE_SCHOOL_DAYS = 20

_DAY = dt.timedelta(days=1)

# The kinds as stored on LeaveRequest.Kind (kept as plain strings: this module is pure).
VACATION, IMPORTANT, OTHER = "vacation", "important", "other"


# --- school days and weeks -------------------------------------------------------------------


def school_days(cal: worktime.WorkCalendar, start: dt.date, end: dt.date) -> list[dt.date]:
    """The school days from ``start`` to ``end``, both inclusive."""
    days, day = [], start
    while day <= end:
        if worktime.is_working_day(cal, day):
            days.append(day)
        day += _DAY
    return days


def nth_school_day(
    cal: worktime.WorkCalendar, start: dt.date, n: int, *, horizon_days: int = 120
) -> dt.date | None:
    """The ``n``-th school day counted from ``start`` (inclusive), or None within the horizon.

    Weekends, holidays and study days are skipped: they neither count nor break the run.
    """
    count, day = 0, start
    for _step in range(horizon_days):
        if worktime.is_working_day(cal, day):
            count += 1
            if count == n:
                return day
        day += _DAY
    return None


# --- sickness spells ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Spell:
    """A sickness spell: a run of consecutive school days on which a child was reported sick.

    ``first_day`` and ``last_day`` are school days; ``school_days`` counts the school days
    from one to the other, all of them sick days.
    """

    first_day: dt.date
    last_day: dt.date
    school_days: int

    def covers(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day


def sickness_spells(cal: worktime.WorkCalendar, periods: Iterable[tuple[dt.date, dt.date]]) -> list[Spell]:
    """The spells made by sick periods (first and last day, both inclusive), in date order.

    However many reports make them (day by day, or "better" in the evening and sick again
    the next morning), consecutive sick school days are one spell. Days without school
    (weekends, holidays, study days) neither count nor break a run; a school day without
    a sick report does. Periods may overlap.
    """
    sick: set[dt.date] = set()
    for first, last in periods:
        sick.update(school_days(cal, first, last))
    spells: list[Spell] = []
    for day in sorted(sick):
        if spells:
            last = spells[-1]
            if not school_days(cal, last.last_day + _DAY, day - _DAY):
                spells[-1] = Spell(last.first_day, day, last.school_days + 1)
                continue
        spells.append(Spell(day, day, 1))
    return spells


def nth_day_of_spell(cal: worktime.WorkCalendar, spell: Spell, n: int) -> dt.date | None:
    """The spell's ``n``-th school day (counted from 1), or None when it is shorter."""
    if n < 1 or spell.school_days < n:
        return None
    return school_days(cal, spell.first_day, spell.last_day)[n - 1]


def week_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def school_weeks(cal: worktime.WorkCalendar, start: dt.date, end: dt.date) -> list[dt.date]:
    """Mondays of the weeks from ``start``'s to ``end``'s that have at least one school day."""
    weeks, monday = [], week_of(start)
    while monday <= end:
        if any(worktime.is_working_day(cal, monday + dt.timedelta(days=i)) for i in range(7)):
            weeks.append(monday)
        monday += dt.timedelta(days=7)
    return weeks


def first_school_weeks_end(
    cal: worktime.WorkCalendar, year_start: dt.date, n: int = VACATION_LEAVE_NOT_IN_FIRST_SCHOOL_WEEKS
) -> dt.date:
    """The last day (Sunday) of the ``n``-th school week of the year starting on ``year_start``."""
    weeks = school_weeks(cal, year_start, year_start + dt.timedelta(weeks=n + 10))
    return weeks[min(n, len(weeks)) - 1] + dt.timedelta(days=6) if weeks else year_start


# --- leave ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolYearSpan:
    """A school year as the leave checks see it: its name, first and last day.

    ``entered`` is False for a year the school has not entered yet, taken from the national
    calendar (the caller decides how; the calendar it passes has that year as a term).
    """

    name: str
    first_day: dt.date
    last_day: dt.date
    entered: bool = True

    def holds(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day


def school_years_touched(
    cal: worktime.WorkCalendar, years: Iterable[SchoolYearSpan], start: dt.date, end: dt.date
) -> list[SchoolYearSpan]:
    """The school years in which the period from ``start`` to ``end`` has a school day, in order.

    A period across the summer touches both years; one inside the summer holiday none.
    """
    days = school_days(cal, start, end)
    return sorted((y for y in years if any(y.holds(d) for d in days)), key=lambda y: y.first_day)


@dataclass
class LeaveCheck:
    """The outcome of the statutory checks of a leave request.

    ``errors`` refuse the request (with the reason); ``warnings`` are codes the parent
    may submit anyway, with an explanation; ``for_attendance_officer`` marks requests
    over 10 school days of any kind but art. 13a (art. 14 lid 3), which the director
    must forward. ``school_years`` are the years in which the leave has school days.
    """

    school_days: int = 0
    errors: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    for_attendance_officer: bool = False
    school_years: list[SchoolYearSpan] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.errors)


def check_leave(
    *,
    cal: worktime.WorkCalendar,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    today: dt.date,
    school_years: Iterable[SchoolYearSpan],
    has_statement: bool,
    vacation_leave_by_year: Mapping[str, Iterable[str]] | None = None,
) -> LeaveCheck:
    """Check a leave request against the Leerplichtwet (see the module docstring).

    ``school_years`` are the school's years (those the period reaches into at least);
    ``cal`` has each of them as a term. Art. 13a leave is checked against the first two
    school weeks of *every* year in which it has school days (leave from July across the
    summer reaches into the next year's), and is once per school year in each of them:
    ``vacation_leave_by_year`` maps a year's name to the children who already have
    (pending, granted or forwarded) art. 13a leave with school days in that year.
    """
    check = LeaveCheck()
    if ends_on < starts_on:
        check.errors.append(_("The last day cannot be before the first day."))
        return check
    if starts_on < today:
        check.errors.append(_("Leave cannot start in the past."))
        return check
    days = school_days(cal, starts_on, ends_on)
    check.school_days = len(days)
    if not days:
        check.errors.append(_("There are no school days in this period, so no leave is needed."))
        return check
    check.school_years = school_years_touched(cal, school_years, starts_on, ends_on)
    if kind == VACATION:
        taken = vacation_leave_by_year or {}
        for year in check.school_years:
            already = sorted(set(taken.get(year.name, ())))
            if already:
                check.errors.append(
                    _(
                        "Extra vacation leave (art. 13a) is possible only once per school year, and "
                        "%(names)s already has it in school year %(year)s."
                    )
                    % {"names": ", ".join(already), "year": year.name}
                )
        if len(days) > LEAVE_MAX_SCHOOL_DAYS:
            check.errors.append(
                _("Extra vacation leave (art. 13a) is at most %(max)s school days; this period has %(days)s.")
                % {"max": LEAVE_MAX_SCHOOL_DAYS, "days": len(days)}
            )
        for year in check.school_years:
            first_weeks = school_days(cal, year.first_day, first_school_weeks_end(cal, year.first_day))
            if first_weeks and any(first_weeks[0] <= d <= first_weeks[-1] for d in days):
                check.errors.append(
                    _(
                        "Extra vacation leave (art. 13a) is not allowed in the first two school weeks of "
                        "the school year: in %(year)s from %(first)s to %(last)s."
                    )
                    % {
                        "year": year.name,
                        "first": formats.date_format(first_weeks[0], "j F Y"),
                        "last": formats.date_format(first_weeks[-1], "j F Y"),
                    }
                )
        if not has_statement:
            check.warnings.append("no_statement")
    elif len(days) > LEAVE_MAX_SCHOOL_DAYS:
        # Art. 14 lid 3: over 10 school days only the attendance officer may grant leave,
        # whatever the parent chose as its kind ("important" or "other").
        check.for_attendance_officer = True
    if kind == VACATION and (starts_on - today).days < LEAVE_APPLY_DAYS_AHEAD:
        check.warnings.append("late")
    return check


# --- unexplained absence ----------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdHit:
    """Where unexplained absence reached the reporting threshold (art. 21a)."""

    started_on: dt.date
    reached_on: dt.date
    hours: Decimal


def unexplained_threshold(
    cal: worktime.WorkCalendar,
    marks: Iterable[tuple[dt.date, Decimal]],
    *,
    threshold: Decimal = UNEXPLAINED_THRESHOLD_HOURS,
    window: int = UNEXPLAINED_WINDOW_SCHOOL_WEEKS,
) -> ThresholdHit | None:
    """The first moment the unexplained hours in ``window`` consecutive school weeks reach
    ``threshold``, or None. Weeks without school days (holidays) are skipped, so a holiday
    neither counts as one of the four weeks nor breaks them.

    ``started_on`` is the first unexplained day inside that window.
    """
    marks = sorted((day, Decimal(hours)) for day, hours in marks if hours)
    if not marks:
        return None
    weeks = school_weeks(cal, marks[0][0], marks[-1][0])
    # A mark on a day the calendar does not know as a school day still has a week.
    weeks = sorted(set(weeks) | {week_of(day) for day, _h in marks})
    index = {monday: i for i, monday in enumerate(weeks)}
    for j, (day, _hours) in enumerate(marks):
        last = index[week_of(day)]
        inside = [(d, h) for d, h in marks[: j + 1] if index[week_of(d)] > last - window]
        total = sum((h for _d, h in inside), Decimal(0))
        if total >= threshold:
            return ThresholdHit(started_on=inside[0][0], reached_on=day, hours=total)
    return None


def is_late_report(
    *,
    reported_at: dt.datetime,
    first_day: dt.date,
    cutoff: dt.time,
    lessons_start: dt.time,
    tz=worktime.AMSTERDAM,
) -> bool:
    """A report is late when made at or after the cutoff (or lessons start) on its first day.

    "Before 08:20" means up to 08:19:59 (``worktime.report_deadline``).
    """
    return worktime.is_late(reported_at, worktime.report_deadline(first_day, cutoff, lessons_start, tz))
