"""Working time of a school and of the people who work there.

This module answers every "when is somebody at work?" question in Klimop:
is the school open at a given moment, when does it open next, by when must a
parent's message be answered, how many school days does a leave request
cover, and how much working time did an answer take.

It is deliberately pure: no Django, no database, no "now".  Callers pass in
a :class:`WorkCalendar` (built from the school's settings, holidays and
school years) and aware datetimes.  All wall-clock reasoning happens in the
calendar's time zone (``Europe/Amsterdam`` by default), so "08:00" means
08:00 on the school's clock on both sides of a daylight-saving change.

Conventions used throughout:

* A working period on a day is ``[opening, closing)``: the opening instant is
  working time, the closing instant is not.
* Every datetime argument must be aware; a naive datetime raises
  :class:`ValueError` rather than being silently interpreted.
* Results are aware datetimes in the calendar's time zone.
* Searches look at most :data:`SEARCH_HORIZON_DAYS` days ahead.  A calendar
  with no working day in that window raises :class:`NoWorkingTime`.
* Past the school years a school entered itself, a calendar with
  ``later_years`` (the national calendar of the school's region,
  :mod:`klimop.national_calendar`) goes on with the next school years, so it
  never runs out of working time: a message in the summer after the last
  entered year waits for the first day of the next one, it is not "now".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = [
    "AMSTERDAM",
    "DEFAULT_HOURS",
    "SEARCH_HORIZON_DAYS",
    "LaterYears",
    "NoWorkingTime",
    "WorkCalendar",
    "add_working_days",
    "answer_by",
    "closing_of",
    "earliest_recordable_date",
    "for_staff_weekdays",
    "is_working_day",
    "is_working_time",
    "latest_plannable_date",
    "next_opening",
    "opening_of",
    "previous_opening",
    "working_days_between",
    "working_time_between",
]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

#: Monday to Friday, 08:00 to 16:30 local time.  Read-only; build a new dict
#: (``{**DEFAULT_HOURS, 2: (time(8), time(12, 30))}``) to vary a weekday.
DEFAULT_HOURS: Mapping[int, tuple[time, time]] = MappingProxyType(
    {weekday: (time(8, 0), time(16, 30)) for weekday in range(5)}
)

#: How far ahead (in days) a search for the next working day may look before
#: concluding that the calendar never opens.  Covers two school years.
SEARCH_HORIZON_DAYS = 2 * 366

#: Without the school's years: how far ahead anything may be planned (about 13 months).
PLAN_AHEAD_WITHOUT_TERMS = timedelta(days=396)
#: Without the school's years: how far back a record of the past may go.
RECORD_BACK_WITHOUT_TERMS = timedelta(days=366)

_ONE_DAY = timedelta(days=1)


class NoWorkingTime(ValueError):  # noqa: N818 - the name reads as the situation
    """The calendar has no working time in the searched window.

    Raised, for example, after the last day of the last school year of a
    calendar without ``later_years``, or for a staff member whose working
    weekdays never coincide with the school's.  A school's calendar from
    ``klimop.selectors`` has ``later_years`` and always some weekday with hours,
    and a staff member's (:func:`for_staff_weekdays`) always some weekday of
    the school's, so neither raises it.
    """


class LaterYears(Protocol):
    """The school years after the last entered term: the national calendar of a region.

    ``school_year(y)`` is the school year starting in calendar year ``y`` (its
    first day in ``y``, its last day in ``y + 1``) as ``(first day, last day,
    days without school)``.  It must answer for every year, estimating where
    nothing is published.  Implemented by ``klimop.national_calendar.NationalCalendar``;
    implementations are values (equal and hashable by their contents).
    """

    def school_year(self, start_year: int) -> tuple[date, date, frozenset[date]]: ...


@dataclass(frozen=True)
class WorkCalendar:
    """Working time of a school, or of one staff member at that school.

    ``hours`` maps a weekday (0 = Monday .. 6 = Sunday) to its local
    ``(opens, closes)`` wall-clock times; a weekday that is missing is closed.
    ``closed_dates`` are holidays, public holidays, study days and days off.
    ``terms`` are school years as inclusive ``(first day, last day)`` pairs;
    when given, every date outside all terms is closed.  When empty, the
    calendar is unbounded.  ``later_years`` (see :class:`LaterYears`) carries
    the calendar on after the last term: the school years starting after the
    last term's first day, from the day after its last day, each with its own
    days without school (on top of ``closed_dates``).  With no terms it gives
    every year.  ``weekdays`` are a staff member's working weekdays (``None``:
    every weekday the school opens).  ``tz`` is the zone in which the
    wall-clock ``hours`` are read.

    Inputs are normalised on construction (``hours`` becomes a read-only
    mapping, collections become frozensets/tuples) and validated: weekdays
    must be 0..6, opening must be before closing, and a term's first day must
    not be after its last day; otherwise :class:`ValueError` is raised.
    Calendars are immutable and hashable.
    """

    hours: Mapping[int, tuple[time, time]] = field(default_factory=lambda: DEFAULT_HOURS)
    closed_dates: frozenset[date] = frozenset()
    terms: tuple[tuple[date, date], ...] = ()
    weekdays: frozenset[int] | None = None
    tz: ZoneInfo = AMSTERDAM
    later_years: LaterYears | None = None

    def __post_init__(self) -> None:
        hours: dict[int, tuple[time, time]] = {}
        for weekday, period in dict(self.hours).items():
            _check_weekday(weekday)
            opens, closes = period
            if not isinstance(opens, time) or not isinstance(closes, time):
                raise TypeError(f"hours for weekday {weekday} must be (time, time)")
            if opens.tzinfo is not None or closes.tzinfo is not None:
                raise ValueError("opening hours are local wall-clock times without tzinfo")
            if not opens < closes:
                raise ValueError(
                    f"weekday {weekday} opens at {opens} but closes at {closes}; "
                    "opening must be before closing on the same day"
                )
            hours[weekday] = (opens, closes)
        object.__setattr__(self, "hours", MappingProxyType(hours))

        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))

        terms = tuple((first, last) for first, last in self.terms)
        for first, last in terms:
            if first > last:
                raise ValueError(f"term starts on {first} but ends on {last}")
        object.__setattr__(self, "terms", terms)

        if self.weekdays is not None:
            weekdays = frozenset(self.weekdays)
            for weekday in weekdays:
                _check_weekday(weekday)
            object.__setattr__(self, "weekdays", weekdays)

    def __hash__(self) -> int:
        return hash(
            (
                tuple(sorted(self.hours.items())),
                self.closed_dates,
                self.terms,
                self.weekdays,
                self.tz,
                self.later_years,
            )
        )

    def for_weekdays(self, weekdays: Iterable[int]) -> WorkCalendar:
        """Return a copy that only works on ``weekdays`` (0 = Monday).

        Use this to derive a part-time staff member's calendar from the
        school's.  Holidays, terms and opening hours are kept.  If this
        calendar is already restricted, the result is restricted to the
        weekdays in both sets.
        """
        wanted = frozenset(weekdays)
        if self.weekdays is not None:
            wanted &= self.weekdays
        return replace(self, weekdays=wanted)

    @property
    def last_day(self) -> date | None:
        """The last day of the last term, or ``None`` without terms.

        With ``later_years`` the calendar goes on after it.
        """
        return max((last for _, last in self.terms), default=None)


def for_staff_weekdays(cal: WorkCalendar, weekdays: Iterable[int]) -> WorkCalendar:
    """A staff member's working time: ``cal`` on their own ``weekdays``.

    When none of those weekdays is a day the school works (no weekday ticked, or only
    days the school is closed), nobody can tell when they work: their working time is
    then the school's, so they are still told things only in working time and
    nothing waits for them forever.
    """
    wanted = frozenset(weekdays)
    school_days = frozenset(cal.hours) if cal.weekdays is None else frozenset(cal.hours) & cal.weekdays
    if not wanted & school_days:
        return cal
    return cal.for_weekdays(wanted)


# --------------------------------------------------------------------------
# Days
# --------------------------------------------------------------------------


def is_working_day(cal: WorkCalendar, d: date) -> bool:
    """Whether ``d`` is a working day in ``cal``.

    A day is a working day when the school has hours on its weekday, the
    weekday is one of ``cal.weekdays`` (if set), it is not a closed date,
    and it lies inside a term (if terms are set).  An aware ``datetime`` is
    accepted and means its local date in ``cal.tz``; a naive one raises
    :class:`ValueError`.
    """
    d = _local_date(cal, d)
    weekday = d.weekday()
    if weekday not in cal.hours:
        return False
    if cal.weekdays is not None and weekday not in cal.weekdays:
        return False
    if d in cal.closed_dates:
        return False
    if any(first <= d <= last for first, last in cal.terms):
        return True
    if cal.later_years is None:
        return not cal.terms
    year = _later_year_of(cal, d)
    return year is not None and d not in year[2]


def opening_of(cal: WorkCalendar, d: date) -> datetime:
    """The aware local datetime at which working day ``d`` starts.

    Raises :class:`ValueError` if ``d`` is not a working day.
    """
    d = _local_date(cal, d)
    _require_working_day(cal, d)
    return datetime.combine(d, cal.hours[d.weekday()][0], tzinfo=cal.tz)


def closing_of(cal: WorkCalendar, d: date) -> datetime:
    """The aware local datetime at which working day ``d`` ends (exclusive).

    Raises :class:`ValueError` if ``d`` is not a working day.
    """
    d = _local_date(cal, d)
    _require_working_day(cal, d)
    return datetime.combine(d, cal.hours[d.weekday()][1], tzinfo=cal.tz)


def working_days_between(cal: WorkCalendar, start: date, end: date) -> int:
    """The number of working days from ``start`` to ``end``, both inclusive.

    Handy for leave requests counted in school days.  Returns 0 when
    ``end`` is before ``start``.
    """
    start = _local_date(cal, start)
    end = _local_date(cal, end)
    count = 0
    d = start
    while d <= end:
        if is_working_day(cal, d):
            count += 1
        d += _ONE_DAY
    return count


# --------------------------------------------------------------------------
# Moments
# --------------------------------------------------------------------------


def is_working_time(cal: WorkCalendar, moment: datetime) -> bool:
    """Whether ``moment`` falls inside a working period of ``cal``.

    The moment is read on the wall clock of ``cal.tz``; opening is inclusive
    and closing exclusive (16:29:59 is working time when the school closes at
    16:30, 16:30 itself is not).  Raises :class:`ValueError` on a naive
    datetime.
    """
    _require_aware(moment, "moment")
    d = moment.astimezone(cal.tz).date()
    if not is_working_day(cal, d):
        return False
    opens, closes = _period(cal, d)
    return _utc(opens) <= _utc(moment) < _utc(closes)


def next_opening(cal: WorkCalendar, moment: datetime) -> datetime:
    """The first working instant at or after ``moment``.

    Returns ``moment`` itself (converted to ``cal.tz``) if it is working
    time; otherwise the opening of the next working period, which may be
    later on the same day if ``moment`` is before opening time.  Raises
    :class:`NoWorkingTime` if there is no working day within
    :data:`SEARCH_HORIZON_DAYS` (or after the last term), and
    :class:`ValueError` on a naive datetime.
    """
    _require_aware(moment, "moment")
    local = moment.astimezone(cal.tz)
    for d in _working_days_from(cal, local.date()):
        opens, closes = _period(cal, d)
        if _utc(local) < _utc(closes):
            return local if _utc(local) >= _utc(opens) else opens
    raise AssertionError("unreachable: _working_days_from raises when exhausted")


def previous_opening(cal: WorkCalendar, moment: datetime) -> datetime:
    """The latest opening of a working period at or before ``moment``.

    The mirror of :func:`next_opening` for "the working time before": during
    working hours it is that day's opening; before opening, after closing, on
    a weekend or in a holiday it is the opening of the last working day
    before.  Raises :class:`NoWorkingTime` when no working day precedes
    ``moment`` (before the first term, or :data:`SEARCH_HORIZON_DAYS`
    without one), and :class:`ValueError` on a naive datetime.
    """
    _require_aware(moment, "moment")
    local = moment.astimezone(cal.tz)
    for d in _working_days_from(cal, local.date(), step=-1):
        opens, _closes = _period(cal, d)
        if _utc(opens) <= _utc(local):
            return opens
    raise AssertionError("unreachable: _working_days_from raises when exhausted")


def add_working_days(cal: WorkCalendar, moment: datetime, n: int) -> datetime:
    """The moment ``n`` working days after ``next_opening(cal, moment)``.

    The result keeps the local clock time of that starting point.  If the
    target day's hours do not contain that clock time (hours differ per
    weekday), the result is clamped into the day: to its opening if the
    clock time is earlier, to its closing if it is at or after closing.
    The result is therefore either working time or exactly a closing
    instant.  ``n == 0`` returns ``next_opening(cal, moment)``.  Raises
    :class:`ValueError` for negative ``n`` or naive input and
    :class:`NoWorkingTime` when the calendar runs out of working days.
    """
    if n < 0:
        raise ValueError(f"n must be zero or positive, got {n}")
    start = next_opening(cal, moment)
    if n == 0:
        return start
    days = _working_days_from(cal, start.date() + _ONE_DAY)
    for _ in range(n):
        target = next(days)
    opens, closes = _period(cal, target)
    wanted = datetime.combine(target, start.time(), tzinfo=cal.tz)
    if _utc(wanted) < _utc(opens):
        return opens
    if _utc(wanted) >= _utc(closes):
        return closes
    return wanted


def answer_by(cal: WorkCalendar, received_at: datetime, working_days: int) -> datetime:
    """The answer deadline to show a parent for a message received at ``received_at``.

    This is :func:`add_working_days`, except that a deadline falling exactly
    on a day's opening is moved back to the previous working day's closing:
    a message sent on Friday evening with 2 working days reads "by Tuesday
    16:30" rather than "by Wednesday 08:00".  It is never later than
    ``add_working_days(cal, received_at, working_days)``.  With
    ``working_days == 0`` the deadline is simply the next opening, so a
    deadline is never before the message arrived.
    """
    deadline = add_working_days(cal, received_at, working_days)
    if working_days == 0:
        return deadline
    day = deadline.date()
    if _utc(deadline) != _utc(opening_of(cal, day)):
        return deadline
    # n >= 1: the starting day is an earlier working day, so this search ends.
    previous = next(_working_days_from(cal, day - _ONE_DAY, step=-1))
    return closing_of(cal, previous)


def working_time_between(cal: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    """The working time that elapses from ``start`` to ``end``.

    Only the parts of ``[start, end)`` that fall inside working periods
    count, measured in real elapsed time (a working day of 08:00-16:30 is
    8.5 hours also on either side of a daylight-saving change).  Returns
    ``timedelta(0)`` when ``end`` is not after ``start``.  The result is
    additive: ``between(a, b) + between(b, c) == between(a, c)`` for
    ``a <= b <= c``.  Raises :class:`ValueError` on naive input.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    start_utc, end_utc = _utc(start), _utc(end)
    total = timedelta(0)
    if end_utc <= start_utc:
        return total
    d = start.astimezone(cal.tz).date()
    last = end.astimezone(cal.tz).date()
    while d <= last:
        if is_working_day(cal, d):
            opens, closes = _period(cal, d)
            lo = max(start_utc, _utc(opens))
            hi = min(end_utc, _utc(closes))
            if hi > lo:
                total += hi - lo
        d += _ONE_DAY
    return total


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _check_weekday(weekday: int) -> None:
    if not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {weekday!r}")


