"""Absences at the edges of the calendar (issue 11, "The agreements hold at every edge of the
calendar"): a sickness spell made of several reports, leave that crosses into the next school
year, and the office-hours rule for what staff send — across weekends, the autumn and Christmas
holidays, the nights the clocks change and the summer between two school years.

Dates: school year 2026/2027 runs from Monday 31 August 2026 to Friday 16 July 2027 (conftest);
the next one, where a test enters it, from Monday 30 August 2027 (region midden). The clocks go
back in the night to Sunday 25 October 2026 (inside the autumn holiday) and forward in the night
to Sunday 28 March 2027. The teacher of 5a works Monday to Wednesday, the duo Thursday and
Friday; the director and the office every weekday, 08:00–16:30. Every moment is frozen.
"""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from absences import selectors, services
from absences.models import AbsenceReport, FollowUp, LeaveRequest
from klimop.models import NonSchoolDay
from klimop.notifications.models import Notification
from klimop.worktime import AMSTERDAM

Kind = AbsenceReport.Kind
Channel = AbsenceReport.Channel
UTC = dt.UTC

MONDAY = dt.date(2026, 11, 23)
TUESDAY = dt.date(2026, 11, 24)
WEDNESDAY = dt.date(2026, 11, 25)
THURSDAY = dt.date(2026, 11, 26)
FRIDAY = dt.date(2026, 11, 27)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=AMSTERDAM)


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.fixture(autouse=True)
def _english():
    """Service messages are asserted in English (their source); pages in Dutch, as users see them."""
    with translation.override("en"):
        yield


@pytest.fixture
def cast(teacher, duo_teacher, other_teacher, director, office, parent, divorced_parent, child):
    return None


def holiday(school, first, last, name, kind=NonSchoolDay.Kind.SCHOOL_HOLIDAY):
    for day in days(first, last):
        if day.weekday() < 5:
            NonSchoolDay.objects.create(school=school, date=day, kind=kind, name=name)


@pytest.fixture
def autumn(school):
    """Herfstvakantie midden 2026: Monday 19 to Friday 23 October; the clocks go back on the Sunday after."""
    holiday(school, dt.date(2026, 10, 19), dt.date(2026, 10, 23), "Herfstvakantie")


@pytest.fixture
def christmas(school):
    """Kerstvakantie 2026: Monday 21 December to Friday 1 January."""
    holiday(school, dt.date(2026, 12, 21), dt.date(2027, 1, 1), "Kerstvakantie")


def sick_on(parent, child, day, *, recovered=False):
    """The parent reports the child sick before school on ``day``: for that day only, or (with
    ``recovered``) until further notice and "better" again that evening."""
    with time_machine.travel(at(day, 7, 45), tick=False):
        if not recovered:
            return services.absence_reports_create(
                actor=parent.user, pupils=[child], kind=Kind.SICK, starts_on=day, ends_on=day
            )[0]
        [made] = services.absence_reports_create(
            actor=parent.user, pupils=[child], kind=Kind.SICK, starts_on=day
        )
    with time_machine.travel(at(day, 19, 30), tick=False):
        return services.absence_report_recover(
            actor=parent.user, report=made, back_on=day + dt.timedelta(days=1)
        )


