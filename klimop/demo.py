"""The directory's part of the demo school (``manage.py demo_school``, orchestrated by ``demo/``).

The school, its school year with holidays and two study days, its groups, staff, pupils and
families, the parents' accounts and the demo logins: written the way an office fills Klimop,
through the directory's own paths, on the day the school was set up, before the school year
(``time_machine``):

- the CSV import (``klimop.resources``) for the groups and the staff, as the office uploads
  them in the admin;
- ``pupils_add`` and ``guardians_add`` for the 400 pupils and 724 family rows: the bulk twins of
  the pupils and guardians imports, with the same columns and checks. The import itself checks
  and saves row by row, about 8,000 queries for these two files (measured: 5 s on SQLite, 13 s on
  PostgreSQL), too slow for ``make run``;
- the office's invitations (``guardians_invite_bulk``, ``staff_invite``); the invited parents
  accepted them (their passwords are unknown to the demo), the demo logins share the published
  demo password (``logins_set_password``).

Who the people are (the plan), and when, comes from ``demo/``; this module only writes them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import tablib
import time_machine
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import selectors, services, worktime
from .models import (
    Group,
    Guardian,
    GuardianRelation,
    NonSchoolDay,
    Pupil,
    School,
    SchoolYear,
    StaffMember,
    User,
)
from .resources import WEEKDAY_WORDS, GroupResource, StaffResource

WED, FRI = 2, 4
#: The school's own study days: a Wednesday in the autumn, a Friday in the spring.
STUDY_DAYS = (
    (dt.timedelta(weeks=6), WED, "Studiedag team"),
    (dt.timedelta(weeks=27), FRI, "Studiedag schoolontwikkeling"),
)


@dataclass(frozen=True)
class StaffRow:
    """One staff member, as the staff import reads them."""

    external_id: str
    email: str
    first_name: str
    last_name: str
    role: str
    groups: tuple[str, ...]
    weekdays: tuple[int, ...]


@dataclass
class DemoSchool:
    """The directory as the features' parts of the demo need it (read back after writing)."""

    school: School
    year: SchoolYear
    groups: dict[str, Group]
    #: Staff and the demo logins, by e-mail address.
    users: dict[str, User]
    #: Group name -> its class teachers (teaching only that group) with their weekdays.
    teachers: dict[str, list[tuple[User, frozenset[int]]]]
    closed: set[dt.date] = field(default_factory=set)
    #: The real clock when the demo was built: nothing in it happened later.
    built_at: dt.datetime = field(default_factory=timezone.now)

    @cached_property
    def calendar(self) -> worktime.WorkCalendar:
        return selectors.school_calendar(self.school)

    def school_days_before(self, moment: dt.datetime, n: int) -> list[dt.date]:
        """The last ``n`` weekdays without a day off before ``moment``'s date, newest first."""
        days: list[dt.date] = []
        day = moment.astimezone(worktime.AMSTERDAM).date()
        while len(days) < n:
            day -= dt.timedelta(days=1)
            if day.weekday() < 5 and day not in self.closed:
                days.append(day)
        return days

    def not_after_build(
        self, at: dt.datetime, *, before: dt.timedelta = dt.timedelta(minutes=3)
    ) -> dt.datetime:
        """``at``, or ``before`` the build when ``at`` is later: a demo built at 07:00 holds no
        report "made at 08:41". The same build moment gives the same times."""
        return at if at <= self.built_at else self.built_at - before

    def has_happened(self, at: dt.datetime) -> bool:
        """Whether ``at`` is not after the build (what has not happened yet is left out)."""
        return at <= self.built_at

    def teacher_on(self, group: str, day: dt.date) -> User:
        """The group's class teacher who works that weekday (duo groups share the week)."""
        for user, weekdays in self.teachers[group]:
            if day.weekday() in weekdays:
                return user
        return self.teachers[group][0][0]


def _import(resource, rows: Sequence[dict[str, str]]) -> None:
    """Upload ``rows`` as the office uploads a CSV file; any bad row stops the demo."""
    dataset = tablib.Dataset(headers=list(rows[0]))
    for row in rows:
        dataset.append(list(row.values()))
    result = resource.import_data(dataset, raise_errors=True)
    if result.has_validation_errors():
        raise ValidationError([f"row {row.number}: {row.error_dict}" for row in result.invalid_rows])


def school_create(
    *, name: str, slug: str, region: str, start_year: int, at: dt.datetime, **contact: str
) -> tuple[School, SchoolYear]:
    """The school (by an administrator), its school year from the national calendar and its
    two study days (by the office), on the day it was set up."""
    with time_machine.travel(at, tick=False):
        school = services.school_create(actor=None, name=name, slug=slug, region=region, **contact)
        year = services.school_year_create(actor=None, school=school, start_year=start_year)
        taken = set(NonSchoolDay.objects.filter(school=school).values_list("date", flat=True))
        for after, weekday, title in STUDY_DAYS:
            day = year.starts_on + after
            while day.weekday() != weekday or day in taken:
                day += dt.timedelta(days=1)
            services.study_day_add(actor=None, school=school, date=day, name=title)
    return school, year