def _require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment!r}")


def _local_date(cal: WorkCalendar, d: date) -> date:
    """A plain date; aware datetimes become their local date in ``cal.tz``."""
    if isinstance(d, datetime):
        _require_aware(d, "date")
        return d.astimezone(cal.tz).date()
    return d


def _require_working_day(cal: WorkCalendar, d: date) -> None:
    if not is_working_day(cal, d):
        raise ValueError(f"{d} is not a working day")


def _period(cal: WorkCalendar, d: date) -> tuple[datetime, datetime]:
    """``(opening, closing)`` of a day whose weekday has hours."""
    opens, closes = cal.hours[d.weekday()]
    return (
        datetime.combine(d, opens, tzinfo=cal.tz),
        datetime.combine(d, closes, tzinfo=cal.tz),
    )


def _utc(moment: datetime) -> datetime:
    # Aware datetimes sharing a tzinfo compare and subtract by wall clock in
    # Python; converting to UTC makes both exact across DST changes.
    return moment.astimezone(UTC)


def _working_days_from(cal: WorkCalendar, d: date, step: int = 1) -> Iterator[date]:
    """Working days from ``d`` (inclusive) onwards, or backwards for ``step=-1``.

    Gaps between terms (the summer holiday) are jumped over in one step.
    Raises :class:`NoWorkingTime` when no term remains in the direction of
    travel, or after :data:`SEARCH_HORIZON_DAYS` consecutive non-working
    days inside terms (or anywhere, for a calendar without terms).
    """
    delta = timedelta(days=step)
    idle = 0
    while True:
        if not _in_a_year(cal, d):
            d = _next_term_day(cal, d, step)
        if is_working_day(cal, d):
            idle = 0
            yield d
        else:
            idle += 1
            if idle > SEARCH_HORIZON_DAYS:
                raise NoWorkingTime(f"no working day in the {SEARCH_HORIZON_DAYS} days up to {d}")
        try:
            d += delta
        except OverflowError:
            raise NoWorkingTime(f"no working day before reaching {d}") from None