def sweep(moment: dt.datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return services.follow_ups_create_due()


def follow_up_notes(task):
    return {n.user_id: n for n in Notification.objects.filter(cause=f"absence-follow-up:{task.pk}")}


# --- A. a sickness spell made of several reports ----------------------------------------------------


class TestSpellOfSeveralReports:
    @pytest.mark.parametrize("recovered", [False, True], ids=["day-by-day", "better-each-evening"])
    def test_three_reports_on_three_school_days_are_one_spell_followed_up_on_the_third(
        self, cast, parent, child, teacher, duo_teacher, recovered
    ):
        for day in (MONDAY, TUESDAY):
            sick_on(parent, child, day, recovered=recovered)
            assert sweep(at(day, 12)) == 0
        sick_on(parent, child, WEDNESDAY, recovered=recovered)
        assert sweep(at(WEDNESDAY, 7, 59)) == 0
        assert sweep(at(WEDNESDAY, 8, 0)) == 1
        task = FollowUp.objects.get()
        assert (task.pupil, task.due_on) == (child, WEDNESDAY)
        notes = follow_up_notes(task)
        assert notes[teacher.user_id].deliver_at == at(WEDNESDAY, 8, 0)
        assert notes[duo_teacher.user_id].deliver_at == at(THURSDAY, 8, 0)  # the duo's next working day
        with translation.override("nl"):
            assert notes[teacher.user_id].title == "Noor is al 3 schooldagen ziek"
        assert "maandag 23 november" in notes[teacher.user_id].body  # sick since the spell's first day

    def test_the_task_comes_once_per_spell_when_swept_again_or_when_a_new_report_extends_it(
        self, cast, parent, child, teacher, duo_teacher
    ):
        for day in (MONDAY, TUESDAY, WEDNESDAY):
            sick_on(parent, child, day)
        assert sweep(at(WEDNESDAY, 8, 0)) == 1
        assert sweep(at(WEDNESDAY, 8, 5)) == 0
        for day in (THURSDAY, FRIDAY):  # still sick: the same spell goes on
            sick_on(parent, child, day)
            assert sweep(at(day, 9)) == 0
        assert FollowUp.objects.count() == 1
        # The teacher and the duo, once each.
        assert Notification.objects.filter(cause__startswith="absence-follow-up:").count() == 2

    def test_a_day_recorded_afterwards_before_the_spell_makes_no_second_task(
        self, cast, parent, child, teacher
    ):
        for day in (TUESDAY, WEDNESDAY, THURSDAY):
            sick_on(parent, child, day)
        assert sweep(at(THURSDAY, 8, 0)) == 1
        # On Thursday the teacher records that Noor was already sick on Monday (the father phoned).
        with time_machine.travel(at(THURSDAY, 10), tick=False):
            services.absence_reports_create(
                actor=teacher.user,
                pupils=[child],
                kind=Kind.SICK,
                starts_on=MONDAY,
                ends_on=MONDAY,
                channel=Channel.PHONE,
            )
        assert sweep(at(THURSDAY, 10, 5)) == 0
        assert FollowUp.objects.count() == 1

    def test_a_school_day_at_school_breaks_the_spell(self, cast, parent, child):
        sick_on(parent, child, MONDAY)  # Tuesday at school
        for day in (WEDNESDAY, THURSDAY):
            sick_on(parent, child, day)
            assert sweep(at(day, 12)) == 0
        sick_on(parent, child, FRIDAY)
        assert sweep(at(FRIDAY, 8, 0)) == 1
        assert FollowUp.objects.get().due_on == FRIDAY

    def test_a_weekend_neither_counts_nor_breaks_the_spell(self, cast, parent, child):
        for day in (THURSDAY, FRIDAY):
            sick_on(parent, child, day)
        assert sweep(at(dt.date(2026, 11, 29), 12)) == 0  # Sunday
        sick_on(parent, child, dt.date(2026, 11, 30))
        assert sweep(at(dt.date(2026, 11, 30), 8, 0)) == 1
        assert FollowUp.objects.get().due_on == dt.date(2026, 11, 30)

    def test_across_the_autumn_holiday_and_the_night_the_clocks_go_back(
        self, cast, autumn, parent, child, teacher
    ):
        for day in (dt.date(2026, 10, 15), dt.date(2026, 10, 16)):  # Thursday, Friday
            sick_on(parent, child, day)
        monday = dt.date(2026, 10, 26)  # after the holiday week and the night of 25 October
        sick_on(parent, child, monday)
        assert sweep(at(monday, 7, 59)) == 0
        assert sweep(dt.datetime(2026, 10, 26, 7, 0, tzinfo=UTC)) == 1  # 08:00 winter time
        task = FollowUp.objects.get()
        assert task.due_on == monday
        assert follow_up_notes(task)[teacher.user_id].deliver_at == at(monday, 8, 0)

    def test_across_the_christmas_holiday(self, cast, christmas, parent, child):
        for day in (dt.date(2026, 12, 17), dt.date(2026, 12, 18)):
            sick_on(parent, child, day)
        assert sweep(at(dt.date(2026, 12, 28), 10)) == 0  # in the holiday: no third school day yet
        sick_on(parent, child, dt.date(2027, 1, 4))
        assert sweep(at(dt.date(2027, 1, 4), 8, 0)) == 1
        assert FollowUp.objects.get().due_on == dt.date(2027, 1, 4)

    def test_on_the_monday_after_the_clocks_go_forward(self, cast, parent, child, teacher):
        for day in (dt.date(2027, 3, 25), dt.date(2027, 3, 26)):  # Thursday, Friday
            sick_on(parent, child, day)
        monday = dt.date(2027, 3, 29)
        sick_on(parent, child, monday)
        assert sweep(dt.datetime(2027, 3, 29, 5, 59, tzinfo=UTC)) == 0  # 07:59 summer time
        assert sweep(dt.datetime(2027, 3, 29, 6, 0, tzinfo=UTC)) == 1  # 08:00 summer time
        assert follow_up_notes(FollowUp.objects.get())[teacher.user_id].deliver_at == at(monday, 8, 0)

    def test_the_summer_between_two_school_years_does_not_break_the_spell(
        self, cast, school, parent, child, teacher
    ):
        from tests import factories as f

        f.SchoolYearFactory(
            school=school, name="2027/2028", starts_on=dt.date(2027, 8, 30), ends_on=dt.date(2028, 7, 7)
        )
        for day in (dt.date(2027, 7, 15), dt.date(2027, 7, 16)):  # the last Thursday and Friday
            sick_on(parent, child, day)
        assert sweep(at(dt.date(2027, 8, 2), 10)) == 0  # the summer holiday
        first_day = dt.date(2027, 8, 30)
        sick_on(parent, child, first_day)
        assert sweep(at(first_day, 8, 0)) == 1
        assert FollowUp.objects.get().due_on == first_day

    def test_the_teachers_list_shows_the_spell_its_school_day_and_its_follow_up(
        self, cast, client, parent, child, teacher
    ):
        for day in (MONDAY, TUESDAY, WEDNESDAY):
            sick_on(parent, child, day, recovered=day != WEDNESDAY)
        sweep(at(WEDNESDAY, 8, 0))
        with time_machine.travel(at(WEDNESDAY, 8, 30), tick=False):
            [row] = selectors.absences_on(viewer=teacher.user, day=WEDNESDAY)
            assert (row.since, row.school_day, row.follow_up) == (MONDAY, 3, FollowUp.objects.get())
            client.force_login(teacher.user)
            with translation.override("nl"):
                page = client.get(reverse("absences:today"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert "sinds ma 23 nov · schooldag 3" in page
        assert "Opvolgen: neem contact op met de ouders" in page


class TestRegisterBySpell:
    @pytest.fixture
    def day_by_day(self, cast, autumn, office, child):
        """Sick from Thursday 15 October to Thursday 19 November, the days recorded one by one by
        the office (the father phoned every morning): 21 school days, the holiday week between."""
        sick_days = [
            day
            for day in days(dt.date(2026, 10, 15), dt.date(2026, 11, 19))
            if day.weekday() < 5 and not dt.date(2026, 10, 19) <= day <= dt.date(2026, 10, 23)
        ]
        with time_machine.travel(at(dt.date(2026, 11, 19), 15), tick=False):
            for day in sick_days:
                services.absence_reports_create(
                    actor=office.user,
                    pupils=[child],
                    kind=Kind.SICK,
                    starts_on=day,
                    ends_on=day,
                    channel=Channel.PHONE,
                )
        return sick_days

    def test_the_office_sees_the_spell_on_the_register_page(self, day_by_day, client, office):
        with time_machine.travel(at(dt.date(2026, 11, 20), 10), tick=False):
            client.force_login(office.user)
            page = client.get(reverse("absences:register")).content.decode()
        assert "15 oktober 2026 – 19 november 2026" in page

    def test_a_long_absence_made_of_daily_reports_is_one_spell_in_the_register(
        self, day_by_day, office, child, school_year
    ):
        assert len(day_by_day) == 21
        _over, long_rows = selectors.school_register(
            viewer=office.user, school_year=school_year, today=dt.date(2026, 11, 20)
        )
        [row] = long_rows
        assert (row.pupil, row.school_days, row.report.starts_on, row.report.ends_on) == (
            child,
            21,
            dt.date(2026, 10, 15),
            dt.date(2026, 11, 19),
        )
        data = selectors.pupil_register(pupil=child, school_year=school_year, today=dt.date(2026, 11, 20))
        assert (data.sick_spells, data.sick_days, data.long_absence) == (1, 21, True)


# --- B. leave that reaches into the next school year -------------------------------------------------

MAY = dt.datetime(2027, 5, 3, 10, 0, tzinfo=AMSTERDAM)  # a Monday, more than 8 weeks before July
NEXT_YEAR_FIRST_DAY = dt.date(2027, 8, 30)  # national calendar, region midden


@pytest.fixture
def next_year(school):
    from tests import factories as f

    return f.SchoolYearFactory(
        school=school, name="2027/2028", starts_on=NEXT_YEAR_FIRST_DAY, ends_on=dt.date(2028, 7, 7)
    )


def pdf_statement():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return services.leave_statement_process(
        SimpleUploadedFile("verklaring.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    )


def request_leave(parent, child, first, last, kind=LeaveRequest.Kind.EXTRA_VACATION, **kwargs):
    kwargs.setdefault("reason", "Vader werkt in de horeca; in de zomer geen vrij.")
    if kind == LeaveRequest.Kind.EXTRA_VACATION:
        kwargs.setdefault("statement", pdf_statement())
    with time_machine.travel(MAY, tick=False):
        return services.leave_request_create(
            actor=parent.user, pupils=[child], kind=kind, starts_on=first, ends_on=last, **kwargs
        )


def refusal(parent, child, first, last, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        request_leave(parent, child, first, last, **kwargs)
    assert not LeaveRequest.objects.filter(starts_on=first, ends_on=last).exists()
    return exc.value.messages


FIRST_WEEKS_2027 = (
    "Extra vacation leave (art. 13a) is not allowed in the first two school weeks of the school year: "
    "in 2027/2028 from 30 August 2027 to 10 September 2027."
)


class TestLeaveAcrossTheSchoolYearBoundary:
    @pytest.mark.parametrize("entered", [True, False], ids=["next-year-entered", "national-calendar"])
    def test_leave_from_july_across_the_summer_is_checked_against_the_next_years_first_two_weeks(
        self, cast, request, parent, child, entered
    ):
        if entered:
            request.getfixturevalue("next_year")
        # The last week of 2026/2027 and the first of 2027/2028: ten school days.
        messages = refusal(parent, child, dt.date(2027, 7, 12), dt.date(2027, 9, 3))
        assert messages == [FIRST_WEEKS_2027]

    def test_leave_from_late_august_across_the_first_school_day_is_refused(
        self, cast, next_year, parent, child
    ):
        messages = refusal(parent, child, dt.date(2027, 8, 23), dt.date(2027, 9, 3))
        assert messages == [FIRST_WEEKS_2027]

    def test_the_forms_live_check_names_the_next_years_first_weeks_in_dutch(
        self, cast, client, parent, child
    ):
        with time_machine.travel(MAY, tick=False):  # the parent's language: Dutch, the default
            client.force_login(parent.user)
            answer = client.get(
                reverse("absences:leave_check"),
                {
                    "pupils": child.pk,
                    "kind": LeaveRequest.Kind.EXTRA_VACATION,
                    "starts_on": "2027-07-12",
                    "ends_on": "2027-09-03",
                    "statement": "1",
                },
            ).json()
        assert (answer["school_days"], answer["errors"]) == (
            10,
            [
                "Extra vakantieverlof (art. 13a) is niet toegestaan in de eerste twee schoolweken van het "
                "schooljaar: in 2027/2028 van 30 augustus 2027 tot en met 10 september 2027."
            ],
        )

    def test_leave_from_late_august_in_a_year_not_entered_yet_waits_for_the_school(self, cast, parent, child):
        """Its first school day lies in a year the school has not entered: "please apply later"."""
        messages = refusal(parent, child, dt.date(2027, 8, 23), dt.date(2027, 9, 24))
        assert "The school has no school year for these dates yet; please apply later." in messages

    def test_leave_in_the_third_week_of_the_next_year_is_allowed(self, cast, next_year, parent, child):
        leave = request_leave(parent, child, dt.date(2027, 9, 13), dt.date(2027, 9, 17))
        assert (leave.school_year, leave.school_days, leave.warnings) == (next_year, 5, [])

    def test_a_period_in_the_summer_holiday_needs_no_leave(self, cast, parent, child):
        messages = refusal(
            parent, child, dt.date(2027, 7, 19), dt.date(2027, 8, 27), kind=LeaveRequest.Kind.OTHER
        )
        assert messages == ["There are no school days in this period, so no leave is needed."]

    @pytest.mark.parametrize("entered", [True, False], ids=["next-year-entered", "national-calendar"])
    @pytest.mark.parametrize(
        ("last", "school_days", "for_officer"),
        [(dt.date(2027, 9, 3), 10, False), (dt.date(2027, 9, 6), 11, True)],
    )
    def test_school_days_after_the_summer_count_towards_the_attendance_officers_threshold(
        self, cast, request, parent, child, entered, last, school_days, for_officer
    ):
        if entered:
            request.getfixturevalue("next_year")
        leave = request_leave(
            parent, child, dt.date(2027, 7, 12), last, kind=LeaveRequest.Kind.IMPORTANT, reason="Begrafenis"
        )
        assert (leave.school_days, leave.for_attendance_officer) == (school_days, for_officer)
        assert leave.school_year.name == "2026/2027"  # filed under the year it starts in

    def test_past_what_the_national_calendar_knows_the_request_waits(self, cast, school, parent, child):
        """School year 2029/2030 is entered; the national calendar does not know 2030/2031 yet."""
        from tests import factories as f

        f.SchoolYearFactory(
            school=school, name="2029/2030", starts_on=dt.date(2029, 8, 20), ends_on=dt.date(2030, 7, 12)
        )
        april = dt.datetime(2030, 4, 1, 10, tzinfo=AMSTERDAM)
        with time_machine.travel(april, tick=False), pytest.raises(ValidationError) as exc:
            services.leave_request_create(
                actor=parent.user,
                pupils=[child],
                kind=LeaveRequest.Kind.IMPORTANT,
                starts_on=dt.date(2030, 7, 8),
                ends_on=dt.date(2030, 9, 6),
                reason="Emigratie van opa",
            )
        assert exc.value.messages == [
            "The school has no school year for these dates yet; please apply later."
        ]


class TestOncePerSchoolYearAcrossTheBoundary:
    @pytest.fixture
    def across(self, cast, next_year, parent, child, school, school_year):
        """Art. 13a leave across the summer, accepted before this rule (or forwarded in error):
        it has school days in both years."""
        leave = LeaveRequest.objects.create(
            school=school,
            school_year=school_year,
            guardian=parent,
            requested_by=parent.user,
            kind=LeaveRequest.Kind.EXTRA_VACATION,
            starts_on=dt.date(2027, 7, 12),
            ends_on=dt.date(2027, 9, 3),
            school_days=10,
            reason="Seizoenswerk",
            submitted_at=MAY - dt.timedelta(days=30),
        )
        leave.pupils.set([child])
        return leave

    @pytest.mark.parametrize(
        ("first", "last", "year"),
        [
            (dt.date(2027, 6, 14), dt.date(2027, 6, 18), "2026/2027"),
            (dt.date(2028, 2, 7), dt.date(2028, 2, 11), "2027/2028"),
        ],
    )
    def test_a_request_in_two_school_years_counts_in_each(self, across, parent, child, first, last, year):
        messages = refusal(parent, child, first, last)
        assert messages == [
            "Extra vacation leave (art. 13a) is possible only once per school year, and Noor already "
            f"has it in school year {year}."
        ]

    def test_the_register_of_each_year_counts_its_own_school_days(
        self, across, director, child, school_year, next_year
    ):
        with time_machine.travel(MAY, tick=False):
            services.leave_decide(
                actor=director.user,
                leave_request=across,
                decision=LeaveRequest.Status.GRANTED,
                reasons="Akkoord",
            )
        this_year = selectors.pupil_register(pupil=child, school_year=school_year, today=dt.date(2027, 9, 10))
        following = selectors.pupil_register(pupil=child, school_year=next_year, today=dt.date(2027, 9, 10))
        assert (this_year.leaves, this_year.leave_days) == ([across], 5)
        assert (following.leaves, following.leave_days) == ([across], 5)

    def test_the_director_sees_the_request_across_the_summer_beside_one_in_the_next_year(
        self, across, parent, child
    ):
        later = request_leave(
            parent, child, dt.date(2028, 2, 7), dt.date(2028, 2, 8), kind=LeaveRequest.Kind.IMPORTANT
        )
        assert later.school_year.name == "2027/2028"
        assert selectors.family_requests_this_year(later) == [across]


# --- C. what staff send follows the sender's office hours ---------------------------------------------


def emails_to(user) -> list:
    from django.core import mail

    return [m for m in mail.outbox if m.to == [user.email]]


def send_due_emails(moment: dt.datetime) -> None:
    from klimop.notifications.services import send_due_emails as sweep_emails

    with time_machine.travel(moment, tick=False):
        sweep_emails()


class TestLeaveDecisionInOfficeHours:
    @pytest.fixture
    def leave(self, cast, parent, child):
        with time_machine.travel(at(dt.date(2026, 9, 1), 10), tick=False):
            return services.leave_request_create(
                actor=parent.user,
                pupils=[child],
                kind=LeaveRequest.Kind.IMPORTANT,
                starts_on=dt.date(2027, 2, 1),
                ends_on=dt.date(2027, 2, 2),
                reason="Bruiloft van een oom",
            )

    def decide(self, director, leave, moment):
        with time_machine.travel(moment, tick=False):
            return services.leave_decide(
                actor=director.user,
                leave_request=leave,
                decision=LeaveRequest.Status.GRANTED,
                reasons="Akkoord.",
            )

    def test_a_decision_on_saturday_evening_reaches_the_family_on_monday_at_the_opening(
        self, client, leave, director, parent
    ):
        saturday, monday = dt.date(2026, 11, 21), MONDAY
        self.decide(director, leave, at(saturday, 21, 30))
        note = Notification.objects.get(user=parent.user, cause=f"leave-decision:{leave.pk}")
        assert note.deliver_at == at(monday, 8, 0)
        send_due_emails(at(saturday, 21, 31))
        assert emails_to(parent.user) == []
        with time_machine.travel(at(dt.date(2026, 11, 22), 12), tick=False):  # Sunday
            client.force_login(parent.user)
            page = client.get(reverse("absences:leave_detail", args=[leave.pk])).content.decode()
            assert "Wacht op het besluit van de directeur" in page
            assert "Akkoord." not in page
            # Not withdrawable any more (it is decided), and the family learns when it shows.
            assert "Deze aanvraag intrekken" not in page
            assert "U kunt het besluit hier lezen vanaf maandag 23 november, 08:00." in page
            assert client.get(reverse("absences:leave_print", args=[leave.pk])).status_code == 404
            assert [r.status for r in selectors.leave_requests_for_family(viewer=parent.user)] == [
                "submitted"
            ]
        send_due_emails(at(monday, 8, 0))
        assert len(emails_to(parent.user)) == 1
        with time_machine.travel(at(monday, 8, 0), tick=False):
            page = client.get(reverse("absences:leave_detail", args=[leave.pk])).content.decode()
            assert "Toegekend" in page
            assert "Akkoord." in page
            assert client.get(reverse("absences:leave_print", args=[leave.pk])).status_code == 200

    def test_the_director_sees_the_decision_at_once(self, leave, director):
        self.decide(director, leave, at(dt.date(2026, 11, 21), 21, 30))
        seen = selectors.leave_request_get_for(viewer=director.user, pk=leave.pk)
        assert (seen.status, seen.decision_reasons) == (LeaveRequest.Status.GRANTED, "Akkoord.")

    def test_a_decision_in_working_time_reaches_the_family_at_once(self, leave, director, parent):
        decided = self.decide(director, leave, at(TUESDAY, 10, 15))
        assert decided.announced_at == at(TUESDAY, 10, 15)
        assert Notification.objects.get(user=parent.user).deliver_at == at(TUESDAY, 10, 15)

    def test_decided_before_the_autumn_holiday_it_arrives_after_it_in_winter_time(
        self, autumn, leave, director, parent
    ):
        decided = self.decide(director, leave, at(dt.date(2026, 10, 16), 17, 0))  # Friday after closing
        assert decided.announced_at == dt.datetime(2026, 10, 26, 7, 0, tzinfo=UTC)  # Monday 08:00 CET
        assert Notification.objects.get(user=parent.user).deliver_at == at(dt.date(2026, 10, 26), 8, 0)

    def test_decided_in_the_night_the_clocks_go_forward_it_arrives_on_monday_in_summer_time(
        self, leave, director, parent
    ):
        decided = self.decide(director, leave, dt.datetime(2027, 3, 28, 1, 30, tzinfo=UTC))  # 03:30 CEST
        assert decided.announced_at == dt.datetime(2027, 3, 29, 6, 0, tzinfo=UTC)  # Monday 08:00 CEST

    def test_the_admin_tells_the_director_when_the_parent_will_see_it(self, client, leave, director):
        saturday = at(dt.date(2026, 11, 21), 21, 30)
        with time_machine.travel(saturday, tick=False):
            client.force_login(director.user)
            page = client.post(
                reverse("admin:absences_leaverequest_change", args=[leave.pk]),
                {"decision": LeaveRequest.Status.GRANTED, "reasons": "Akkoord."},
                follow=True,
            ).content.decode()
        assert "De ouder ziet het vanaf maandag 23 november, 08:00." in page


class TestUnexplainedNoticeInOfficeHours:
    def mark(self, staff, child, moment, day=None):
        with time_machine.travel(moment, tick=False):
            [made] = services.absence_reports_create(
                actor=staff.user,
                pupils=[child],
                kind=Kind.UNEXPLAINED,
                starts_on=day or moment.date(),
                channel=Channel.SCHOOL,
            )
        return made

    def notices(self, made):
        return {
            n.user_id: n.deliver_at
            for n in Notification.objects.filter(cause=f"absence-unexplained:{made.pk}")
        }

    def test_a_mark_in_working_time_is_sent_at_once(self, cast, teacher, parent, divorced_parent, child):
        made = self.mark(teacher, child, at(TUESDAY, 9, 10))
        assert self.notices(made) == {
            parent.user_id: at(TUESDAY, 9, 10),
            divorced_parent.user_id: at(TUESDAY, 9, 10),
        }

    def test_a_mark_recorded_in_the_evening_waits_for_the_senders_next_working_day(
        self, cast, teacher, parent, child
    ):
        """The teacher works Monday to Wednesday: on Wednesday evening, the next working day is Monday."""
        made = self.mark(teacher, child, at(WEDNESDAY, 19, 0))
        assert self.notices(made)[parent.user_id] == at(dt.date(2026, 11, 30), 8, 0)

    def test_a_mark_recorded_before_the_christmas_holiday_waits_until_after_it(
        self, cast, christmas, office, parent, child
    ):
        made = self.mark(office, child, at(dt.date(2026, 12, 18), 17, 0))
        assert self.notices(made)[parent.user_id] == at(dt.date(2027, 1, 4), 8, 0)


class TestFollowUpInEachTeachersWorkingTime:
    def test_due_on_the_friday_before_the_autumn_holiday_the_teacher_hears_after_it(
        self, cast, autumn, parent, child, teacher, duo_teacher
    ):
        """Due on Friday 16 October (the duo's day); the teacher works Monday to Wednesday and hears
        of it on Monday 26 October, after the holiday week and the night the clocks go back."""
        for day in (dt.date(2026, 10, 14), dt.date(2026, 10, 15), dt.date(2026, 10, 16)):
            sick_on(parent, child, day)
        assert sweep(at(dt.date(2026, 10, 16), 8, 0)) == 1
        notes = follow_up_notes(FollowUp.objects.get())
        assert notes[duo_teacher.user_id].deliver_at == at(dt.date(2026, 10, 16), 8, 0)
        assert notes[teacher.user_id].deliver_at == dt.datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
