"""The national school calendar of the Netherlands, per holiday region (noord, midden, zuid).

Pure like :mod:`klimop.worktime`: no Django, no database, no "now". The dates come from
the ``holidays`` package: each region's school holidays (its ``school`` category: the
autumn, Christmas, spring, May and summer holidays, as the ministry publishes them) and
the public holidays.

A school year runs from the first Monday after the region's summer holiday to the Friday
before the next one. Two national days are the school's own decision, open or closed:
Good Friday (*Goede Vrijdag*) and Liberation Day (*Bevrijdingsdag*, 5 May). The other
public holidays always close the school; a day inside a school holiday is closed anyway.

The ``holidays`` package knows the school holidays a few years ahead. For a school year
beyond them the calendar is an estimate (:func:`estimated_school_year_bounds`): from the
first Monday of September to the Friday before the first Saturday of July, closed on the
public holidays and on whatever school holidays are known. It errs on the side of a
longer summer, so nobody is told anything in a holiday that was not published yet.

:class:`NationalCalendar` gives :mod:`klimop.worktime` the school years after the ones a
school entered itself (``WorkCalendar.later_years``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import holidays

__all__ = [
    "GOOD_FRIDAY",
    "LIBERATION_DAY",
    "PUBLIC_HOLIDAY",
    "SCHOOL_HOLIDAY",
    "NationalCalendar",
    "NationalDay",
    "days_without_school",
    "easter_sunday",
    "estimated_school_year_bounds",
    "good_friday",
    "liberation_day",
    "national_days",
    "school_year_bounds",
    "school_year_start_of",
]

#: The kinds of a day without school (the values of ``NonSchoolDay.Kind``).
SCHOOL_HOLIDAY = "holiday"
PUBLIC_HOLIDAY = "public"

#: The names the two national days the school decides on are entered with.
GOOD_FRIDAY = "Goede Vrijdag"
LIBERATION_DAY = "Bevrijdingsdag"

_SUMMER = "Zomervakantie"
_ONE_DAY = dt.timedelta(days=1)


# --- the package's data, per region and calendar year (cached: it is asked for often) --------


@lru_cache(maxsize=64)
def _school_holidays(region: str, year: int) -> tuple[tuple[dt.date, str], ...]:
    cal = holidays.NL(subdiv=region.capitalize(), categories=("school",), language="nl", years=year)
    return tuple(sorted(cal.items()))


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> tuple[tuple[dt.date, str], ...]:
    return tuple(sorted(holidays.NL(language="nl", years=year).items()))


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday of the Gregorian calendar (the anonymous algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * ell) // 433
    month = (h + ell - 7 * m + 90) // 25
    day = (h + ell - 7 * m + 33 * month + 19) % 32
    return dt.date(year, month, day)


def good_friday(year: int) -> dt.date:
    return easter_sunday(year) - 2 * _ONE_DAY


def liberation_day(year: int) -> dt.date:
    return dt.date(year, 5, 5)


def _summer_holiday(region: str, year: int) -> tuple[dt.date, dt.date] | None:
    days = [d for d, name in _school_holidays(region, year) if _SUMMER in name]
    return (days[0], days[-1]) if days else None


def _monday_after(day: dt.date) -> dt.date:
    day += _ONE_DAY
    while day.weekday() != 0:
        day += _ONE_DAY
    return day


def _friday_before(day: dt.date) -> dt.date:
    day -= _ONE_DAY
    while day.weekday() != 4:
        day -= _ONE_DAY
    return day


# --- school years ---------------------------------------------------------------------------


def school_year_bounds(region: str, start_year: int) -> tuple[dt.date, dt.date] | None:
    """First and last school day of the year starting in ``start_year``, from the published
    summer holidays; ``None`` when either summer holiday is not known yet."""
    this_summer = _summer_holiday(region, start_year)
    next_summer = _summer_holiday(region, start_year + 1)
    if this_summer is None or next_summer is None:
        return None
    return _monday_after(this_summer[1]), _friday_before(next_summer[0])


def estimated_school_year_bounds(region: str, start_year: int) -> tuple[dt.date, dt.date]:
    """:func:`school_year_bounds`, or an estimate where a summer holiday is not published yet.

    The estimate starts on the first Monday of September and ends on the Friday before the
    first Saturday of July: every region's summer holiday has fallen within those weeks.
    """
    this_summer = _summer_holiday(region, start_year)
    next_summer = _summer_holiday(region, start_year + 1)
    if this_summer is not None:
        first = _monday_after(this_summer[1])
    else:
        first = _monday_after(dt.date(start_year, 8, 31))
    if next_summer is not None:
        last = _friday_before(next_summer[0])
    else:
        first_saturday = dt.date(start_year + 1, 7, 1)
        while first_saturday.weekday() != 5:
            first_saturday += _ONE_DAY
        last = _friday_before(first_saturday)
    return first, last


def school_year_start_of(region: str, today: dt.date) -> int:
    """The start year of the school year ``today`` lies in; in the summer holiday, the coming one."""
    _first, last = estimated_school_year_bounds(region, today.year - 1)
    return today.year - 1 if today <= last else today.year


# --- days without school --------------------------------------------------------------------


def days_without_school(
    region: str,
    start: dt.date,
    end: dt.date,
    *,
    closed_on_good_friday: bool,
    closed_on_liberation_day: bool,
) -> dict[dt.date, tuple[str, str]]:
    """Every day from ``start`` to ``end`` (inclusive) without school by the national calendar.

    Maps the date to ``(kind, name)``: the region's school holidays, then the public
    holidays (which win: Christmas Day is a public holiday inside the Christmas holiday).
    Good Friday and Liberation Day follow the school's choice; outside a school holiday
    they are a public holiday only when the school is closed on them, in every year (also
    in the years the national calendar counts 5 May as a public holiday). Weekend days are
    included; the caller leaves out what it does not need.
    """
    days: dict[dt.date, tuple[str, str]] = {}
    for year in range(start.year, end.year + 1):
        chosen = {good_friday(year): closed_on_good_friday, liberation_day(year): closed_on_liberation_day}
        for day, name in _school_holidays(region, year):
            days[day] = (SCHOOL_HOLIDAY, name)
        for day, name in _public_holidays(year):
            if day not in chosen:
                days[day] = (PUBLIC_HOLIDAY, name)
        for day, name in ((good_friday(year), GOOD_FRIDAY), (liberation_day(year), LIBERATION_DAY)):
            if chosen[day] and day not in days:
                days[day] = (PUBLIC_HOLIDAY, name)
    return {day: kind_name for day, kind_name in sorted(days.items()) if start <= day <= end}


@dataclass(frozen=True)
class NationalDay:
    """Good Friday or Liberation Day: a national day the school decides on."""

    date: dt.date
    name: str


def national_days(start: dt.date, end: dt.date) -> list[NationalDay]:
    """Good Friday and Liberation Day from ``start`` to ``end``, in date order."""
    result = []
    for year in range(start.year, end.year + 1):
        for day, name in ((good_friday(year), GOOD_FRIDAY), (liberation_day(year), LIBERATION_DAY)):
            if start <= day <= end:
                result.append(NationalDay(date=day, name=name))
    return sorted(result, key=lambda national: national.date)


# --- the school years after the entered ones, for worktime ---------------------------------


@dataclass(frozen=True)
class NationalCalendar:
    """A region's school years from the national calendar, with the school's two choices.

    ``worktime.WorkCalendar.later_years``: ``school_year(y)`` is the year starting in ``y``
    as ``(first day, last day, days without school)``, published or estimated.
    """

    region: str
    closed_on_good_friday: bool = True
    closed_on_liberation_day: bool = True

    def school_year(self, start_year: int) -> tuple[dt.date, dt.date, frozenset[dt.date]]:
        return _school_year(
            self.region, start_year, self.closed_on_good_friday, self.closed_on_liberation_day
        )


@lru_cache(maxsize=256)
def _school_year(
    region: str, start_year: int, closed_on_good_friday: bool, closed_on_liberation_day: bool
) -> tuple[dt.date, dt.date, frozenset[dt.date]]:
    first, last = estimated_school_year_bounds(region, start_year)
    closed = days_without_school(
        region,
        first,
        last,
        closed_on_good_friday=closed_on_good_friday,
        closed_on_liberation_day=closed_on_liberation_day,
    )
    return first, last, frozenset(closed)