def _next_term_day(cal: WorkCalendar, d: date, step: int) -> date:
    """The nearest school-year day after (``step > 0``) or before ``d``, which is in no school year."""
    if step > 0:
        candidates = [first for first, _ in cal.terms if first > d]
        candidates += [first for first, _last, _closed in _later_years_near(cal, d) if first > d]
        if candidates:
            return min(candidates)
        raise NoWorkingTime(f"no working day after {d}: it is past the last school year in this calendar")
    candidates = [last for _, last in cal.terms if last < d]
    candidates += [last for _first, last, _closed in _later_years_near(cal, d) if last < d]
    if candidates:
        return max(candidates)
    raise NoWorkingTime(f"no working day before {d}: it is before the first school year in this calendar")


def _in_a_year(cal: WorkCalendar, d: date) -> bool:
    """Whether ``d`` lies in a school year: a term, or a later year (always, when unbounded)."""
    if any(first <= d <= last for first, last in cal.terms):
        return True
    if cal.later_years is None:
        return not cal.terms
    return _later_year_of(cal, d) is not None


def _later_year_of(cal: WorkCalendar, d: date) -> tuple[date, date, frozenset[date]] | None:
    """The later school year ``d`` lies in, if any."""
    for first, last, closed in _later_years_near(cal, d):
        if first <= d <= last:
            return first, last, closed
    return None


