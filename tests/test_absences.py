"""Absences: sick reports, recovery, appointments, late arrival, staff records, unexplained absence,
the teacher's list, the sickness follow-up, and the register (16 hours in four school weeks).

Dates: school year 2026/2027 (conftest). The teacher of 5a works Monday to Wednesday, the duo
Thursday and Friday. The cutoff is 08:20, lessons start at 08:30 (defaults).
"""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation

from absences import selectors, services, statutory
from absences.models import AbsenceReport, AbsenceSettings, FollowUp, LeaveRequest
from klimop import selectors as directory
from klimop.models import NonSchoolDay
from klimop.notifications.models import Notification
from klimop.worktime import AMSTERDAM
from tests import factories as f

Kind = AbsenceReport.Kind
Channel = AbsenceReport.Channel

TUESDAY = dt.date(2026, 11, 24)
WEDNESDAY = dt.date(2026, 11, 25)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=AMSTERDAM)


@pytest.fixture(autouse=True)
def _english():
    """Service messages are asserted in English (their source); pages in Dutch, as users see them."""
    with translation.override("en"):
        yield


@pytest.fixture
def cast(
    teacher,
    duo_teacher,
    other_teacher,
    director,
    office,
    parent,
    divorced_parent,
    step_parent,
    info_parent,
    barred_parent,
    child,
    barred_child,
):
    return None


@pytest.fixture
def sibling(parent, other_group):
    """Noor's brother in group 6b: the parent reports both in one form."""
    pupil = f.PupilFactory(group=other_group, first_name="Ties", last_name="Testkind")
    f.GuardianRelationFactory(pupil=pupil, guardian=parent)
    return pupil


def report(actor, pupils, kind=Kind.SICK, *, starts_on=TUESDAY, **kwargs):
    if not isinstance(pupils, list | tuple):
        pupils = [pupils]
    return services.absence_reports_create(
        actor=actor.user, pupils=pupils, kind=kind, starts_on=starts_on, **kwargs
    )


def holiday(
    school, first: dt.date, last: dt.date, name="Herfstvakantie", kind=NonSchoolDay.Kind.SCHOOL_HOLIDAY
):
    day = first
    while day <= last:
        if day.weekday() < 5:
            NonSchoolDay.objects.create(school=school, date=day, kind=kind, name=name)
        day += dt.timedelta(days=1)


# --- reporting ------------------------------------------------------------------------------------


