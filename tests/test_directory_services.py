"""School directory services: school years from the national calendar, invitations, calendars."""

import datetime as dt
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse

from klimop import selectors, services, worktime
from klimop.models import NonSchoolDay, School, SchoolYear
from tests import factories as f

pytestmark = pytest.mark.django_db
AMS = worktime.AMSTERDAM


@pytest.mark.parametrize(
    ("region", "first", "last"),
    [
        ("noord", dt.date(2026, 8, 17), dt.date(2027, 7, 9)),
        ("midden", dt.date(2026, 8, 31), dt.date(2027, 7, 16)),
        ("zuid", dt.date(2026, 8, 24), dt.date(2027, 7, 23)),
    ],
)
def test_a_school_year_runs_from_after_one_summer_holiday_to_before_the_next(region, first, last):
    assert services.school_year_bounds(region=region, start_year=2026) == (first, last)


def test_creating_a_school_year_fills_in_holidays_and_public_holidays(school, director):
    year = services.school_year_create(actor=director.user, school=school, start_year=2026)
    assert (year.starts_on, year.ends_on) == (dt.date(2026, 8, 31), dt.date(2027, 7, 16))
    days = {d.date: d for d in NonSchoolDay.objects.filter(school=school)}
    # Autumn holiday in region midden 2026, Christmas, and King's Day 2027 (a Tuesday).
    assert days[dt.date(2026, 10, 19)].kind == NonSchoolDay.Kind.SCHOOL_HOLIDAY
    assert days[dt.date(2026, 12, 25)].kind == NonSchoolDay.Kind.PUBLIC_HOLIDAY
    assert days[dt.date(2027, 4, 27)].kind == NonSchoolDay.Kind.PUBLIC_HOLIDAY
    # Liberation Day is closed by default (school setting), weekends are never stored.
    assert dt.date(2027, 5, 5) in days
    assert all(d.weekday() < 5 for d in days)


def test_creating_the_same_school_year_twice_changes_nothing(school, director):
    services.school_year_create(actor=director.user, school=school, start_year=2026)
    count = NonSchoolDay.objects.count()
    services.school_year_create(actor=director.user, school=school, start_year=2026)
    assert NonSchoolDay.objects.count() == count
    assert SchoolYear.objects.filter(school=school, name="2026/2027").count() == 1


def test_a_study_day_the_school_entered_is_kept_when_holidays_are_filled(school):
    NonSchoolDay.objects.create(
        school=school, date=dt.date(2026, 12, 21), kind=NonSchoolDay.Kind.STUDY_DAY, name="Studiedag"
    )
    services.school_year_create(actor=None, school=school, start_year=2026)
    assert NonSchoolDay.objects.get(school=school, date=dt.date(2026, 12, 21)).name == "Studiedag"


def test_a_director_of_another_school_cannot_create_its_school_year(school, other_director):
    with pytest.raises(PermissionDenied):
        services.school_year_create(actor=other_director.user, school=school, start_year=2026)


def test_a_new_school_gets_the_default_office_hours(db):
    root = f.UserFactory(is_superuser=True, is_staff=True)
    school = services.school_create(actor=root, name="Basisschool Nieuw", slug="nieuw")
    hours = {(oh.weekday, oh.opens, oh.closes) for oh in school.office_hours.all()}
    assert hours == {(d, dt.time(8), dt.time(16, 30)) for d in range(5)}
    assert school.sick_report_cutoff == dt.time(8, 20)
    assert (school.remind_after_working_days, school.escalate_after_working_days) == (2, 5)


def test_only_an_administrator_adds_schools(director):
    with pytest.raises(PermissionDenied):
        services.school_create(actor=director.user, name="X", slug="x")


@time_machine.travel(dt.datetime(2026, 12, 18, 20, 0, tzinfo=AMS))
def test_the_school_calendar_from_the_database_knows_the_christmas_holiday(school):
    services.school_year_create(actor=None, school=school, start_year=2026)
    cal = selectors.school_calendar(school)
    friday_evening = dt.datetime(2026, 12, 18, 20, 0, tzinfo=AMS)
    assert worktime.next_opening(cal, friday_evening) == dt.datetime(2027, 1, 4, 8, 0, tzinfo=AMS)


def test_a_duo_teachers_calendar_only_has_their_own_weekdays(school, duo_teacher):
    services.school_year_create(actor=None, school=school, start_year=2026)
    cal = selectors.staff_calendar(duo_teacher)  # works Thursday and Friday
    monday = dt.datetime(2026, 11, 23, 9, 0, tzinfo=AMS)
    assert worktime.next_opening(cal, monday) == dt.datetime(2026, 11, 26, 8, 0, tzinfo=AMS)


def test_changed_office_hours_change_the_calendar(school):
    services.school_year_create(actor=None, school=school, start_year=2026)
    school.office_hours.filter(weekday=2).update(closes=dt.time(12, 30))
    cal = selectors.school_calendar(school)
    assert not worktime.is_working_time(cal, dt.datetime(2026, 11, 25, 13, 0, tzinfo=AMS))
    assert worktime.is_working_time(cal, dt.datetime(2026, 11, 26, 13, 0, tzinfo=AMS))


def test_a_guardian_is_invited_by_email_and_sets_a_password_with_the_link(
    director, child, client, django_capture_on_commit_callbacks
):
    guardian = f.GuardianFactory(
        user=None, email="nieuwe.ouder@example.test", first_name="Mira", last_name="Testouder"
    )
    f.GuardianRelationFactory(pupil=child, guardian=guardian)
    with django_capture_on_commit_callbacks(execute=True):
        user = services.guardian_invite(actor=director.user, guardian=guardian)
    assert user.email == "nieuwe.ouder@example.test"
    assert not user.has_usable_password()
    assert EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    url = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    path = url.split("localhost:8000", 1)[-1]
    response = client.get(path, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else path
    response = client.post(
        form_url,
        {"password1": "een-sterk-wachtwoord-42", "password2": "een-sterk-wachtwoord-42"},
        follow=True,
    )
    user.refresh_from_db()
    assert user.has_usable_password()
    assert user.check_password("een-sterk-wachtwoord-42")


def test_a_teacher_cannot_invite_guardians(teacher, parent):
    with pytest.raises(PermissionDenied):
        services.guardian_invite(actor=teacher.user, guardian=parent)


def test_a_rolled_back_invitation_sends_no_email(director, child, django_capture_on_commit_callbacks):
    guardian = f.GuardianFactory(user=None, email="x@example.test", first_name="Ad", last_name="Test")
    f.GuardianRelationFactory(pupil=child, guardian=guardian)

    def invite_then_fail():
        with transaction.atomic():
            services.guardian_invite(actor=director.user, guardian=guardian)
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True):
        pytest.raises(RuntimeError, invite_then_fail)
    assert mail.outbox == []


def test_nobody_can_sign_up_on_their_own(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "stranger@example.test", "password1": "abcdefgh12345", "password2": "abcdefgh12345"},
    )
    assert response.status_code in (200, 403)
    from klimop.models import User

    assert not User.objects.filter(email="stranger@example.test").exists()


def test_school_policy_rejects_escalation_before_reminder(db):
    school = School(name="X", slug="x", remind_after_working_days=5, escalate_after_working_days=2)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        school.full_clean()