def _later_years_near(cal: WorkCalendar, d: date) -> list[tuple[date, date, frozenset[date]]]:
    """The later school years starting from the year before ``d`` to the year after it.

    Only the years starting after the last term's first day count, and only their days
    after the last term's last day. That is enough for any search: a school year is
    shorter than one calendar year and the summer between two is shorter than a year.
    """
    if cal.later_years is None:
        return []
    after_start = after_end = None
    if cal.terms:
        after_start = max(first for first, _ in cal.terms).year
        after_end = cal.last_day
    years = []
    for start_year in (d.year - 1, d.year, d.year + 1):
        if after_start is not None and start_year <= after_start:
            continue
        if not date.min.year <= start_year < date.max.year:
            continue  # the first and last years a date can have: no school year fits
        first, last, closed = cal.later_years.school_year(start_year)
        if after_end is not None:
            first = max(first, after_end + _ONE_DAY)
        if first <= last:
            years.append((first, last, closed))
    return years


# --- how far ahead and back a date may lie ----------------------------------------------------


def latest_plannable_date(terms: Iterable[tuple[date, date]], today: date) -> date:
    """The last day for which anything may be planned or requested: the end of the next school year.

    ``terms`` are the school years as ``(first day, last day)`` pairs (``WorkCalendar.terms``).
    "Next" is the year after the one running ``today`` (in the summer holiday: after the
    coming one). When that year is not entered yet, about 13 months ahead
    (:data:`PLAN_AHEAD_WITHOUT_TERMS`), and never before the end of a year already
    entered. Posts, agenda events, absence reports and leave requests are bounded by it;
    it also keeps day-by-day loops over a period (school days of a leave) short.
    """
    upcoming = sorted((first, last) for first, last in terms if last >= today)
    if len(upcoming) >= 2:
        return upcoming[1][1]
    return max([today + PLAN_AHEAD_WITHOUT_TERMS, *(last for _first, last in upcoming)])