class TestReporting:
    def test_a_parent_reports_two_children_sick_in_one_form(self, cast, parent, child, sibling):
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            reports = report(parent, [child, sibling], note="Koorts sinds vannacht")
        assert {r.pupil for r in reports} == {child, sibling}
        assert all(r.kind == Kind.SICK and r.ends_on is None and not r.reported_late for r in reports)
        assert all(r.channel == Channel.PORTAL and r.reported_by == parent.user for r in reports)
        assert reports[0].events.get().action == "created"

    @pytest.mark.parametrize(("minute", "late"), [(19, False), (20, True), (21, True)])
    def test_a_report_before_the_cutoff_is_on_time_and_from_the_cutoff_late(
        self, cast, parent, child, minute, late
    ):
        """ "Before 08:20": 08:19 is on time, 08:20 is late (issue 11, one definition)."""
        with time_machine.travel(at(TUESDAY, 8, minute), tick=False):
            [made] = report(parent, child)
        assert made.reported_late is late

    def test_after_lessons_started_a_report_is_late_even_before_a_later_cutoff(
        self, cast, school, parent, child
    ):
        school.sick_report_cutoff = dt.time(8, 45)
        school.save()
        with time_machine.travel(at(TUESDAY, 8, 35), tick=False):
            [made] = report(parent, child)
        assert made.reported_late

    def test_a_report_the_evening_before_is_on_time(self, cast, parent, child):
        with time_machine.travel(at(TUESDAY, 21, 0), tick=False):
            [made] = report(parent, child, starts_on=WEDNESDAY)
        assert not made.reported_late

    def test_a_double_submit_makes_no_second_report(self, cast, parent, child, sibling):
        key = "0b6f0b52-8e1b-4b53-9a76-6f1c2a9b0c11"
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            first = report(parent, [child, sibling], submission=key)
            again = report(parent, [child, sibling], submission=key)
        assert {r.pk for r in again} == {r.pk for r in first}
        assert AbsenceReport.objects.count() == 2

    def test_the_other_parent_reporting_the_same_child_is_told_it_is_already_reported(
        self, cast, parent, divorced_parent, child
    ):
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            report(parent, child)
            with pytest.raises(ValidationError) as exc:
                report(divorced_parent, child)
        assert "Noor: already reported sick from" in exc.value.messages[0]
        assert AbsenceReport.objects.count() == 1

    def test_the_database_allows_only_one_open_sickness_per_pupil(self, cast, parent, child):
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            [made] = report(parent, child)
        made.pk, made.submission = None, "9d2b5c2e-0000-4000-8000-000000000001"
        with pytest.raises(IntegrityError), transaction.atomic():
            made.save()

    @pytest.mark.parametrize("who", ["step_parent", "info_parent", "barred_parent", "other_teacher"])
    def test_a_report_for_a_child_one_may_not_act_for_is_not_found(self, cast, request, who, child):
        actor = request.getfixturevalue(who)
        channel = Channel.PHONE if who == "other_teacher" else Channel.PORTAL
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False), pytest.raises(Http404):
            report(actor, child, channel=channel)
        assert not AbsenceReport.objects.exists()

    def test_a_report_on_a_holiday_is_refused_with_the_holidays_name(self, cast, school, parent, child):
        holiday(school, dt.date(2026, 12, 21), dt.date(2027, 1, 1), name="Kerstvakantie")
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False), pytest.raises(ValidationError) as exc:
            report(parent, child, starts_on=dt.date(2026, 12, 22))
        assert exc.value.message_dict["starts_on"] == [
            "Tuesday 22 December is not a school day (Kerstvakantie)."
        ]

    def test_a_report_on_a_saturday_is_refused(self, cast, parent, child):
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False), pytest.raises(ValidationError) as exc:
            report(parent, child, starts_on=dt.date(2026, 11, 28))
        assert "is not a school day" in exc.value.message_dict["starts_on"][0]

    def test_parents_report_from_today_on_staff_may_record_an_earlier_day(self, cast, parent, teacher, child):
        with time_machine.travel(at(TUESDAY, 9, 0), tick=False):
            with pytest.raises(ValidationError) as exc:
                report(parent, child, starts_on=TUESDAY - dt.timedelta(days=1))
            assert "from today on" in exc.value.message_dict["starts_on"][0]
            [made] = report(teacher, child, starts_on=TUESDAY - dt.timedelta(days=1), channel=Channel.PHONE)
        assert made.channel == Channel.PHONE
        assert made.reported_late

    def test_a_sickness_ending_before_it_starts_is_refused(self, cast, parent, child):
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False), pytest.raises(ValidationError) as exc:
            report(parent, child, starts_on=WEDNESDAY, ends_on=TUESDAY)
        assert exc.value.message_dict["ends_on"] == ["The last day cannot be before the first day."]

    def test_an_appointment_has_a_time_span_that_ends_after_it_starts(self, cast, parent, child):
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            with pytest.raises(ValidationError) as exc:
                report(
                    parent,
                    child,
                    Kind.APPOINTMENT,
                    starts_on=WEDNESDAY,
                    from_time=dt.time(11),
                    until_time=dt.time(10),
                )
            assert exc.value.message_dict["until_time"] == ["The end time must be after the start time."]
            [made] = report(
                parent,
                child,
                Kind.APPOINTMENT,
                starts_on=WEDNESDAY,
                from_time=dt.time(10),
                until_time=dt.time(11, 30),
                note="Tandarts",
            )
        assert (made.ends_on, made.hours) == (WEDNESDAY, Decimal("1.50"))

    def test_a_late_arrival_is_after_lessons_start(self, cast, parent, child):
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            with pytest.raises(ValidationError):
                report(parent, child, Kind.LATE, until_time=dt.time(8, 15))
            [made] = report(parent, child, Kind.LATE, until_time=dt.time(10, 0))
        assert made.hours == Decimal("1.50")

    def test_a_second_appointment_at_the_same_time_is_refused_but_a_later_one_is_fine(
        self, cast, parent, child
    ):
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            report(parent, child, Kind.APPOINTMENT, from_time=dt.time(10), until_time=dt.time(11))
            with pytest.raises(ValidationError):
                report(parent, child, Kind.APPOINTMENT, from_time=dt.time(10, 30), until_time=dt.time(12))
            report(parent, child, Kind.APPOINTMENT, from_time=dt.time(13), until_time=dt.time(14))
        assert AbsenceReport.objects.count() == 2

    def test_a_school_that_takes_reports_by_phone_says_so(self, cast, school, parent, child):
        AbsenceSettings.objects.create(school=school, sick_reports_via_portal=False)
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False), pytest.raises(ValidationError) as exc:
            report(parent, child)
        assert "010-0000000" in exc.value.messages[0]


