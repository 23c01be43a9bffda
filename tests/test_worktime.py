"""Behaviour of klimop.worktime: when is a school (or a teacher) at work?

The fixtures model a primary school open Monday to Friday 08:00-16:30 in
Europe/Amsterdam, with the school years 2025-2026 and 2026-2027 and their
holidays.  Tests read as the sentence a parent or teacher would say.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klimop import worktime
from klimop.worktime import (
    AMSTERDAM,
    DEFAULT_HOURS,
    NoWorkingTime,
    WorkCalendar,
    add_working_days,
    answer_by,
    closing_of,
    is_working_day,
    is_working_time,
    next_opening,
    opening_of,
    previous_opening,
    working_days_between,
    working_time_between,
)

NEW_YORK = ZoneInfo("America/New_York")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def ams(year, month, day, hour=0, minute=0, second=0, microsecond=0):
    """A wall-clock moment in Amsterdam."""
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=AMSTERDAM)


def days(first, last):
    """Every date from first to last inclusive."""
    return {first + timedelta(n) for n in range((last - first).days + 1)}


SCHOOL_YEAR_2025_2026 = (date(2025, 8, 18), date(2026, 7, 3))
SCHOOL_YEAR_2026_2027 = (date(2026, 8, 17), date(2027, 7, 9))

HOLIDAYS = frozenset(
    days(date(2026, 2, 14), date(2026, 2, 22))  # voorjaarsvakantie
    | {date(2026, 4, 3), date(2026, 4, 6)}  # Goede Vrijdag, Tweede Paasdag
    | days(date(2026, 4, 25), date(2026, 5, 3))  # meivakantie (incl. Koningsdag)
    | {date(2026, 5, 14), date(2026, 5, 15)}  # Hemelvaart + vrijdag
    | {date(2026, 5, 25)}  # Pinkstermaandag
    | days(date(2026, 10, 17), date(2026, 10, 25))  # herfstvakantie
    | {date(2026, 11, 11)}  # studiedag
    | days(date(2026, 12, 19), date(2027, 1, 3))  # kerstvakantie
    | days(date(2027, 2, 20), date(2027, 2, 28))  # voorjaarsvakantie
    | {date(2027, 3, 26), date(2027, 3, 29)}  # Goede Vrijdag, Tweede Paasdag
    | days(date(2027, 4, 24), date(2027, 5, 2))  # meivakantie (incl. Koningsdag)
    | {date(2027, 5, 6), date(2027, 5, 7)}  # Hemelvaart + vrijdag
    | {date(2027, 5, 17)}  # Pinkstermaandag
)

SCHOOL = WorkCalendar(
    hours=DEFAULT_HOURS,
    closed_dates=HOLIDAYS,
    terms=(SCHOOL_YEAR_2025_2026, SCHOOL_YEAR_2026_2027),
)

# No holidays, no school years: only weekdays and hours matter.
PLAIN_WEEK = WorkCalendar(hours=DEFAULT_HOURS)

# Many Dutch primary schools close at lunchtime on Wednesday.
SHORT_WEDNESDAY = WorkCalendar(hours={**DEFAULT_HOURS, WED: (time(8, 30), time(12, 30))})

# A duo teacher who works Monday and Tuesday.
DUO_TEACHER = SCHOOL.for_weekdays({MON, TUE})


# --------------------------------------------------------------------------
# Working days
# --------------------------------------------------------------------------


def test_a_weekday_in_the_school_year_is_a_working_day():
    assert is_working_day(SCHOOL, date(2026, 10, 7))


@pytest.mark.parametrize(
    "day",
    [
        pytest.param(date(2026, 10, 10), id="saturday"),
        pytest.param(date(2026, 10, 11), id="sunday"),
        pytest.param(date(2026, 10, 21), id="autumn holiday"),
        pytest.param(date(2026, 11, 11), id="study day"),
        pytest.param(date(2027, 3, 29), id="easter monday"),
        pytest.param(date(2026, 7, 20), id="summer holiday between school years"),
        pytest.param(date(2027, 7, 12), id="after the last school year"),
        pytest.param(date(2025, 8, 15), id="before the first school year"),
    ],
)
def test_weekends_holidays_and_days_outside_the_school_year_are_not_working_days(day):
    assert not is_working_day(SCHOOL, day)


def test_a_leave_request_counts_only_school_days():
    # Two weeks off, but the second week is the autumn holiday anyway.
    assert working_days_between(SCHOOL, date(2026, 10, 12), date(2026, 10, 25)) == 5


def test_a_leave_request_of_a_single_day_counts_one_day():
    assert working_days_between(SCHOOL, date(2026, 10, 7), date(2026, 10, 7)) == 1


def test_a_leave_request_ending_before_it_starts_counts_no_days():
    assert working_days_between(SCHOOL, date(2026, 10, 9), date(2026, 10, 5)) == 0


def test_a_duo_teachers_leave_counts_only_her_own_days():
    # Two ordinary school weeks: she works Monday and Tuesday of each.
    assert working_days_between(DUO_TEACHER, date(2026, 10, 5), date(2026, 10, 16)) == 4


def test_opening_and_closing_of_a_school_day_are_local_aware_datetimes():
    assert opening_of(SCHOOL, date(2026, 10, 26)) == ams(2026, 10, 26, 8, 0)
    assert closing_of(SCHOOL, date(2026, 10, 26)) == ams(2026, 10, 26, 16, 30)
    assert opening_of(SCHOOL, date(2026, 10, 26)).tzinfo is AMSTERDAM


def test_asking_for_the_opening_of_a_holiday_is_an_error():
    with pytest.raises(ValueError, match="not a working day"):
        opening_of(SCHOOL, date(2026, 10, 21))
    with pytest.raises(ValueError, match="not a working day"):
        closing_of(SCHOOL, date(2026, 10, 24))


# --------------------------------------------------------------------------
# Working time and the next opening
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "working"),
    [
        (ams(2026, 10, 6, 7, 59, 59), False),
        (ams(2026, 10, 6, 8, 0), True),
        (ams(2026, 10, 6, 12, 0), True),
        (ams(2026, 10, 6, 16, 29, 59), True),
        (ams(2026, 10, 6, 16, 30), False),
        (ams(2026, 10, 10, 10, 0), False),  # Saturday
    ],
)
def test_the_school_is_open_from_opening_time_up_to_but_not_including_closing(moment, working):
    assert is_working_time(SCHOOL, moment) is working


def test_during_working_hours_the_next_opening_is_right_now():
    now = ams(2026, 10, 6, 10, 15, 42, 123456)
    assert next_opening(SCHOOL, now) == now


def test_early_in_the_morning_the_school_opens_later_that_day():
    assert next_opening(SCHOOL, ams(2026, 10, 6, 6, 45)) == ams(2026, 10, 6, 8, 0)


def test_at_closing_time_the_next_opening_is_the_next_morning():
    assert next_opening(SCHOOL, ams(2026, 10, 6, 16, 30)) == ams(2026, 10, 7, 8, 0)


def test_on_friday_evening_the_next_opening_is_monday_morning():
    assert next_opening(SCHOOL, ams(2026, 10, 9, 20, 0)) == ams(2026, 10, 12, 8, 0)


def test_a_message_in_the_autumn_holiday_is_picked_up_after_the_holiday():
    assert next_opening(SCHOOL, ams(2026, 10, 21, 10, 0)) == ams(2026, 10, 26, 8, 0)


def test_a_message_on_christmas_day_is_picked_up_in_the_new_year():
    assert next_opening(SCHOOL, ams(2026, 12, 25, 11, 0)) == ams(2027, 1, 4, 8, 0)


def test_a_study_day_is_skipped():
    assert next_opening(SCHOOL, ams(2026, 11, 10, 17, 0)) == ams(2026, 11, 12, 8, 0)


def test_during_working_hours_the_previous_opening_is_this_mornings():
    assert previous_opening(SCHOOL, ams(2026, 10, 6, 10, 15)) == ams(2026, 10, 6, 8, 0)
    assert previous_opening(SCHOOL, ams(2026, 10, 6, 8, 0)) == ams(2026, 10, 6, 8, 0)


def test_in_the_evening_the_previous_opening_is_this_mornings():
    assert previous_opening(SCHOOL, ams(2026, 10, 6, 20, 0)) == ams(2026, 10, 6, 8, 0)


def test_before_opening_the_previous_opening_is_the_last_working_days():
    assert previous_opening(SCHOOL, ams(2026, 10, 6, 7, 59)) == ams(2026, 10, 5, 8, 0)


def test_on_sunday_the_previous_opening_is_fridays():
    assert previous_opening(SCHOOL, ams(2026, 10, 11, 8, 0)) == ams(2026, 10, 9, 8, 0)


def test_on_easter_monday_the_previous_opening_is_before_good_friday():
    assert previous_opening(SCHOOL, ams(2027, 3, 29, 8, 0)) == ams(2027, 3, 25, 8, 0)


def test_in_the_summer_holiday_the_previous_opening_is_the_last_day_of_the_school_year():
    assert previous_opening(SCHOOL, ams(2026, 8, 16, 8, 0)) == ams(2026, 7, 3, 8, 0)


def test_before_the_first_school_year_there_is_no_previous_opening():
    with pytest.raises(NoWorkingTime):
        previous_opening(SCHOOL, ams(2025, 8, 18, 7, 0))


@pytest.mark.parametrize(
    ("sunday", "friday_offset"),
    [
        pytest.param(date(2026, 3, 29), 1, id="2026 summer time"),
        pytest.param(date(2026, 10, 25), 2, id="2026 winter time"),
    ],
)
def test_over_a_clock_change_weekend_the_previous_opening_is_friday_at_eight(sunday, friday_offset):
    monday_early = datetime.combine(sunday + timedelta(1), time(7, 0), tzinfo=AMSTERDAM)
    opening = previous_opening(PLAIN_WEEK, monday_early)
    assert opening.date() == sunday - timedelta(2)
    assert opening.time() == time(8, 0)
    assert opening.utcoffset() == timedelta(hours=friday_offset)


# --------------------------------------------------------------------------
# Deadlines for parents
# --------------------------------------------------------------------------


def test_a_friday_evening_message_with_two_working_days_is_due_tuesday_1630():
    assert answer_by(SCHOOL, ams(2026, 10, 9, 20, 0), 2) == ams(2026, 10, 13, 16, 30)


def test_two_working_days_after_friday_evening_is_wednesday_morning():
    # add_working_days is the raw arithmetic; answer_by makes it readable.
    assert add_working_days(SCHOOL, ams(2026, 10, 9, 20, 0), 2) == ams(2026, 10, 14, 8, 0)


def test_a_message_during_school_hours_is_due_at_the_same_time_later():
    received = ams(2026, 10, 6, 10, 15)
    assert add_working_days(SCHOOL, received, 2) == ams(2026, 10, 8, 10, 15)
    assert answer_by(SCHOOL, received, 2) == ams(2026, 10, 8, 10, 15)


def test_a_deadline_skips_the_christmas_holiday():
    assert answer_by(SCHOOL, ams(2026, 12, 18, 14, 0), 2) == ams(2027, 1, 5, 14, 0)


def test_a_deadline_reaching_a_holiday_morning_becomes_the_last_closing_before_it():
    # Thursday evening before the autumn holiday, one working day: Friday 16:30.
    assert answer_by(SCHOOL, ams(2026, 10, 15, 18, 0), 1) == ams(2026, 10, 16, 16, 30)
    # Friday afternoon before the holiday, one working day: after the holiday.
    assert answer_by(SCHOOL, ams(2026, 10, 16, 15, 0), 1) == ams(2026, 10, 26, 15, 0)


def test_zero_working_days_means_by_the_next_opening_never_before_the_message():
    assert answer_by(SCHOOL, ams(2026, 10, 9, 20, 0), 0) == ams(2026, 10, 12, 8, 0)
    assert add_working_days(SCHOOL, ams(2026, 10, 9, 20, 0), 0) == ams(2026, 10, 12, 8, 0)


def test_a_negative_number_of_working_days_is_refused():
    with pytest.raises(ValueError, match="zero or positive"):
        add_working_days(SCHOOL, ams(2026, 10, 6, 10, 0), -1)


def test_a_deadline_on_a_short_wednesday_is_clamped_to_its_closing():
    # Tuesday 14:00 + 1 working day would be Wednesday 14:00, after closing.
    assert add_working_days(SHORT_WEDNESDAY, ams(2026, 10, 6, 14, 0), 1) == ams(2026, 10, 7, 12, 30)
    assert answer_by(SHORT_WEDNESDAY, ams(2026, 10, 6, 14, 0), 1) == ams(2026, 10, 7, 12, 30)


def test_a_deadline_before_a_later_wednesday_opening_is_clamped_to_the_opening():
    # Tuesday 08:00 + 1 would be Wednesday 08:00, but Wednesday opens at 08:30.
    assert add_working_days(SHORT_WEDNESDAY, ams(2026, 10, 6, 8, 0), 1) == ams(2026, 10, 7, 8, 30)
    # ...which a parent reads as "by Tuesday 16:30".
    assert answer_by(SHORT_WEDNESDAY, ams(2026, 10, 6, 8, 0), 1) == ams(2026, 10, 6, 16, 30)


def test_a_message_received_now_on_friday_evening_is_due_tuesday():
    with time_machine.travel(ams(2026, 10, 9, 20, 0), tick=False):
        assert answer_by(SCHOOL, datetime.now(UTC), 2) == ams(2026, 10, 13, 16, 30)
        assert answer_by(SCHOOL, datetime.now(AMSTERDAM), 2) == ams(2026, 10, 13, 16, 30)


def test_reading_the_clock_without_a_time_zone_is_refused():
    with (
        time_machine.travel(ams(2026, 10, 9, 20, 0), tick=False),
        pytest.raises(ValueError, match="timezone-aware"),
    ):
        answer_by(SCHOOL, datetime.now(), 2)  # noqa: DTZ005 - the point of the test


# --------------------------------------------------------------------------
# Part-time staff
# --------------------------------------------------------------------------


def test_a_duo_teacher_asked_on_wednesday_answers_from_monday():
    assert next_opening(DUO_TEACHER, ams(2026, 10, 7, 10, 0)) == ams(2026, 10, 12, 8, 0)


def test_a_duo_teacher_skips_a_monday_in_the_holiday():
    # Monday 19 October is in the autumn holiday.
    assert next_opening(DUO_TEACHER, ams(2026, 10, 14, 10, 0)) == ams(2026, 10, 26, 8, 0)


def test_a_duo_teacher_starts_on_tuesday_after_whit_monday():
    assert next_opening(DUO_TEACHER, ams(2027, 5, 12, 10, 0)) == ams(2027, 5, 18, 8, 0)


def test_a_duo_teachers_deadline_counts_only_her_days():
    # Monday 15:00, two of her working days: Tuesday, then next Monday.
    assert answer_by(DUO_TEACHER, ams(2026, 10, 5, 15, 0), 2) == ams(2026, 10, 12, 15, 0)


def test_a_duo_teachers_calendar_keeps_the_school_holidays_and_years():
    assert DUO_TEACHER.closed_dates == SCHOOL.closed_dates
    assert DUO_TEACHER.terms == SCHOOL.terms
    assert DUO_TEACHER.weekdays == {MON, TUE}


def test_restricting_a_part_timer_again_keeps_only_days_in_both():
    assert DUO_TEACHER.for_weekdays({TUE, WED}).weekdays == {TUE}


def test_a_staff_member_working_only_on_saturday_never_works_at_school():
    with pytest.raises(NoWorkingTime):
        next_opening(PLAIN_WEEK.for_weekdays({SAT}), ams(2026, 10, 6, 10, 0))


def test_a_school_without_opening_hours_never_opens():
    with pytest.raises(NoWorkingTime):
        next_opening(WorkCalendar(hours={}), ams(2026, 10, 6, 10, 0))


# --------------------------------------------------------------------------
# School-year boundary
# --------------------------------------------------------------------------


def test_after_the_last_day_of_the_last_school_year_there_is_no_working_time():
    with pytest.raises(NoWorkingTime):
        next_opening(SCHOOL, ams(2027, 7, 9, 16, 30))
    with pytest.raises(NoWorkingTime):
        add_working_days(SCHOOL, ams(2027, 7, 9, 10, 0), 1)


def test_no_working_time_is_a_value_error():
    with pytest.raises(ValueError, match="past the last school year"):
        next_opening(SCHOOL, ams(2027, 8, 1, 10, 0))


def test_the_last_afternoon_of_the_last_school_year_is_still_working_time():
    assert next_opening(SCHOOL, ams(2027, 7, 9, 16, 29)) == ams(2027, 7, 9, 16, 29)


def test_in_the_summer_holiday_the_next_opening_is_the_first_day_of_the_new_school_year():
    assert next_opening(SCHOOL, ams(2026, 7, 15, 10, 0)) == ams(2026, 8, 17, 8, 0)


def test_a_message_on_the_last_afternoon_before_summer_is_due_in_the_new_school_year():
    assert answer_by(SCHOOL, ams(2026, 7, 3, 15, 0), 1) == ams(2026, 8, 17, 15, 0)


def test_before_the_first_school_year_the_next_opening_is_its_first_day():
    assert next_opening(SCHOOL, ams(2025, 6, 1, 10, 0)) == ams(2025, 8, 18, 8, 0)


# --------------------------------------------------------------------------
# Daylight-saving time
# --------------------------------------------------------------------------

DST_SUNDAYS = [
    pytest.param(date(2026, 3, 29), 2, id="2026 summer time"),
    pytest.param(date(2026, 10, 25), 1, id="2026 winter time"),
    pytest.param(date(2027, 3, 28), 2, id="2027 summer time"),
    pytest.param(date(2027, 10, 31), 1, id="2027 winter time"),
]


@pytest.mark.parametrize(("sunday", "offset_after"), DST_SUNDAYS)
def test_over_a_clock_change_weekend_the_school_still_opens_at_eight(sunday, offset_after):
    friday, monday = sunday - timedelta(2), sunday + timedelta(1)
    friday_evening = datetime.combine(friday, time(20, 0), tzinfo=AMSTERDAM)

    opening = next_opening(PLAIN_WEEK, friday_evening)

    assert opening.date() == monday
    assert opening.time() == time(8, 0)
    assert opening.utcoffset() == timedelta(hours=offset_after)
    assert opening.astimezone(UTC).time() == time(8 - offset_after, 0)


@pytest.mark.parametrize(("sunday", "offset_after"), DST_SUNDAYS)
def test_over_a_clock_change_weekend_each_school_day_counts_eight_and_a_half_hours(sunday, offset_after):
    friday, tuesday = sunday - timedelta(2), sunday + timedelta(2)
    start = datetime.combine(friday, time(0, 0), tzinfo=AMSTERDAM)
    end = datetime.combine(tuesday, time(0, 0), tzinfo=AMSTERDAM)

    assert working_time_between(PLAIN_WEEK, start, end) == timedelta(hours=17)


@pytest.mark.parametrize(("sunday", "offset_after"), DST_SUNDAYS)
def test_a_friday_evening_message_over_a_clock_change_is_due_tuesday_1630(sunday, offset_after):
    friday_evening = datetime.combine(sunday - timedelta(2), time(20, 0), tzinfo=AMSTERDAM)
    due = answer_by(PLAIN_WEEK, friday_evening, 2)
    assert due == datetime.combine(sunday + timedelta(2), time(16, 30), tzinfo=AMSTERDAM)


def test_working_time_through_the_night_of_a_clock_change_is_real_elapsed_time():
    # Hypothetical night shift 01:00-04:00 on Sundays: the clock change falls inside it.
    night_shift = WorkCalendar(hours={SUN: (time(1, 0), time(4, 0))})
    spring, autumn = ams(2026, 3, 29), ams(2026, 10, 25)
    day = timedelta(days=1)
    assert working_time_between(night_shift, spring, spring + day) == timedelta(hours=2)
    assert working_time_between(night_shift, autumn, autumn + day) == timedelta(hours=4)


def test_easter_2027_coincides_with_summer_time_and_the_school_opens_on_tuesday():
    # Good Friday and Easter Monday are closed; clocks go forward on Easter Sunday.
    opening = next_opening(SCHOOL, ams(2027, 3, 25, 20, 0))
    assert opening == ams(2027, 3, 30, 8, 0)
    assert opening.astimezone(UTC) == datetime(2027, 3, 30, 6, 0, tzinfo=UTC)


def test_after_the_autumn_holiday_2026_the_school_opens_at_eight_winter_time():
    opening = next_opening(SCHOOL, ams(2026, 10, 23, 12, 0))
    assert opening.astimezone(UTC) == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)


# --------------------------------------------------------------------------
# Time zones and naive input
# --------------------------------------------------------------------------


def test_a_utc_moment_is_read_on_the_amsterdam_clock_in_summer():
    # 06:30 UTC is 08:30 in Amsterdam in October before the clock change.
    assert is_working_time(SCHOOL, datetime(2026, 10, 6, 6, 30, tzinfo=UTC))
    # 14:30 UTC is 16:30 in Amsterdam: closing time.
    assert not is_working_time(SCHOOL, datetime(2026, 10, 6, 14, 30, tzinfo=UTC))


def test_a_utc_moment_is_read_on_the_amsterdam_clock_in_winter():
    # 15:29 UTC is 16:29 in Amsterdam in December.
    assert is_working_time(SCHOOL, datetime(2026, 12, 1, 15, 29, tzinfo=UTC))
    assert not is_working_time(SCHOOL, datetime(2026, 12, 1, 6, 59, tzinfo=UTC))


def test_a_late_evening_utc_moment_belongs_to_the_next_amsterdam_day():
    # Thursday 23:30 UTC is already Friday 01:30 in Amsterdam.
    moment = datetime(2026, 10, 8, 23, 30, tzinfo=UTC)
    assert next_opening(SCHOOL, moment) == ams(2026, 10, 9, 8, 0)


def test_results_are_given_on_the_schools_clock():
    moment = datetime(2026, 10, 6, 8, 0, tzinfo=UTC)
    opening = next_opening(SCHOOL, moment)
    assert opening == moment
    assert opening.tzinfo is AMSTERDAM
    assert opening.hour == 10


def test_an_aware_datetime_counts_as_its_local_date():
    # 23:30 UTC on Friday is Saturday in Amsterdam.
    assert not is_working_day(SCHOOL, datetime(2026, 10, 9, 23, 30, tzinfo=UTC))


MONDAY, FRIDAY = ams(2026, 10, 5), ams(2026, 10, 9)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda m: is_working_time(SCHOOL, m), id="is_working_time"),
        pytest.param(lambda m: next_opening(SCHOOL, m), id="next_opening"),
        pytest.param(lambda m: add_working_days(SCHOOL, m, 1), id="add_working_days"),
        pytest.param(lambda m: answer_by(SCHOOL, m, 2), id="answer_by"),
        pytest.param(lambda m: working_time_between(SCHOOL, m, FRIDAY), id="between start"),
        pytest.param(lambda m: working_time_between(SCHOOL, MONDAY, m), id="between end"),
        pytest.param(lambda m: is_working_day(SCHOOL, m), id="is_working_day"),
    ],
)
def test_a_naive_datetime_is_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call(datetime(2026, 10, 6, 10, 0))  # noqa: DTZ001 - naive on purpose


# --------------------------------------------------------------------------
# Measuring answer times
# --------------------------------------------------------------------------


def test_an_answer_the_next_morning_took_only_the_working_time_in_between():
    received = ams(2026, 10, 5, 16, 0)
    answered = ams(2026, 10, 6, 9, 0)
    assert working_time_between(SCHOOL, received, answered) == timedelta(hours=1, minutes=30)


def test_an_answer_over_the_weekend_took_no_working_time():
    friday_after_school, monday_before_school = ams(2026, 10, 9, 17, 0), ams(2026, 10, 12, 7, 0)
    assert working_time_between(SCHOOL, friday_after_school, monday_before_school) == timedelta(0)


def test_a_whole_school_week_is_five_times_eight_and_a_half_hours():
    monday, saturday = ams(2026, 10, 5), ams(2026, 10, 10)
    assert working_time_between(SCHOOL, monday, saturday) == timedelta(hours=42.5)


def test_an_answer_recorded_before_the_question_took_no_time():
    asked, answered = ams(2026, 10, 6, 12, 0), ams(2026, 10, 6, 10, 0)
    assert working_time_between(SCHOOL, asked, answered) == timedelta(0)


def test_answer_time_can_be_measured_with_moments_in_different_zones():
    received = datetime(2026, 10, 6, 7, 0, tzinfo=UTC)  # 09:00 Amsterdam
    answered = ams(2026, 10, 6, 10, 0)
    assert working_time_between(SCHOOL, received, answered) == timedelta(hours=1)


# --------------------------------------------------------------------------
# The calendar value itself
# --------------------------------------------------------------------------


def test_a_calendar_with_closing_before_opening_is_refused():
    with pytest.raises(ValueError, match="opening must be before closing"):
        WorkCalendar(hours={MON: (time(16, 30), time(8, 0))})


def test_a_calendar_with_an_unknown_weekday_is_refused():
    with pytest.raises(ValueError, match="weekday"):
        WorkCalendar(hours={7: (time(8, 0), time(16, 30))})
    with pytest.raises(ValueError, match="weekday"):
        PLAIN_WEEK.for_weekdays({7})


def test_a_school_year_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="term"):
        WorkCalendar(hours=DEFAULT_HOURS, terms=((date(2027, 7, 9), date(2026, 8, 17)),))


def test_calendars_are_immutable_values():
    hours = dict(DEFAULT_HOURS)
    cal = WorkCalendar(hours=hours, closed_dates={date(2026, 10, 7)})
    hours[SAT] = (time(8, 0), time(12, 0))  # changing the input afterwards...
    assert SAT not in cal.hours  # ...does not change the calendar
    assert cal == WorkCalendar(hours=DEFAULT_HOURS, closed_dates=frozenset({date(2026, 10, 7)}))
    assert len({cal, WorkCalendar(hours=DEFAULT_HOURS, closed_dates=[date(2026, 10, 7)])}) == 1
    with pytest.raises(AttributeError):
        cal.tz = UTC


def test_the_default_calendar_is_monday_to_friday_eight_to_half_past_four():
    assert WorkCalendar() == PLAIN_WEEK
    assert set(DEFAULT_HOURS) == {MON, TUE, WED, THU, FRI}
    assert set(DEFAULT_HOURS.values()) == {(time(8, 0), time(16, 30))}


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

FIRST_DAY, LAST_DAY = date(2025, 12, 1), date(2027, 12, 31)

# Hypothesis takes naive bounds and attaches the zones itself.
moments = st.datetimes(
    min_value=datetime(2025, 12, 1),  # noqa: DTZ001
    max_value=datetime(2027, 12, 31, 23, 59),  # noqa: DTZ001
    timezones=st.sampled_from([AMSTERDAM, UTC, NEW_YORK]),
    allow_imaginary=False,
)
clock_times = st.builds(time, st.integers(6, 9), st.sampled_from([0, 15, 30, 45]))
closing_times = st.builds(time, st.integers(11, 18), st.sampled_from([0, 15, 30, 45]))
closed_date_sets = st.frozensets(st.dates(FIRST_DAY, LAST_DAY + timedelta(400)), max_size=80)


@st.composite
def calendars(draw, terms=False):
    """Calendars that open at least one weekday, with random holidays."""
    open_weekdays = draw(st.frozensets(st.integers(0, 6), min_size=1))
    hours = {wd: (draw(clock_times), draw(closing_times)) for wd in open_weekdays}
    staff_days = draw(st.none() | st.frozensets(st.sampled_from(sorted(open_weekdays)), min_size=1))
    school_years = ()
    if terms:
        starts = sorted(draw(st.sets(st.dates(FIRST_DAY, LAST_DAY), min_size=1, max_size=3)))
        school_years = tuple((s, s + timedelta(draw(st.integers(0, 300)))) for s in starts)
    return WorkCalendar(
        hours=hours,
        closed_dates=draw(closed_date_sets),
        terms=school_years,
        weekdays=staff_days,
    )


def utc(moment):
    return moment.astimezone(UTC)


def is_working_time_or_closing(cal, moment):
    return is_working_time(cal, moment) or (
        is_working_day(cal, moment) and utc(moment) == utc(closing_of(cal, moment.date()))
    )


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(calendars(), moments)
def test_the_next_opening_is_the_earliest_working_moment_not_before_now(cal, moment):
    opening = next_opening(cal, moment)

    assert utc(opening) >= utc(moment)
    assert is_working_time(cal, opening)
    assert next_opening(cal, opening) == opening
    assert working_time_between(cal, moment, opening) == timedelta(0)
    assert opening.tzinfo is cal.tz


@PROPERTY
@given(calendars(), moments, st.integers(0, 12))
def test_more_working_days_means_a_later_deadline_on_a_working_day(cal, moment, n):
    start = next_opening(cal, moment)
    results = [add_working_days(cal, moment, k) for k in range(n + 1)]

    assert results[0] == start
    for earlier, later in zip(results, results[1:], strict=False):
        assert utc(earlier) < utc(later)
    for k, result in enumerate(results):
        assert is_working_time_or_closing(cal, result)
        assert working_days_between(cal, start.date() + timedelta(1), result.date()) == k


@PROPERTY
@given(calendars(), moments, moments, moments)
def test_working_time_is_never_negative_and_adds_up(cal, a, b, c):
    a, b, c = sorted([a, b, c], key=utc)

    ab = working_time_between(cal, a, b)
    bc = working_time_between(cal, b, c)

    assert timedelta(0) <= ab <= utc(b) - utc(a)
    assert bc >= timedelta(0)
    assert ab + bc == working_time_between(cal, a, c)


@PROPERTY
@given(calendars(), moments, st.integers(0, 12))
def test_the_deadline_shown_to_parents_is_never_later_than_the_working_days_allow(cal, moment, n):
    due = answer_by(cal, moment, n)

    assert utc(due) <= utc(add_working_days(cal, moment, n))
    assert utc(due) >= utc(next_opening(cal, moment))
    assert is_working_time_or_closing(cal, due)


@PROPERTY
@given(closed_date_sets, moments, st.integers(0, 12))
def test_no_deadline_falls_on_a_weekend_or_a_closed_date(closed, moment, n):
    cal = WorkCalendar(hours=DEFAULT_HOURS, closed_dates=closed)

    for result in (
        next_opening(cal, moment),
        add_working_days(cal, moment, n),
        answer_by(cal, moment, n),
    ):
        assert result.weekday() < SAT
        assert result.date() not in closed


@PROPERTY
@given(calendars(terms=True), moments)
def test_outside_the_school_years_there_is_only_working_time_if_a_working_day_remains(cal, moment):
    try:
        opening = next_opening(cal, moment)
    except NoWorkingTime:
        after_the_last_year = datetime.combine(cal.last_day + timedelta(1), time(0), tzinfo=cal.tz)
        assert working_time_between(cal, moment, after_the_last_year) == timedelta(0)
    else:
        assert is_working_time(cal, opening)
        assert any(first <= opening.date() <= last for first, last in cal.terms)


# --- the school's clock -------------------------------------------------------------------------


def test_the_school_date_of_a_moment_is_the_amsterdam_date_not_the_utc_date():
    just_after_midnight = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 00:30 in Amsterdam
    assert worktime.local_date(just_after_midnight) == date(2026, 12, 1)
    summer = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)  # 00:30 CEST
    assert worktime.local_date(summer) == date(2026, 7, 1)


def test_a_local_time_on_a_dst_day_has_that_days_offset():
    assert worktime.local_datetime(date(2027, 3, 28), time(8, 20)).utcoffset() == timedelta(hours=2)
    assert worktime.local_datetime(date(2026, 10, 25), time(8, 20)).utcoffset() == timedelta(hours=1)


def test_the_school_week_runs_from_monday_to_monday_across_a_dst_night():
    sunday_evening = datetime(2026, 10, 25, 21, 0, tzinfo=worktime.AMSTERDAM)
    start, end = worktime.week_bounds(sunday_evening)
    assert (start.date(), end.date()) == (date(2026, 10, 19), date(2026, 10, 26))
    assert (start.hour, end.hour) == (0, 0)
    # That week had the extra hour of the night of 25 October.
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=7, hours=1)


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="aware"):
        worktime.local_date(datetime(2026, 12, 1, 8, 0))  # noqa: DTZ001 - the point of the test