def earliest_recordable_date(terms: Iterable[tuple[date, date]], today: date) -> date:
    """The first day about which something may still be recorded (a phone report, an absence).

    The first day of the school year running ``today`` — in the summer holiday, of the
    year that just ended — or a year back when no school year is entered.
    """
    started = [first for first, _last in terms if first <= today]
    if started:
        return max(started)
    return today - RECORD_BACK_WITHOUT_TERMS


def report_deadline(day: date, cutoff: time, lessons_start: time, tz=AMSTERDAM) -> datetime:
    """The moment a report about ``day`` becomes late: the cutoff, or lessons start if earlier.

    "Before 08:20" means up to 08:19:59: a report at 08:20:00 is late. The one
    definition used by the report form's banner, the stored report and the quality card.
    """
    return datetime.combine(day, min(cutoff, lessons_start), tzinfo=tz)


def is_late(moment: datetime, deadline: datetime) -> bool:
    """Whether ``moment`` is at or after ``deadline`` (to the second)."""
    _require_aware(moment, "moment")
    return moment >= deadline


# --- the school's clock: dates, times and weeks in Europe/Amsterdam ----------------------------
# Every "today at the school", "this school week" and "at 08:20 on that day" goes through
# these, so no feature does its own date arithmetic on UTC.


def local_date(moment: datetime) -> date:
    """The school's calendar date of an aware moment."""
    _require_aware(moment, "moment")
    return moment.astimezone(AMSTERDAM).date()


def local_datetime(day: date, clock: time) -> datetime:
    """``clock`` on ``day`` on the school's clock (the right offset on DST days)."""
    return datetime.combine(day, clock, tzinfo=AMSTERDAM)


def week_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 of ``moment``'s week, on the school's clock."""
    local = local_date(moment)
    monday = local - timedelta(days=local.weekday())
    return local_datetime(monday, time(0)), local_datetime(monday + timedelta(days=7), time(0))