class TestRecovery:
    def test_recovery_ends_the_spell_on_the_last_school_day_before_the_return(self, cast, parent, child):
        thursday, monday = dt.date(2026, 11, 19), dt.date(2026, 11, 23)
        with time_machine.travel(at(thursday, 7, 30), tick=False):
            [made] = report(parent, child, starts_on=thursday)
        with time_machine.travel(at(dt.date(2026, 11, 22), 19, 0), tick=False):
            services.absence_report_recover(actor=parent.user, report=made, back_on=monday)
        made.refresh_from_db()
        assert made.ends_on == dt.date(2026, 11, 20)
        assert made.recovered_by == parent.user

    def test_better_before_the_first_day_withdraws_the_report(self, cast, parent, child):
        with time_machine.travel(at(TUESDAY, 20, 0), tick=False):
            [made] = report(parent, child, starts_on=WEDNESDAY)
        with time_machine.travel(at(WEDNESDAY, 7, 0), tick=False):
            services.absence_report_recover(actor=parent.user, report=made, back_on=WEDNESDAY)
        made.refresh_from_db()
        assert made.cancelled_at is not None
        assert not made.counts

    def test_the_day_back_cannot_be_before_the_sickness_started(self, cast, parent, child):
        with time_machine.travel(at(TUESDAY, 7, 30), tick=False):
            [made] = report(parent, child, starts_on=WEDNESDAY)
            with pytest.raises(ValidationError):
                services.absence_report_recover(actor=parent.user, report=made, back_on=TUESDAY)

    def test_recovery_of_someone_elses_child_is_not_found(self, cast, parent, child, barred_parent):
        with time_machine.travel(at(TUESDAY, 7, 30), tick=False):
            [made] = report(parent, child)
            with pytest.raises(Http404):
                services.absence_report_recover(actor=barred_parent.user, report=made, back_on=WEDNESDAY)

    def test_after_recovery_the_child_can_be_reported_sick_again(self, cast, parent, child):
        with time_machine.travel(at(TUESDAY, 7, 30), tick=False):
            [made] = report(parent, child)
            services.absence_report_recover(actor=parent.user, report=made, back_on=WEDNESDAY)
        with time_machine.travel(at(dt.date(2026, 11, 26), 7, 30), tick=False):
            report(parent, child, starts_on=dt.date(2026, 11, 26))
        assert AbsenceReport.objects.count() == 2


class TestStaffRecords:
    def test_a_phone_report_after_the_cutoff_is_recorded_as_late(self, cast, teacher, child):
        with time_machine.travel(at(TUESDAY, 8, 40), tick=False):
            [made] = report(teacher, child, channel=Channel.PHONE, caller="moeder")
        assert (made.channel, made.caller, made.reported_late) == (Channel.PHONE, "moeder", True)

    def test_parents_cannot_mark_a_child_absent_without_a_report(self, cast, parent, child):
        with time_machine.travel(at(TUESDAY, 9, 0), tick=False), pytest.raises(PermissionDenied):
            report(parent, child, Kind.UNEXPLAINED)

    def test_unexplained_absence_notifies_the_acting_guardians_within_office_hours(
        self, cast, teacher, child, parent
    ):
        with time_machine.travel(at(TUESDAY, 16, 45), tick=False):
            [mark] = report(teacher, child, Kind.UNEXPLAINED, channel=Channel.SCHOOL)
        notes = Notification.objects.filter(cause=f"absence-unexplained:{mark.pk}")
        assert {n.user.email for n in notes} == {"parent@example.test", "divorced@example.test"}
        assert all(n.deliver_at == at(WEDNESDAY, 8, 0) for n in notes)
        assert notes[0].title == "Noor is niet op school"  # the parent's language
        assert mark.hours == Decimal("6.00")  # lessons 08:30–14:30

    def test_unexplained_absence_during_office_hours_is_delivered_at_once(self, cast, teacher, child):
        with time_machine.travel(at(TUESDAY, 9, 0), tick=False):
            [mark] = report(
                teacher,
                child,
                Kind.UNEXPLAINED,
                channel=Channel.SCHOOL,
                from_time=dt.time(8, 30),
                until_time=dt.time(10, 30),
            )
        assert mark.hours == Decimal("2.00")
        assert Notification.objects.filter(deliver_at=at(TUESDAY, 9, 0)).count() == 2

    def test_a_rolled_back_mark_notifies_nobody(self, cast, teacher, child):
        def mark_then_fail():
            with transaction.atomic():
                report(teacher, child, Kind.UNEXPLAINED, channel=Channel.SCHOOL)
                raise RuntimeError

        with time_machine.travel(at(TUESDAY, 9, 0), tick=False), pytest.raises(RuntimeError):
            mark_then_fail()
        assert not Notification.objects.exists()
        assert not mail.outbox

    def test_a_parents_later_report_explains_the_unexplained_absence(self, cast, teacher, parent, child):
        with time_machine.travel(at(TUESDAY, 9, 0), tick=False):
            [mark] = report(teacher, child, Kind.UNEXPLAINED, channel=Channel.SCHOOL)
            [sick] = report(parent, child)
        mark.refresh_from_db()
        assert mark.explained_by == sick
        assert not mark.counts
        assert sick.reported_late


