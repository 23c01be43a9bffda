"""Reads of the school directory, filtered by the access rules, and calendars from the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.db import connection
from django.db.models import Model, OneToOneField, Prefetch, QuerySet
from django.http import Http404
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from . import access, national_calendar, worktime
from .memo import memoised
from .models import (
    Group,
    Guardian,
    GuardianRelation,
    NonSchoolDay,
    Pupil,
    School,
    SchoolYear,
    StaffMember,
)

_SettingsRow = TypeVar("_SettingsRow", bound=Model)

# --- working-time calendars (the pure module gets plain data from here) -------------------


def school_calendar(school: School) -> worktime.WorkCalendar:
    """The school's working time: office hours, days without school, its school years.

    After the last school year the school entered (or from the start, when it entered
    none) the national calendar of its region goes on: the next school years with their
    school holidays, public holidays and the school's choice for Good Friday and
    Liberation Day. So the calendar never runs out of working time.
    """
    return memoised(("calendar", school.pk), lambda: _school_calendar(school))


def _school_calendar(school: School) -> worktime.WorkCalendar:
    hours, closed, terms = _calendar_rows(school.pk)
    if not hours:
        hours = dict(worktime.DEFAULT_HOURS)
    later = national_calendar.NationalCalendar(
        region=school.region,
        closed_on_good_friday=school.closed_on_good_friday,
        closed_on_liberation_day=school.closed_on_liberation_day,
    )
    return worktime.WorkCalendar(hours=hours, closed_dates=closed, terms=terms, later_years=later)


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _as_time(value: Any) -> dt.time:
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(value)


#: The three tables of a school's working time as one result (see ``_calendar_rows``).
_CALENDAR_SQL = (
    "SELECT 0, weekday, opens, closes, CAST(NULL AS date), CAST(NULL AS date)"
    " FROM klimop_officehours WHERE school_id = %s"
    ' UNION ALL SELECT 1, NULL, NULL, NULL, "date", NULL FROM klimop_nonschoolday WHERE school_id = %s'
    " UNION ALL SELECT 2, NULL, NULL, NULL, starts_on, ends_on FROM klimop_schoolyear WHERE school_id = %s"
)


def _calendar_rows(
    school_id: int,
) -> tuple[dict[int, tuple[dt.time, dt.time]], frozenset[dt.date], tuple[tuple[dt.date, dt.date], ...]]:
    """Office hours, days without school and school years of a school in one query.

    Every page that says "when" builds a calendar; three ORM queries were a good part of
    such a page's CPU time. One plain UNION ALL costs one round trip and no query building.
    Never cached: a day off entered now counts on the next request. (SQLite, behind
    ``make run``, hands dates and times back as text.)
    """
    hours: dict[int, tuple[dt.time, dt.time]] = {}
    closed: set[dt.date] = set()
    terms: list[tuple[dt.date, dt.date]] = []
    with connection.cursor() as cursor:
        cursor.execute(_CALENDAR_SQL, [school_id, school_id, school_id])
        for kind, weekday, opens, closes, first, last in cursor.fetchall():
            if kind == 0:
                hours[weekday] = (_as_time(opens), _as_time(closes))
            elif kind == 1:
                closed.add(_as_date(first))
            else:
                terms.append((_as_date(first), _as_date(last)))
    return hours, frozenset(closed), tuple(sorted(terms))


def date_bounds(school: School | int, today: dt.date) -> tuple[dt.date, dt.date]:
    """``(earliest, latest)``: the days about which something may be recorded or planned at
    the school (``worktime.earliest_recordable_date`` / ``worktime.latest_plannable_date``)."""
    school_id = school if isinstance(school, int) else school.pk
    terms = list(SchoolYear.objects.filter(school_id=school_id).values_list("starts_on", "ends_on"))
    return worktime.earliest_recordable_date(terms, today), worktime.latest_plannable_date(terms, today)


def too_far_ahead(latest: dt.date) -> str:
    """The message for a date after ``latest_plannable_date``, naming the last possible day."""
    return _("That is too far ahead: the last possible day is %(date)s.") % {
        "date": formats.date_format(latest, "j F Y")
    }


def too_long_ago(earliest: dt.date) -> str:
    """The message for a date before ``earliest_recordable_date``."""
    return _("That is too long ago: the earliest possible day is %(date)s.") % {
        "date": formats.date_format(earliest, "j F Y")
    }


def staff_calendar(staff: StaffMember) -> worktime.WorkCalendar:
    """A staff member's working time: the school's, on their own weekdays only
    (``worktime.for_staff_weekdays``: the school's when none of them is a school day)."""
    return worktime.for_staff_weekdays(school_calendar(staff.school), staff.working_weekdays)


def school_settings(school: School, model: type[_SettingsRow]) -> _SettingsRow:
    """A feature's settings row of ``school`` (a model with a one-to-one ``school``), or an
    unsaved row with the defaults when the school never saved one: the one way every
    feature reads its per-school settings (docs/architecture.md)."""
    field = cast("OneToOneField[Any, Any]", model._meta.get_field("school"))
    accessor = field.remote_field.get_accessor_name() or ""
    try:
        return getattr(school, accessor)
    except model.DoesNotExist:  # type: ignore[attr-defined]
        return model(school=school)


def staff_delivery_time(*, sender, school: School, now: dt.datetime) -> dt.datetime:
    """When what ``sender`` sends to families of ``school`` at ``now`` reaches them.

    The one rule for everything staff send (posts, chat messages, acknowledgements, leave
    decisions, absence notices): ``now`` inside the sender's own working time at the
    school, else their next opening (``staff_calendar``). Someone without a staff record
    there (an administrator, the system) sends within the school's office hours. After
    the last entered school year the calendar goes on with the national one, so there is
    always a next opening.
    """
    staff = (
        StaffMember.objects.filter(user=sender, school=school).select_related("school").first()
        if sender is not None
        else None
    )
    cal = staff_calendar(staff) if staff is not None else school_calendar(school)
    return worktime.next_opening(cal, now)


def national_day_rows(
    *, school: School, start: dt.date, end: dt.date
) -> list[tuple[dt.date, bool, str | None]]:
    """Good Friday and Liberation Day between two dates: ``(date, is Good Friday, the name of
    the school's day without school then, or None)``; :func:`national_day_states` words them."""
    closed = dict(
        NonSchoolDay.objects.filter(school=school, date__range=(start, end)).values_list("date", "name")
    )
    return [
        (national.date, national.name == national_calendar.GOOD_FRIDAY, closed.get(national.date))
        for national in national_calendar.national_days(start, end)
    ]


def national_day_state(date: dt.date, is_good_friday: bool, closed_name: str | None) -> tuple[str, str]:
    """One row of :func:`national_day_rows` as ``(day, state)`` in the active language."""
    day = _("%(name)s (%(date)s)") % {
        "name": _("Good Friday") if is_good_friday else _("Liberation Day"),
        "date": formats.date_format(date, "l j F Y"),
    }
    national_name = national_calendar.GOOD_FRIDAY if is_good_friday else national_calendar.LIBERATION_DAY
    if closed_name is None:
        state = pgettext("a school on a day", "open")
    elif closed_name == national_name:
        state = pgettext("a school on a day", "closed")
    else:
        state = pgettext("a school on a day", "closed: %(name)s") % {"name": closed_name}
    return day, state


def national_day_states(*, school: School, start: dt.date, end: dt.date) -> list[tuple[str, str]]:
    """Good Friday and Liberation Day between two dates, each with what the school's days
    without school say about it: ``(day, state)`` in the active language, for the office."""
    return [national_day_state(*row) for row in national_day_rows(school=school, start=start, end=end)]


# --- the directory as a viewer sees it -----------------------------------------------------


def pupil_get_for(*, viewer, pk: int) -> Pupil:
    """One pupil, or 404 for both "missing" and "not yours"."""
    try:
        return access.pupils_visible_to(viewer).select_related("group", "school").get(pk=pk)
    except Pupil.DoesNotExist:
        raise Http404 from None


def group_get_for(*, viewer, pk: int) -> Group:
    try:
        return access.groups_visible_to(viewer).select_related("school_year", "school").get(pk=pk)
    except Group.DoesNotExist:
        raise Http404 from None


@dataclass(frozen=True)
class ChildCard:
    pupil: Pupil
    relation: GuardianRelation
    teachers: list[StaffMember]

    @property
    def may_act(self) -> bool:
        return self.relation.access in access.ACT_ACCESS


def children_for_guardian(*, viewer) -> list[ChildCard]:
    """The children a guardian may see, with their group and teachers, in three queries."""
    if not access.is_guardian(viewer):
        return []
    relations = (
        GuardianRelation.objects.filter(
            guardian__user=viewer, access__in=access.VIEW_ACCESS, pupil__left_on__isnull=True
        )
        .select_related("pupil__group__school_year", "pupil__school")
        .prefetch_related(
            Prefetch(
                "pupil__group__teachers",
                queryset=StaffMember.objects.select_related("user").order_by("user__first_name"),
            )
        )
        .order_by("pupil__date_of_birth", "pupil__first_name")
    )
    cards = []
    for relation in relations:
        group = relation.pupil.group
        teachers = list(group.teachers.all()) if group else []
        cards.append(ChildCard(pupil=relation.pupil, relation=relation, teachers=teachers))
    return cards


def contact_school_for_empty_home() -> School | None:
    """The school to call when a parent sees no children: only in a one-school deployment.

    Never derived from the parent's own relations: telling a barred parent which school
    the child attends could harm the child.
    """
    schools = list(School.objects.all()[:2])
    return schools[0] if len(schools) == 1 else None


def groups_for_staff(*, viewer) -> QuerySet[Group]:
    """The staff member's own groups with their pupils (dashboard), in a fixed number of queries."""
    staff = access.staff_member_of(viewer)
    if staff is None:
        return Group.objects.none()
    groups = (
        Group.objects.filter(teachers=staff)
        if not staff.sees_whole_school
        else (Group.objects.filter(school_id=staff.school_id))
    )
    return (
        groups.select_related("school_year")
        .prefetch_related(
            Prefetch(
                "pupils",
                queryset=Pupil.objects.filter(left_on__isnull=True).order_by("first_name"),
            ),
            Prefetch("teachers", queryset=StaffMember.objects.select_related("user")),
        )
        .order_by("year", "name")
    )


def guardians_of_pupil_for(*, viewer, pupil: Pupil) -> list[dict]:
    """A pupil's guardians as the viewer may see them: contact details only where allowed."""
    pupil = pupil_get_for(viewer=viewer, pk=pupil.pk)
    relations = pupil.guardian_relations.select_related("guardian").order_by("guardian__last_name")
    staff = access.staff_member_of(viewer)
    if staff is None:
        # Parents see the other people who may see this child, not who was refused or barred.
        relations = relations.filter(access__in=access.VIEW_ACCESS)
    rows = []
    for relation in relations:
        guardian: Guardian = relation.guardian
        show = staff is not None and access.can_view_contact_details(viewer, guardian)
        rows.append(
            {
                "name": guardian.full_name,
                "kind": relation.get_kind_display(),
                "access": relation.get_access_display(),
                "email": guardian.email if show else None,
                "phone": guardian.phone if show else None,
            }
        )
    return rows