def people_create(
    *,
    school: School,
    year: SchoolYear,
    groups: Iterable[str],
    staff: Iterable[StaffRow],
    pupils: Iterable[services.PupilRow],
    guardians: Iterable[services.GuardianRow],
    at: dt.datetime,
) -> None:
    """The office's files: groups and staff through the CSV import, pupils and families in bulk."""
    with time_machine.travel(at, tick=False):
        _import(
            GroupResource(school=school),
            [{"external_id": f"G-{name}", "name": name, "year": name[0]} for name in groups],
        )
        _import(
            StaffResource(school=school),
            [
                {
                    "external_id": s.external_id,
                    "email": s.email,
                    "first_name": s.first_name,
                    "last_name": s.last_name,
                    "role": s.role,
                    "groups": ";".join(s.groups),
                    "weekdays": ";".join(WEEKDAY_WORDS[d][0] for d in s.weekdays),
                }
                for s in staff
            ],
        )
        services.pupils_add(actor=None, school=school, school_year=year, pupils=pupils)
        services.guardians_add(actor=None, school=school, guardians=guardians)


def accounts_create(
    *,
    school: School,
    office: str,
    guardians: Iterable[str],
    staff: Iterable[str],
    demo_logins: Iterable[str],
    password: str,
    at: dt.datetime,
) -> None:
    """The office invites the families (``guardians``: external ids) and the staff with a demo
    login (``staff``: e-mail addresses); they accepted. The demo logins get ``password``."""
    with time_machine.travel(at, tick=False):
        actor = User.objects.get(email=office)
        invited = Guardian.objects.filter(external_id__in=list(guardians)).order_by("external_id")
        services.guardians_invite_bulk(actor=actor, guardians=invited)
        for member in StaffMember.objects.filter(school=school, user__email__in=list(staff)).select_related(
            "user", "school"
        ):
            services.staff_invite(actor=actor, staff=member)
        services.logins_set_password(
            actor=None, users=User.objects.filter(email__in=list(demo_logins)), password=password
        )


def demo_school(school: School, emails: Iterable[str], *, built_at: dt.datetime) -> DemoSchool:
    """The directory read back for the other parts: groups, the staff and ``emails``' logins;
    ``built_at`` is the real clock of the build."""
    members = StaffMember.objects.filter(school=school).select_related("user").prefetch_related("groups")
    users = {m.user.email: m.user for m in members}
    users.update((u.email, u) for u in User.objects.filter(email__in=list(emails)))
    teachers: dict[str, list[tuple[User, frozenset[int]]]] = defaultdict(list)
    for member in members.filter(role=StaffMember.Role.TEACHER).order_by("external_id"):
        taught = list(member.groups.all())
        if len(taught) == 1:
            teachers[taught[0].name].append((member.user, frozenset(member.working_weekdays)))
    year = school.school_years.order_by("-starts_on").first()
    assert year is not None  # made by school_create
    return DemoSchool(
        school=school,
        year=year,
        groups={g.name: g for g in Group.objects.filter(school_year=year)},
        users=users,
        teachers=dict(teachers),
        closed=set(school.non_school_days.values_list("date", flat=True)),
        built_at=built_at,
    )


def logins_create(
    *, school: School, exclude: Iterable[str], rng: random.Random, moment: dt.datetime
) -> list[User]:
    """Most parents with an account signed in during the last weeks (86 in a hundred), each at a
    moment of their own, as ``django.contrib.auth`` records a login. Returns who.

    The demo logins (``exclude``) keep ``last_login`` empty until someone uses them.
    """
    parents = list(
        User.objects.filter(guardian__relations__pupil__school=school, is_active=True)
        .exclude(email__in=list(exclude))
        .distinct()
        .order_by("pk")
    )
    recent = [user for user in parents if rng.random() < 0.86]
    for user in recent:
        at = moment - dt.timedelta(days=rng.randint(0, 25), minutes=rng.randint(0, 900))
        with time_machine.travel(at, tick=False):
            update_last_login(User, user)
    return recent


def delete(*, slug: str, guardian_prefix: str, emails: Iterable[str]) -> dict[str, int]:
    """Delete the demo school, its guardians and its logins (and leftovers of an earlier demo
    whose school was deleted by hand: guardians by their ids' prefix, logins by address)."""
    school = School.objects.filter(slug=slug).first()
    users = User.objects.filter(email__in=list(emails)) | User.objects.filter(
        guardian__external_id__startswith=guardian_prefix
    )
    if school is not None:
        users |= User.objects.filter(staff_members__school=school)
    user_ids = set(users.values_list("pk", flat=True))
    deleted = services.school_delete(actor=None, school=school) if school is not None else {}
    guardians = services.guardians_delete(
        actor=None, guardians=Guardian.objects.filter(external_id__startswith=guardian_prefix)
    )
    logins = services.logins_delete(actor=None, users=User.objects.filter(pk__in=user_ids))
    return {
        "schools": deleted.get("klimop.School", 0),
        "pupils": deleted.get("klimop.Pupil", 0),
        "guardians": guardians,
        "users": logins,
    }


def summary(school: School) -> dict[str, object]:
    """The directory's lines of the command's summary."""
    year = school.school_years.order_by("-starts_on").first()
    days = NonSchoolDay.objects.filter(school=school)
    return {
        "school": f"{school.name} ({school.slug}, regio {school.region})",
        "school year": (f"{year.name}: {year.starts_on:%d-%m-%Y} – {year.ends_on:%d-%m-%Y}" if year else "-"),
        "days without school": days.count(),
        "study days": days.filter(kind=NonSchoolDay.Kind.STUDY_DAY).count(),
        "groups": Group.objects.filter(school=school).count(),
        "pupils": Pupil.objects.filter(school=school).count(),
        "guardians": Guardian.objects.filter(pupils__school=school).distinct().count(),
        "guardian relations": GuardianRelation.objects.filter(pupil__school=school).count(),
        "staff": StaffMember.objects.filter(school=school).count(),
        "parent accounts": User.objects.filter(guardian__relations__pupil__school=school).distinct().count(),
    }