# --- the teacher's list --------------------------------------------------------------------------


class TestTodaysList:
    def test_teachers_see_their_groups_and_the_office_the_whole_school(
        self, cast, parent, child, sibling, teacher, other_teacher, office
    ):
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            report(parent, [child, sibling])
        with time_machine.travel(at(TUESDAY, 8, 20), tick=False):
            mine = selectors.absences_on(viewer=teacher.user, day=TUESDAY)
            theirs = selectors.absences_on(viewer=other_teacher.user, day=TUESDAY)
            school = selectors.absences_on(viewer=office.user, day=TUESDAY)
        assert [r.pupil for r in mine] == [child]
        assert [r.pupil for r in theirs] == [sibling]
        assert {r.pupil for r in school} == {child, sibling}

    def test_parents_see_no_staff_list(self, cast, parent, child):
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            report(parent, child)
            assert selectors.absences_on(viewer=parent.user, day=TUESDAY) == []

    def test_a_sickness_shows_since_when_and_on_which_school_day(self, cast, school, parent, teacher, child):
        holiday(
            school,
            dt.date(2026, 11, 20),
            dt.date(2026, 11, 20),
            name="Studiedag",
            kind=NonSchoolDay.Kind.STUDY_DAY,
        )
        with time_machine.travel(at(dt.date(2026, 11, 19), 7, 50), tick=False):
            report(parent, child, starts_on=dt.date(2026, 11, 19))
        [row] = selectors.absences_on(viewer=teacher.user, day=TUESDAY)
        assert (row.since, row.school_day) == (dt.date(2026, 11, 19), 3)

    def test_withdrawn_and_explained_reports_do_not_show(self, cast, parent, teacher, child):
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            [made] = report(parent, child)
            services.absence_report_cancel(actor=parent.user, report=made)
        assert selectors.absences_on(viewer=teacher.user, day=TUESDAY) == []

    def test_granted_leave_shows_on_its_days_only(self, cast, parent, director, teacher, child):
        with time_machine.travel(at(dt.date(2026, 9, 1), 10), tick=False):
            leave = services.leave_request_create(
                actor=parent.user,
                pupils=[child],
                kind=LeaveRequest.Kind.IMPORTANT,
                starts_on=TUESDAY,
                ends_on=WEDNESDAY,
                reason="Bruiloft van een oom",
            )
            services.leave_decide(
                actor=director.user,
                leave_request=leave,
                decision=LeaveRequest.Status.GRANTED,
                reasons="Bruiloft: twee dagen.",
            )
        [row] = selectors.absences_on(viewer=teacher.user, day=WEDNESDAY)
        assert (row.kind, row.pupil, row.leave) == ("leave", child, leave)
        assert selectors.absences_on(viewer=teacher.user, day=dt.date(2026, 11, 26)) == []

    def test_the_list_page_and_its_print_page_show_the_absences_in_few_queries(
        self, cast, client, parent, child, sibling, office, django_assert_max_num_queries
    ):
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            report(parent, [child, sibling], note="Buikpijn")
        for _ in range(5):
            pupil = f.PupilFactory(group=child.group)
            f.GuardianRelationFactory(pupil=pupil)
            with time_machine.travel(at(TUESDAY, 8, 30), tick=False):
                services.absence_reports_create(
                    actor=office.user,
                    pupils=[pupil],
                    kind=Kind.SICK,
                    starts_on=TUESDAY,
                    channel=Channel.PHONE,
                )
        client.force_login(office.user)
        with time_machine.travel(at(TUESDAY, 8, 45), tick=False):
            with django_assert_max_num_queries(25):
                page = client.get(reverse("absences:today")).content.decode()
            printed = client.get(reverse("absences:today_print")).content.decode()
        for text in ("Noor Testkind", "Ties Testkind", "Buikpijn", "Op tijd", "Te laat"):
            assert text in page
        assert "Noor Testkind" in printed
        assert "data-print" in printed  # the print button (static/js/klimop.js)
        assert "js/klimop.js" in printed
        assert "absences.css" in printed

    @pytest.mark.parametrize("who", ["parent", "step_parent"])
    def test_parents_cannot_open_the_staff_pages(self, cast, client, request, who):
        client.force_login(request.getfixturevalue(who).user)
        for name in ("absences:today", "absences:today_print", "absences:staff_report", "absences:register"):
            assert client.get(reverse(name)).status_code == 404


