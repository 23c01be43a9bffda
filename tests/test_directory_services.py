"""School directory services: school years from the national calendar, invitations, calendars."""

import datetime as dt
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from klimop import selectors, services, worktime
from klimop.models import Guardian, GuardianRelation, NonSchoolDay, Pupil, School, SchoolYear, User
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
    assert not User.objects.filter(email="stranger@example.test").exists()


def test_school_policy_rejects_escalation_before_reminder(db):
    school = School(name="X", slug="x", remind_after_working_days=5, escalate_after_working_days=2)
    with pytest.raises(ValidationError):
        school.full_clean()


# --- a school's first fill: study days, many pupils and guardians, many invitations ------------


def test_the_office_adds_a_study_day_on_a_school_day(school_year, office, other_director):
    day = services.study_day_add(
        actor=office.user, school=school_year.school, date=dt.date(2026, 10, 14), name=" Studiedag "
    )
    assert (day.kind, day.name, day.from_calendar) == (NonSchoolDay.Kind.STUDY_DAY, "Studiedag", False)
    for date in (dt.date(2026, 10, 17), dt.date(2026, 10, 14), dt.date(2027, 8, 4)):  # Sat, taken, summer
        with pytest.raises(ValidationError):
            services.study_day_add(actor=office.user, school=school_year.school, date=date, name="Studiedag")
    with pytest.raises(PermissionDenied):
        services.study_day_add(
            actor=other_director.user, school=school_year.school, date=dt.date(2026, 10, 15), name="X"
        )


def test_many_pupils_and_their_guardians_are_added_at_once(
    school, school_year, group, office, django_assert_max_num_queries
):
    pupils = [services.PupilRow(f"L{n}", "Kind", f"Nummer {n}", "5A") for n in range(30)]
    families = [
        row
        for n in range(30)
        for row in (
            services.GuardianRow(f"O{n}", "Ouder", f"Een {n}", f"L{n}", "parent", "full", f"o{n}@x.test"),
            services.GuardianRow(f"Z{n}", "Ouder", f"Twee {n}", f"L{n}", "parent_no_authority", "on_request"),
        )
    ]
    # A sibling: the first parent again, for another child, with the same details.
    families.append(services.GuardianRow("O0", "Ouder", "Een 0", "L1", "parent", "full", "O0@x.test "))
    with django_assert_max_num_queries(14):  # as many for 3,000 rows
        assert (
            services.pupils_add(actor=office.user, school=school, school_year=school_year, pupils=pupils)
            == 30
        )
        assert services.guardians_add(actor=office.user, school=school, guardians=families) == 60
    assert set(group.pupils.values_list("external_id", flat=True)) == {f"L{n}" for n in range(30)}
    first = Guardian.objects.get(external_id="O0")
    assert first.email == "o0@x.test"
    assert first.user is None  # a login comes with the invitation
    assert sorted(first.relations.values_list("pupil__external_id", "kind", "access")) == [
        ("L0", "parent", "full"),
        ("L1", "parent", "full"),
    ]
    assert GuardianRelation.objects.filter(pupil__school=school).count() == 61


def test_a_bad_row_adds_no_pupil_and_no_guardian(school, school_year, group, child, office, other_director):
    rows = [services.PupilRow("N1", "Kind", "Een", "5a"), services.PupilRow("N2", "Kind", "Twee", "9z")]
    with pytest.raises(ValidationError, match="Regel 2: onbekende groep “9z”"):
        services.pupils_add(actor=office.user, school=school, school_year=school_year, pupils=rows)
    with pytest.raises(ValidationError, match="externe id moet ingevuld en nieuw"):
        services.pupils_add(
            actor=office.user,
            school=school,
            school_year=school_year,
            pupils=[services.PupilRow(child.external_id, "Kind", "Een", "5a")],
        )
    guardians = [
        services.GuardianRow("G1", "Ouder", "Een", child.external_id, "parent", "full", "g1@x.test"),
        services.GuardianRow("G1", "Ouder", "Anders", child.external_id, "parent", "full", "g1@x.test"),
        services.GuardianRow("G2", "Ouder", "Twee", child.external_id, "friend", "full"),
    ]
    with pytest.raises(ValidationError) as refused:
        services.guardians_add(actor=office.user, school=school, guardians=guardians)
    assert len(refused.value.messages) == 3  # other details, the same pair twice, an unknown kind
    assert not Pupil.objects.filter(external_id__startswith="N").exists()
    assert not Guardian.objects.filter(external_id__startswith="G").exists()
    with pytest.raises(PermissionDenied):
        services.guardians_add(actor=other_director.user, school=school, guardians=guardians[:1])


