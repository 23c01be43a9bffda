"""The agreements hold at every edge of the calendar.

Past the last school year a school entered, the working time goes on with the national
calendar of its region (noord, midden, zuid): a teacher's message written on the last
Friday evening before the summer waits for the first day of the next school year, a
parent's question in the summer gets an answer-by time, a reminder and an escalation,
and nobody on the staff is told anything in their holiday. A yearly sweep enters the
coming school year in good time and asks the office for the study days; Good Friday
and Liberation Day are the school's own choice.

All with frozen time: no sleeping, no wall clock.
"""

import datetime as dt

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from communication.chats import services as chats
from communication.posts import services as posts
from klimop import national_calendar, selectors, services, tasks, worktime
from klimop.models import NonSchoolDay, SchoolYear
from klimop.national_calendar import NationalCalendar
from klimop.notifications.models import Notification
from klimop.notifications.services import notify, send_due_emails
from klimop.worktime import AMSTERDAM, WorkCalendar

UTC = dt.UTC
REGIONS = ["noord", "midden", "zuid"]

# The school year 2026/2027 of each region, and the first day of the next one
# (published by the ministry; in the ``holidays`` package).
YEAR_2026 = {
    "noord": (dt.date(2026, 8, 17), dt.date(2027, 7, 9)),
    "midden": (dt.date(2026, 8, 31), dt.date(2027, 7, 16)),
    "zuid": (dt.date(2026, 8, 24), dt.date(2027, 7, 23)),
}
YEAR_2027 = {
    "noord": (dt.date(2027, 8, 23), dt.date(2028, 7, 14)),
    "midden": (dt.date(2027, 8, 30), dt.date(2028, 7, 7)),
    "zuid": (dt.date(2027, 9, 6), dt.date(2028, 7, 21)),
}


def ams(*args):
    return dt.datetime(*args, tzinfo=AMSTERDAM)


def entered_2026(region: str) -> WorkCalendar:
    """A school that entered 2026/2027 (with no days off) and not the year after."""
    return WorkCalendar(terms=(YEAR_2026[region],), later_years=NationalCalendar(region))


# --- the working time goes on after the last entered school year (pure) ----------------------


@pytest.mark.parametrize("region", REGIONS)
def test_a_message_on_the_last_friday_evening_before_summer_waits_for_the_next_school_year(region):
    last_friday = YEAR_2026[region][1]
    evening = dt.datetime.combine(last_friday, dt.time(20), tzinfo=AMSTERDAM)
    first_day = YEAR_2027[region][0]
    assert worktime.next_opening(entered_2026(region), evening) == dt.datetime.combine(
        first_day, dt.time(8), tzinfo=AMSTERDAM
    )


def test_without_the_national_calendar_a_calendar_still_ends_with_its_last_school_year():
    bare = WorkCalendar(terms=(YEAR_2026["midden"],))
    with pytest.raises(worktime.NoWorkingTime):
        worktime.next_opening(bare, ams(2027, 7, 16, 20))


@pytest.mark.parametrize("region", REGIONS)
def test_a_question_in_the_summer_is_due_two_working_days_into_the_next_year(region):
    cal = entered_2026(region)
    first_day = YEAR_2027[region][0]  # a Monday
    due = worktime.answer_by(cal, ams(2027, 8, 4, 14), 2)
    assert due == dt.datetime.combine(first_day + dt.timedelta(days=1), dt.time(16, 30), tzinfo=AMSTERDAM)


@pytest.mark.parametrize("region", REGIONS)
def test_the_autumn_holiday_of_the_next_year_comes_from_the_regions_calendar(region):
    # Herfstvakantie 2027: noord and midden 16-24 October, zuid 23-31 October.
    cal = entered_2026(region)
    assert worktime.is_working_day(cal, dt.date(2027, 10, 18)) is (region == "zuid")
    assert worktime.is_working_day(cal, dt.date(2027, 10, 25)) is (region != "zuid")