# --- follow-up after three school days -------------------------------------------------------------


class TestFollowUp:
    THURSDAY = dt.date(2026, 11, 19)
    MONDAY = dt.date(2026, 11, 23)

    def _sick_from_thursday(self, parent, child):
        with time_machine.travel(at(self.THURSDAY, 7, 40), tick=False):
            return report(parent, child, starts_on=self.THURSDAY)[0]

    def test_a_spell_from_thursday_reaches_its_third_school_day_on_monday_at_the_opening(
        self, cast, parent, child, teacher, duo_teacher
    ):
        made = self._sick_from_thursday(parent, child)
        for moment in (at(dt.date(2026, 11, 20), 16), at(dt.date(2026, 11, 22), 12), at(self.MONDAY, 7, 59)):
            with time_machine.travel(moment, tick=False):
                assert services.follow_ups_create_due() == 0
        with time_machine.travel(at(self.MONDAY, 8, 0), tick=False):
            assert services.follow_ups_create_due() == 1
            assert services.follow_ups_create_due() == 0  # once per spell
        task = FollowUp.objects.get()
        assert (task.report, task.due_on) == (made, self.MONDAY)
        notes = {n.user_id: n for n in Notification.objects.filter(cause=f"absence-follow-up:{task.pk}")}
        # Each duo teacher hears of it on their own next working day.
        assert notes[teacher.user_id].deliver_at == at(self.MONDAY, 8, 0)
        assert notes[duo_teacher.user_id].deliver_at == at(dt.date(2026, 11, 26), 8, 0)
        assert notes[teacher.user_id].title == "Noor is al 3 schooldagen ziek"

    def test_a_study_day_neither_counts_nor_breaks_the_spell(self, cast, school, parent, child):
        holiday(
            school,
            dt.date(2026, 11, 20),
            dt.date(2026, 11, 20),
            name="Studiedag",
            kind=NonSchoolDay.Kind.STUDY_DAY,
        )
        self._sick_from_thursday(parent, child)
        with time_machine.travel(at(self.MONDAY, 12), tick=False):
            assert services.follow_ups_create_due() == 0
        with time_machine.travel(at(dt.date(2026, 11, 24), 8, 5), tick=False):
            assert services.follow_ups_create_due() == 1
        assert FollowUp.objects.get().due_on == dt.date(2026, 11, 24)

    def test_a_child_back_before_the_third_day_gets_no_follow_up(self, cast, parent, child):
        made = self._sick_from_thursday(parent, child)
        with time_machine.travel(at(dt.date(2026, 11, 22), 18), tick=False):
            services.absence_report_recover(actor=parent.user, report=made, back_on=self.MONDAY)
        with time_machine.travel(at(dt.date(2026, 11, 25), 9), tick=False):
            assert services.follow_ups_create_due() == 0

    def test_the_school_setting_sets_the_number_of_school_days(self, cast, school, parent, child):
        AbsenceSettings.objects.create(school=school, sickness_follow_up_school_days=2)
        self._sick_from_thursday(parent, child)
        with time_machine.travel(at(dt.date(2026, 11, 20), 8, 0), tick=False):
            assert services.follow_ups_create_due() == 1

    def test_the_task_is_marked_done_with_a_note_by_a_teacher_of_the_group(
        self, cast, parent, child, teacher, other_teacher
    ):
        self._sick_from_thursday(parent, child)
        with time_machine.travel(at(self.MONDAY, 8, 0), tick=False):
            services.follow_ups_create_due()
            task = FollowUp.objects.get()
            assert selectors.open_follow_ups_for(viewer=teacher.user) == [task]
            with pytest.raises(Http404):
                services.follow_up_complete(actor=other_teacher.user, follow_up=task, note="?")
            services.follow_up_complete(actor=teacher.user, follow_up=task, note="Moeder gebeld, griep.")
        task.refresh_from_db()
        assert (task.done_by, task.note) == (teacher.user, "Moeder gebeld, griep.")
        assert selectors.open_follow_ups_for(viewer=teacher.user) == []

    def test_the_beat_task_runs_the_sweep(self, cast, parent, child):
        from absences.tasks import create_due_follow_ups

        self._sick_from_thursday(parent, child)
        with time_machine.travel(at(self.MONDAY, 9, 0), tick=False):
            assert create_due_follow_ups.delay().get() == 1


# --- register: the statutory threshold and long absence ----------------------------------------