def _uninvited(pupil, email: str):
    guardian = f.GuardianFactory(user=None, email=email, first_name="Ouder", last_name="Nieuw")
    f.GuardianRelationFactory(pupil=pupil, guardian=guardian)
    return guardian


def test_a_whole_school_is_invited_at_once_each_by_their_own_email(
    office, child, parent, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    new = [_uninvited(child, f"Ouder{n}@Example.test") for n in range(12)]
    # A teacher who is also a parent here: their login is linked, not made again.
    colleague = f.StaffMemberFactory(school=office.school, user__email="collega@example.test")
    linked = _uninvited(child, "collega@example.test")
    no_address = _uninvited(child, "")
    moment = dt.datetime(2026, 8, 21, 10, 0, tzinfo=AMS)
    with (
        time_machine.travel(moment, tick=False),
        django_capture_on_commit_callbacks(execute=True),
        django_assert_max_num_queries(40),
    ):
        invited = services.guardians_invite_bulk(
            actor=office.user, guardians=[*new, linked, no_address, parent]
        )
    assert invited == 13
    for guardian in new:
        guardian.refresh_from_db()
        user = guardian.user
        assert user.email == guardian.email.lower()
        assert (user.first_name, user.invited_at, user.has_usable_password()) == ("Ouder", moment, False)
        assert EmailAddress.objects.get(user=user).verified
    linked.refresh_from_db()
    assert linked.user == colleague.user
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["collega@example.test", *(g.email.lower() for g in new)]
    )
    assert all(office.school.name in m.body for m in mail.outbox)
    no_address.refresh_from_db()
    assert no_address.user is None


def test_a_bulk_invitation_for_another_schools_guardian_invites_nobody(
    other_director, child, django_capture_on_commit_callbacks
):
    guardian = _uninvited(child, "a@x.test")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
        services.guardians_invite_bulk(actor=other_director.user, guardians=[guardian])
    assert mail.outbox == []
    assert not User.objects.filter(email="a@x.test").exists()


def test_the_demo_logins_share_one_password_that_only_the_system_sets(director, teacher):
    users = [director.user, teacher.user]
    assert services.logins_set_password(actor=None, users=users, password="klimop-demo") == 2
    for user in users:
        user.refresh_from_db()
        assert user.check_password("klimop-demo")
    with pytest.raises(PermissionDenied):
        services.logins_set_password(actor=director.user, users=[teacher.user], password="x")
    teacher.user.last_login = dt.datetime(2026, 9, 1, 8, 0, tzinfo=AMS)
    with pytest.raises(ValidationError):
        services.logins_set_password(actor=None, users=[teacher.user], password="x")


def test_only_an_administrator_removes_a_school_its_guardians_and_logins(
    school, child, parent, teacher, director, other_school
):
    admin = f.UserFactory(email="root@example.test", is_superuser=True)
    for remove in (
        lambda actor: services.school_delete(actor=actor, school=school),
        lambda actor: services.guardians_delete(actor=actor, guardians=Guardian.objects.filter(pk=parent.pk)),
        lambda actor: services.logins_delete(actor=actor, users=User.objects.filter(pk=teacher.user_id)),
    ):
        with pytest.raises(PermissionDenied):
            remove(director.user)
    deleted = services.school_delete(actor=admin, school=school)
    assert (deleted["klimop.School"], deleted["klimop.Pupil"]) == (1, 1)
    assert not Pupil.objects.exists()
    assert School.objects.filter(pk=other_school.pk).exists()
    assert Guardian.objects.filter(pk=parent.pk).exists()  # a person, not the school's
    assert services.guardians_delete(actor=None, guardians=Guardian.objects.filter(pk=parent.pk)) == 1
    assert services.logins_delete(actor=admin, users=User.objects.filter(pk=teacher.user_id)) == 1
    assert not User.objects.filter(pk=teacher.user_id).exists()