@pytest.mark.parametrize("region", REGIONS)
def test_over_the_october_clock_change_in_the_next_year_the_school_opens_at_eight(region):
    # Summer time ends on Sunday 31 October 2027; no region has a holiday on 1 November.
    cal = entered_2026(region)
    friday_evening = ams(2027, 10, 29, 20)
    assert worktime.next_opening(cal, friday_evening) == dt.datetime(2027, 11, 1, 7, 0, tzinfo=UTC)
    assert worktime.answer_by(cal, friday_evening, 2) == dt.datetime(2027, 11, 2, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize("region", REGIONS)
def test_over_the_march_clock_change_in_the_next_year_the_school_opens_at_eight(region):
    # Summer time starts on Sunday 26 March 2028.
    cal = entered_2026(region)
    friday_evening = ams(2028, 3, 24, 20)
    assert worktime.next_opening(cal, friday_evening) == dt.datetime(2028, 3, 27, 6, 0, tzinfo=UTC)
    assert worktime.answer_by(cal, friday_evening, 2) == dt.datetime(2028, 3, 28, 14, 30, tzinfo=UTC)
    # Working time through the night of the change is real elapsed time: two full days.
    assert worktime.working_time_between(cal, friday_evening, ams(2028, 3, 28, 16, 30)) == dt.timedelta(
        hours=17
    )


def test_the_christmas_holiday_of_the_next_year_is_not_working_time():
    cal = entered_2026("midden")
    # Kerstvakantie 2027/2028: 25 December to 9 January.
    assert worktime.next_opening(cal, ams(2027, 12, 24, 20)) == ams(2028, 1, 10, 8)


def test_good_friday_in_the_next_year_is_the_schools_choice():
    terms = (YEAR_2026["midden"],)
    closed = WorkCalendar(terms=terms, later_years=NationalCalendar("midden", closed_on_good_friday=True))
    opened = WorkCalendar(terms=terms, later_years=NationalCalendar("midden", closed_on_good_friday=False))
    good_friday = dt.date(2028, 4, 14)
    assert not worktime.is_working_day(closed, good_friday)
    assert worktime.is_working_day(opened, good_friday)
    # Easter Monday is closed whatever the school chose: after Thursday evening, Tuesday.
    assert worktime.next_opening(closed, ams(2028, 4, 13, 20)) == ams(2028, 4, 18, 8)
    assert worktime.next_opening(opened, ams(2028, 4, 13, 20)) == ams(2028, 4, 14, 8)


def test_liberation_day_is_the_schools_choice_outside_the_may_holiday():
    # No school year entered: the national calendar gives every year. 5 May 2027 is a
    # Wednesday after the May holiday; 5 May 2028 falls inside it.
    closed = WorkCalendar(later_years=NationalCalendar("midden", closed_on_liberation_day=True))
    opened = WorkCalendar(later_years=NationalCalendar("midden", closed_on_liberation_day=False))
    assert not worktime.is_working_day(closed, dt.date(2027, 5, 5))
    assert worktime.is_working_day(opened, dt.date(2027, 5, 5))
    assert not worktime.is_working_day(opened, dt.date(2028, 5, 5))


def test_beyond_the_published_holidays_the_year_is_estimated_without_july_and_august():
    cal = WorkCalendar(later_years=NationalCalendar("noord"))
    assert not worktime.is_working_day(cal, dt.date(2031, 8, 28))
    assert worktime.is_working_day(cal, dt.date(2031, 9, 1))
    assert not worktime.is_working_day(cal, dt.date(2031, 12, 25))  # Christmas Day
    assert not worktime.is_working_day(cal, dt.date(2032, 7, 5))
    assert worktime.next_opening(cal, ams(2032, 7, 20, 10)) == ams(2032, 9, 6, 8)


def test_days_the_school_entered_itself_count_after_its_last_school_year_too():
    study_day = dt.date(2027, 9, 1)
    cal = WorkCalendar(
        terms=(YEAR_2026["midden"],), closed_dates={study_day}, later_years=NationalCalendar("midden")
    )
    assert not worktime.is_working_day(cal, study_day)
    assert worktime.is_working_day(cal, dt.date(2027, 8, 31))


def test_the_national_calendar_does_not_reopen_the_end_of_an_entered_year():
    # The school ended its year a week before the region's last day: that week stays closed.
    cal = WorkCalendar(
        terms=((dt.date(2026, 8, 31), dt.date(2027, 7, 9)),), later_years=NationalCalendar("midden")
    )
    assert not worktime.is_working_day(cal, dt.date(2027, 7, 14))
    assert worktime.next_opening(cal, ams(2027, 7, 12, 10)) == ams(2027, 8, 30, 8)


def test_a_staff_member_without_any_working_weekday_works_in_the_schools_time():
    school = entered_2026("midden")
    nobody_knows = worktime.for_staff_weekdays(school, set())
    only_saturday = worktime.for_staff_weekdays(school, {5})
    assert nobody_knows == only_saturday == school
    assert worktime.next_opening(nobody_knows, ams(2026, 11, 27, 20)) == ams(2026, 11, 30, 8)
    part_timer = worktime.for_staff_weekdays(school, {2})
    assert worktime.next_opening(part_timer, ams(2026, 11, 27, 20)) == ams(2026, 12, 2, 8)


PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    region=st.sampled_from(REGIONS),
    entered=st.booleans(),
    moment=st.datetimes(
        min_value=dt.datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; zone below
        max_value=dt.datetime(2033, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    days=st.integers(0, 10),
)
def test_the_working_time_never_runs_out_and_never_answers_now_outside_it(region, entered, moment, days):
    cal = entered_2026(region) if entered else WorkCalendar(later_years=NationalCalendar(region))
    opening = worktime.next_opening(cal, moment)
    assert opening >= moment
    assert worktime.is_working_time(cal, opening)
    deadline = worktime.answer_by(cal, moment, days)
    assert deadline >= opening


# --- the school's calendar from the database ---------------------------------------------------


@pytest.fixture
def cast(teacher, duo_teacher, director, office, parent, child):
    """Group 5a in 2026/2027 (region midden, as entered): teacher Mon-Wed, duo Thu-Fri."""


def set_region(school, school_year, region):
    school.region = region
    school.save(update_fields=["region"])
    first, last = YEAR_2026[region]
    SchoolYear.objects.filter(pk=school_year.pk).update(starts_on=first, ends_on=last)


@pytest.mark.django_db
@pytest.mark.parametrize("region", REGIONS)
def test_a_teachers_reply_on_the_last_friday_evening_reaches_parents_on_the_first_day(
    region, cast, school, school_year, parent, child, teacher
):
    set_region(school, school_year, region)
    last_friday = YEAR_2026[region][1]
    with time_machine.travel(dt.datetime.combine(last_friday, dt.time(10), tzinfo=AMSTERDAM), tick=False):
        conversation = chats.conversation_start_direct(actor=parent.user, pupil=child, body="Vraagje")
    # The teacher works Monday to Wednesday: Friday evening is not her working time.
    evening = dt.datetime.combine(last_friday, dt.time(20), tzinfo=AMSTERDAM)
    with time_machine.travel(evening, tick=False):
        reply = chats.message_send(actor=teacher.user, conversation=conversation, body="Fijne vakantie!")
    first_day = dt.datetime.combine(YEAR_2027[region][0], dt.time(8), tzinfo=AMSTERDAM)
    assert reply.deliver_at == first_day
    assert Notification.objects.get(user=parent.user, cause=f"message:{reply.pk}").deliver_at == first_day


@pytest.mark.django_db
def test_a_parents_question_in_the_summer_gets_an_answer_by_time_a_reminder_and_an_escalation(
    cast, school, parent, child, teacher, duo_teacher, director
):
    asked = ams(2027, 7, 28, 14)  # midden: summer holiday, 2027/2028 not entered
    with time_machine.travel(asked, tick=False):
        message = chats.conversation_start_direct(actor=parent.user, pupil=child, body="Vraag").messages.get()
        send_due_emails()
    assert not SchoolYear.objects.filter(name="2027/2028").exists()
    assert message.needs_answer
    assert message.answer_by == ams(2027, 8, 31, 16, 30)  # Monday 30 August is the first day
    assert message.remind_at == ams(2027, 8, 31, 8)
    assert message.escalate_at == ams(2027, 9, 3, 16, 30)
    # Nobody on the staff hears of it in the holiday: the teacher on her first day (a
    # Monday), the duo teacher on her first (Thursday); no e-mail went out in the summer.
    notes = {n.user_id: n.deliver_at for n in Notification.objects.filter(cause=f"message:{message.pk}")}
    assert notes == {teacher.user_id: ams(2027, 8, 30, 8), duo_teacher.user_id: ams(2027, 9, 2, 8)}
    assert mail.outbox == []
    with time_machine.travel(ams(2027, 8, 30, 8), tick=False):
        send_due_emails()
    assert [m.to for m in mail.outbox] == [[teacher.user.email]]

    with time_machine.travel(ams(2027, 8, 31, 7, 59), tick=False):
        assert chats.answer_reminders_send() == 0
    with time_machine.travel(ams(2027, 8, 31, 8), tick=False):
        assert chats.answer_reminders_send() == 2
    with time_machine.travel(ams(2027, 9, 3, 16, 29), tick=False):
        assert chats.answer_escalations_send() == 0
    with time_machine.travel(ams(2027, 9, 3, 16, 30), tick=False):
        assert chats.answer_escalations_send() == 1
    escalation = Notification.objects.get(cause=f"answer-escalation:{message.pk}")
    assert escalation.user_id == director.user_id
    assert escalation.deliver_at == ams(2027, 9, 6, 8)  # 16:30 is closing time: Monday morning


@pytest.mark.django_db
def test_a_teachers_post_in_the_summer_appears_on_the_first_day_of_the_next_year(cast, teacher):
    with time_machine.travel(ams(2027, 7, 20, 10), tick=False):
        at, held = posts.publication_time(author=teacher.user)
    assert (at, held) == (ams(2027, 8, 30, 8), True)


@pytest.mark.django_db
def test_a_staff_member_without_working_days_is_notified_in_the_schools_time(cast, teacher):
    teacher.works_monday = teacher.works_tuesday = teacher.works_wednesday = False
    teacher.save()
    with time_machine.travel(ams(2027, 7, 30, 20), tick=False):
        notify(users=[teacher.user], cause="test:1", title="Hallo")
    assert Notification.objects.get(cause="test:1").deliver_at == ams(2027, 8, 30, 8)


@pytest.mark.django_db
def test_the_schools_choices_reach_its_calendar_after_the_entered_years(school, school_year):
    school.closed_on_good_friday = False
    school.save(update_fields=["closed_on_good_friday"])
    cal = selectors.school_calendar(school)
    assert worktime.is_working_day(cal, dt.date(2028, 4, 14))
    assert not worktime.is_working_day(cal, dt.date(2028, 4, 17))  # Easter Monday


# --- the yearly sweep: next school year entered in good time -----------------------------------


def notes_for(cause_prefix):
    return Notification.objects.filter(cause__startswith=cause_prefix)


@pytest.mark.django_db
@pytest.mark.parametrize("region", REGIONS)
def test_from_1_march_the_next_school_year_is_entered_with_the_regions_holidays(
    region, school, school_year, director, office, teacher
):
    set_region(school, school_year, region)
    with time_machine.travel(ams(2027, 3, 1, 3), tick=False):  # a Monday, at night
        assert services.school_years_prepare_due() == 1
    year = SchoolYear.objects.get(school=school, name="2027/2028")
    assert (year.starts_on, year.ends_on) == YEAR_2027[region]
    days = {d.date: d for d in NonSchoolDay.objects.filter(school=school, date__gte=year.starts_on)}
    autumn_monday = dt.date(2027, 10, 25) if region == "zuid" else dt.date(2027, 10, 18)
    assert days[autumn_monday].kind == NonSchoolDay.Kind.SCHOOL_HOLIDAY
    assert days[dt.date(2028, 4, 14)].name == national_calendar.GOOD_FRIDAY
    # The office and the director are asked for the study days, in their working time.
    notes = notes_for("school-year-entered:")
    assert {n.user_id for n in notes} == {director.user_id, office.user_id}
    assert {n.deliver_at for n in notes} == {ams(2027, 3, 1, 8)}
    assert notes[0].url == reverse("admin:klimop_schoolyear_change", args=[year.pk])


@pytest.mark.django_db
def test_beat_runs_the_yearly_sweep_every_day(school, school_year):
    schedule = {entry["task"]: entry["schedule"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["klimop.tasks.prepare_school_years"] == 24 * 3600
    with time_machine.travel(ams(2027, 3, 1, 9), tick=False):
        assert tasks.prepare_school_years.delay().get() == 1


@pytest.mark.django_db
def test_the_yearly_sweep_is_idempotent(school, school_year, director, office):
    with time_machine.travel(ams(2027, 3, 1, 9), tick=False):
        assert services.school_years_prepare_due() == 1
        count = NonSchoolDay.objects.count()
        assert services.school_years_prepare_due() == 0
    with time_machine.travel(ams(2027, 6, 1, 9), tick=False):
        assert services.school_years_prepare_due() == 0
    assert SchoolYear.objects.filter(school=school).count() == 2
    assert NonSchoolDay.objects.count() == count
    assert notes_for("school-year-").count() == 2


@pytest.mark.django_db
def test_before_1_march_the_next_school_year_is_not_entered_yet(school, school_year, office):
    with time_machine.travel(ams(2027, 2, 26, 10), tick=False):
        assert services.school_years_prepare_due() == 0
    assert list(SchoolYear.objects.values_list("name", flat=True)) == ["2026/2027"]
    assert not notes_for("school-year-").exists()


@pytest.mark.django_db
def test_a_school_year_the_school_entered_itself_is_left_alone(school, school_year, office):
    SchoolYear.objects.create(
        school=school, name="Schooljaar 27-28", starts_on=dt.date(2027, 8, 30), ends_on=dt.date(2028, 7, 7)
    )
    with time_machine.travel(ams(2027, 3, 1, 9), tick=False):
        assert services.school_years_prepare_due() == 0
    assert SchoolYear.objects.filter(school=school).count() == 2


@pytest.mark.django_db
def test_in_the_summer_a_school_without_years_gets_the_coming_one(school, office):
    with time_machine.travel(ams(2027, 7, 20, 10), tick=False):
        assert services.school_years_prepare_due() == 1
    assert list(SchoolYear.objects.values_list("name", flat=True)) == ["2027/2028"]


@pytest.mark.django_db
def test_a_year_the_national_calendar_does_not_know_is_asked_of_the_office_once(school, office, director):
    SchoolYear.objects.create(
        school=school, name="2029/2030", starts_on=dt.date(2029, 8, 20), ends_on=dt.date(2030, 7, 12)
    )
    with time_machine.travel(ams(2030, 3, 1, 9), tick=False):  # 2030/2031 is not published
        assert services.school_years_prepare_due() == 0
        assert services.school_years_prepare_due() == 0
    assert list(SchoolYear.objects.values_list("name", flat=True)) == ["2029/2030"]
    notes = notes_for(f"school-year-unknown:{school.pk}:2030")
    assert {n.user_id for n in notes} == {office.user_id, director.user_id}
    assert "2030/2031" in notes[0].title
    # Meanwhile the working time goes on with what is known: after the published summer of
    # 2030, the estimated year starts.
    cal = selectors.school_calendar(school)
    assert worktime.next_opening(cal, ams(2030, 7, 26, 10)) == ams(2030, 8, 26, 8)


@pytest.mark.django_db
def test_the_office_is_told_what_klimop_entered_for_good_friday_and_liberation_day(
    school, school_year, office
):
    school.closed_on_good_friday = False
    school.save(update_fields=["closed_on_good_friday"])
    with time_machine.travel(ams(2027, 3, 1, 9), tick=False):
        services.school_years_prepare_due()
    assert not NonSchoolDay.objects.filter(school=school, date=dt.date(2028, 4, 14)).exists()
    body = Notification.objects.get(user=office.user, cause__startswith="school-year-entered:").body
    assert "studiedagen" in body
    assert "Goede Vrijdag (vrijdag 14 april 2028): open" in body
    assert "Bevrijdingsdag (vrijdag 5 mei 2028): dicht: Meivakantie" in body


# --- Good Friday and Liberation Day: the school decides ------------------------------------------


@pytest.mark.django_db
def test_a_school_open_on_liberation_day_is_open_also_in_a_lustrum_year(school):
    school.closed_on_liberation_day = False
    school.save(update_fields=["closed_on_liberation_day"])
    services.school_year_create(actor=None, school=school, start_year=2024)
    # 5 May 2025 is a Monday after the May holiday, and a national holiday (every fifth year).
    assert not NonSchoolDay.objects.filter(school=school, date=dt.date(2025, 5, 5)).exists()


@pytest.mark.django_db
def test_by_default_good_friday_and_liberation_day_are_entered_as_closed(school):
    services.school_year_create(actor=None, school=school, start_year=2026)
    days = {d.date: d for d in NonSchoolDay.objects.filter(school=school)}
    assert days[dt.date(2027, 3, 26)].name == national_calendar.GOOD_FRIDAY
    assert days[dt.date(2027, 5, 5)].name == national_calendar.LIBERATION_DAY
    assert days[dt.date(2027, 5, 5)].kind == NonSchoolDay.Kind.PUBLIC_HOLIDAY


@pytest.mark.django_db
def test_the_office_sees_the_national_days_and_the_default_on_the_school_year_page(client, school, office):
    year = services.school_year_create(actor=None, school=school, start_year=2026)
    NonSchoolDay.objects.filter(school=school, date=dt.date(2027, 3, 26)).delete()  # open on Good Friday
    client.force_login(office.user)
    page = client.get(reverse("admin:klimop_schoolyear_change", args=[year.pk])).content.decode()
    assert "Nationale dagen waarover de school beslist" in page
    assert "Goede Vrijdag (vrijdag 26 maart 2027): open" in page
    assert "Bevrijdingsdag (woensdag 5 mei 2027): dicht" in page
    school_page = client.get(reverse("admin:klimop_school_change", args=[school.pk])).content.decode()
    assert "Elk jaar dicht op Goede Vrijdag" in school_page
    assert "Standaard: dicht, zoals op de meeste scholen." in school_page