def mark(teacher, pupil, day, hours):
    until = (dt.datetime.combine(day, dt.time(8, 30)) + dt.timedelta(hours=hours)).time()
    with time_machine.travel(at(day, 15, 0), tick=False):
        return services.absence_reports_create(
            actor=teacher.user,
            pupils=[pupil],
            kind=Kind.UNEXPLAINED,
            starts_on=day,
            from_time=dt.time(8, 30),
            until_time=until,
            channel=Channel.SCHOOL,
        )[0]


class TestRegister:
    def test_sixteen_hours_in_four_school_weeks_reach_the_threshold_a_holiday_week_not_counting(
        self, cast, school, school_year, office, teacher, child
    ):
        # Weeks: 5 Oct, 12 Oct, [autumn holiday 19 Oct], 26 Oct, 2 Nov: four *school* weeks.
        holiday(school, dt.date(2026, 10, 19), dt.date(2026, 10, 23))
        mark(teacher, child, dt.date(2026, 10, 6), 4)
        mark(teacher, child, dt.date(2026, 10, 13), 4)
        mark(teacher, child, dt.date(2026, 10, 27), 4)
        mark(teacher, child, dt.date(2026, 11, 3), 4)
        with time_machine.travel(at(dt.date(2026, 11, 4), 10), tick=False):
            over, _long = selectors.school_register(
                viewer=office.user, school_year=school_year, today=dt.date(2026, 11, 4)
            )
        [row] = over
        assert (row.pupil, row.hit.started_on, row.hit.reached_on, row.hit.hours) == (
            child,
            dt.date(2026, 10, 6),
            dt.date(2026, 11, 3),
            Decimal(16),
        )

    def test_sixteen_hours_spread_over_five_school_weeks_do_not(
        self, cast, school_year, office, teacher, child
    ):
        for day in (
            dt.date(2026, 10, 6),
            dt.date(2026, 10, 13),
            dt.date(2026, 10, 20),
            dt.date(2026, 10, 27),
            dt.date(2026, 11, 3),
        ):
            mark(teacher, child, day, 3.5)
        over, _long = selectors.school_register(
            viewer=office.user, school_year=school_year, today=dt.date(2026, 11, 4)
        )
        assert over == []

    def test_explained_hours_do_not_count(self, cast, school_year, office, teacher, parent, child):
        for day in (dt.date(2026, 11, 2), dt.date(2026, 11, 3), dt.date(2026, 11, 4)):
            mark(teacher, child, day, 6)
        with time_machine.travel(at(dt.date(2026, 11, 4), 15, 30), tick=False):
            report(parent, child, starts_on=dt.date(2026, 11, 4))  # explains Wednesday
        over, _long = selectors.school_register(
            viewer=office.user, school_year=school_year, today=dt.date(2026, 11, 5)
        )
        assert over == []

    def test_the_office_exports_the_list_as_csv_with_start_and_threshold_dates(
        self, cast, client, school_year, office, teacher, child, django_assert_max_num_queries
    ):
        for day in (dt.date(2026, 11, 2), dt.date(2026, 11, 3), dt.date(2026, 11, 4)):
            mark(teacher, child, day, 6)
        client.force_login(office.user)
        with time_machine.travel(at(dt.date(2026, 11, 5), 10), tick=False), django_assert_max_num_queries(20):
            page = client.get(reverse("absences:register")).content.decode()
        with time_machine.travel(at(dt.date(2026, 11, 5), 10), tick=False):
            response = client.get(reverse("absences:register") + "?format=csv")
        assert "Noor Testkind" in page
        lines = response.content.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("Leerling;Groep;")
        assert lines[1].split(";")[:5] == [
            "Noor Testkind",
            "5a",
            child.external_id,
            "2026-11-02",
            "2026-11-04",
        ]

    def test_teachers_do_not_see_the_school_register(self, cast, client, teacher):
        client.force_login(teacher.user)
        assert client.get(reverse("absences:register")).status_code == 404

    def test_a_sickness_of_more_than_four_school_weeks_is_flagged(
        self, cast, school_year, office, parent, child
    ):
        with time_machine.travel(at(dt.date(2026, 10, 26), 7, 30), tick=False):
            report(parent, child, starts_on=dt.date(2026, 10, 26))
        over, long_rows = selectors.school_register(
            viewer=office.user, school_year=school_year, today=dt.date(2026, 11, 20)
        )
        assert long_rows == []  # 20 school days: not yet over four weeks
        over, long_rows = selectors.school_register(
            viewer=office.user, school_year=school_year, today=dt.date(2026, 11, 23)
        )
        assert [(r.pupil, r.school_days) for r in long_rows] == [(child, 21)]

    def test_the_pupil_register_counts_absences_by_kind(self, cast, client, parent, teacher, child):
        with time_machine.travel(at(dt.date(2026, 11, 2), 7, 30), tick=False):
            [sick] = report(parent, child, starts_on=dt.date(2026, 11, 2))
        with time_machine.travel(at(dt.date(2026, 11, 4), 18), tick=False):
            services.absence_report_recover(actor=parent.user, report=sick, back_on=dt.date(2026, 11, 5))
            report(
                parent,
                child,
                Kind.APPOINTMENT,
                starts_on=dt.date(2026, 11, 10),
                from_time=dt.time(9),
                until_time=dt.time(10),
            )
        mark(teacher, child, dt.date(2026, 11, 12), 2)
        year = child.group.school_year
        data = selectors.pupil_register(pupil=child, school_year=year, today=dt.date(2026, 11, 20))
        assert (data.sick_spells, data.sick_days, data.appointments, data.unexplained_hours) == (
            1,
            3,
            1,
            Decimal(2),
        )
        client.force_login(teacher.user)
        with time_machine.travel(at(dt.date(2026, 11, 20), 10), tick=False):
            page = client.get(reverse("absences:pupil_register", args=[child.pk])).content.decode()
        assert "Noor Testkind" in page


class TestStatutory:
    def test_before_the_cutoff_means_up_to_the_last_second_before_it(self):
        def late(hh, mm, ss=0):
            return statutory.is_late_report(
                reported_at=dt.datetime(2026, 11, 24, hh, mm, ss, tzinfo=AMSTERDAM),
                first_day=TUESDAY,
                cutoff=dt.time(8, 20),
                lessons_start=dt.time(8, 30),
            )

        assert (late(8, 19, 59), late(8, 20), late(8, 20, 59)) == (False, True, True)

    @pytest.mark.parametrize(
        ("hh", "mm", "ss", "late"), [(8, 19, 59, False), (8, 20, 0, True), (8, 20, 1, True), (7, 0, 0, False)]
    )
    def test_the_banner_and_the_stored_report_agree_to_the_second(
        self, cast, client, parent, child, hh, mm, ss, late
    ):
        """The form's "you are late" banner and the report's late flag use one deadline."""
        client.force_login(parent.user)
        with time_machine.travel(dt.datetime(2026, 11, 24, hh, mm, ss, tzinfo=AMSTERDAM), tick=False):
            school = child.school
            banner = selectors.is_after_cutoff(school, timezone.now())
            (stored,) = report(parent, child)
        assert (banner, stored.reported_late) == (late, late)

    def test_holiday_weeks_are_skipped_when_counting_school_weeks(self, school, school_year):
        holiday(school, dt.date(2026, 10, 19), dt.date(2026, 10, 23))
        cal = directory.school_calendar(school)
        weeks = statutory.school_weeks(cal, dt.date(2026, 10, 12), dt.date(2026, 11, 1))
        assert weeks == [dt.date(2026, 10, 12), dt.date(2026, 10, 26)]


def test_absence_settings_default_without_a_row(school):
    settings = selectors.absence_settings_for(school)
    assert (settings.lessons_start, settings.lessons_end) == (dt.time(8, 30), dt.time(14, 30))
    assert settings.pk is None
    AbsenceSettings.objects.create(school=school, lessons_start=dt.time(8, 45))
    school.refresh_from_db()
    assert selectors.absence_settings_for(school).lessons_start == dt.time(8, 45)


# --- pages ------------------------------------------------------------------------------------------


class TestPages:
    def test_a_parent_reports_two_children_in_one_form_and_sees_the_cutoff_and_phone(
        self, cast, client, parent, child, sibling
    ):
        client.force_login(parent.user)
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            form = client.get(reverse("absences:report_sick")).content.decode()
            assert "08:20" in form
            assert "010-0000000" in form
            response = client.post(
                reverse("absences:report_sick"),
                {
                    "submission": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
                    "pupils": [child.pk, sibling.pk],
                    "kind": "sick",
                    "starts_on": "2026-11-24",
                    "note": "Griep",
                },
            )
            assert response.status_code == 302
            again = client.post(
                reverse("absences:report_sick"),
                {
                    "submission": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
                    "pupils": [child.pk, sibling.pk],
                    "kind": "sick",
                    "starts_on": "2026-11-24",
                    "note": "Griep",
                },
            )
            assert again.status_code == 302
            overview = client.get(response["Location"]).content.decode()
        assert AbsenceReport.objects.count() == 2
        assert "Noor" in overview
        assert "Ties" in overview

    def test_bad_input_keeps_what_the_parent_typed(self, cast, client, parent, child):
        client.force_login(parent.user)
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            page = client.post(
                reverse("absences:report"),
                {
                    "submission": "2e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
                    "pupils": [child.pk],
                    "kind": "appointment",
                    "starts_on": "2026-11-25",
                    "from_time": "11:00",
                    "until_time": "10:00",
                    "note": "Orthodontist in Utrecht",
                },
            )
        content = page.content.decode()
        assert page.status_code == 200
        assert "Orthodontist in Utrecht" in content
        assert 'value="11:00"' in content
        assert not AbsenceReport.objects.exists()

    def test_a_report_for_someone_elses_child_is_not_found(self, cast, client, parent, barred_child):
        client.force_login(parent.user)
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            response = client.post(
                reverse("absences:report_sick"),
                {
                    "submission": "3e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
                    "pupils": [barred_child.pk],
                    "kind": "sick",
                    "starts_on": "2026-11-24",
                },
            )
        assert response.status_code == 404

    def test_recovery_from_the_overview(self, cast, client, parent, child):
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            [made] = report(parent, child)
        client.force_login(parent.user)
        with time_machine.travel(at(TUESDAY, 18, 0), tick=False):
            page = client.get(reverse("absences:overview")).content.decode()
            assert reverse("absences:recover", args=[made.pk]) in page
            response = client.post(reverse("absences:recover", args=[made.pk]), {"back_on": "2026-11-25"})
        assert response.status_code == 302
        made.refresh_from_db()
        assert made.ends_on == TUESDAY

    def test_staff_record_by_phone_and_mark_unexplained(self, cast, client, teacher, child):
        client.force_login(teacher.user)
        with time_machine.travel(at(TUESDAY, 8, 40), tick=False):
            assert client.get(reverse("absences:staff_report")).status_code == 200
            response = client.post(
                reverse("absences:staff_report"),
                {
                    "submission": "4e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
                    "pupil": child.pk,
                    "kind": "unexplained",
                    "starts_on": "2026-11-24",
                },
            )
        assert response.status_code == 302
        assert AbsenceReport.objects.get().kind == Kind.UNEXPLAINED
        assert Notification.objects.filter(cause__startswith="absence-unexplained:").count() == 2

    def test_a_teacher_marks_the_follow_up_done_from_the_list(self, cast, client, parent, teacher, child):
        with time_machine.travel(at(dt.date(2026, 11, 19), 7, 40), tick=False):
            report(parent, child, starts_on=dt.date(2026, 11, 19))
        client.force_login(teacher.user)
        with time_machine.travel(at(dt.date(2026, 11, 23), 8, 30), tick=False):
            services.follow_ups_create_due()
            task = FollowUp.objects.get()
            page = client.get(reverse("absences:today")).content.decode()
            assert f'id="follow-up-{task.pk}"' in page
            client.post(reverse("absences:follow_up_done", args=[task.pk]), {"note": "Vader gebeld"})
        task.refresh_from_db()
        assert task.note == "Vader gebeld"
        assert task.done_by == teacher.user

    def test_the_include_templates_render_for_their_audience_only(
        self, cast, rf, parent, child, teacher, director
    ):
        from django.template.loader import render_to_string

        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            report(parent, child)
            leave = services.leave_request_create(
                actor=parent.user,
                pupils=[child],
                kind=LeaveRequest.Kind.OTHER,
                starts_on=dt.date(2027, 2, 1),
                ends_on=dt.date(2027, 2, 1),
                reason="Jubileum opa",
            )

        def render(name, user):
            request = rf.get("/")
            request.user = user
            return render_to_string(f"absences/{name}.html", {"request": request})

        with time_machine.travel(at(TUESDAY, 8, 20), tick=False):
            assert "Noor Testkind" in render("_staff_today", teacher.user)
            assert render("_staff_today", parent.user).strip() == ""
            assert reverse("absences:report_sick") in render("_parent_card", parent.user)
            assert render("_parent_card", teacher.user).strip() == ""
            assert f"/{leave.pk}/change/" in render("_director_leave", director.user)
            assert render("_director_leave", teacher.user).strip() == ""

    def test_the_pages_are_available_in_english(self, cast, client, parent, child, teacher):
        teacher.user.language = "en"
        teacher.user.save()
        with time_machine.travel(at(TUESDAY, 7, 50), tick=False):
            report(parent, child)
        client.force_login(teacher.user)
        with time_machine.travel(at(TUESDAY, 8, 20), tick=False):
            page = client.get(reverse("absences:today")).content.decode()
        assert "Absent today" in page
        assert "On time" in page
        assert "Vandaag afwezig" not in page
