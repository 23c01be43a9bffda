"""The agenda as one viewer may see it: events plus the directory's days without school.

Access (klimop.access): a group event for whoever may see that group; a school
event and the school's holidays and study days for whoever may see that school.
Every read takes a fixed number of queries, however many events there are.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from klimop import access, worktime
from klimop.models import Group, NonSchoolDay, School

from .models import Event

ONE_DAY = dt.timedelta(days=1)


def events_visible_to(viewer) -> QuerySet[Event]:
    """Events the viewer may see: their groups' events and their schools' events."""
    return Event.objects.filter(
        Q(group__in=access.groups_visible_to(viewer).values("pk"))
        | Q(group__isnull=True, school__in=access.schools_visible_to(viewer).values("pk"))
    )


def event_get_for(*, viewer, pk: int) -> Event:
    """One event, or 404 for both "missing" and "not yours"."""
    try:
        return events_visible_to(viewer).select_related("group", "school", "created_by__user").get(pk=pk)
    except Event.DoesNotExist:
        raise Http404 from None


@dataclass
class AgendaItem:
    """One line in the agenda: an event, or a run of days without school."""

    title: str
    starts_on: dt.date
    ends_on: dt.date
    school: School
    event: Event | None = None
    non_school_kind: str = ""
    dates: list[dt.date] = field(default_factory=list)

    @property
    def is_event(self) -> bool:
        return self.event is not None

    @property
    def all_day(self) -> bool:
        return self.event is None or self.event.all_day

    @property
    def is_range(self) -> bool:
        return self.ends_on != self.starts_on

    @property
    def sort_key(self):
        start = (
            timezone.localtime(self.event.starts_at, worktime.AMSTERDAM).time()
            if self.event and self.event.starts_at
            else dt.time.min
        )
        # Days without school first on their day, then all-day events, then by time.
        return (self.starts_on, self.event is not None, start, self.title)

    @property
    def uid(self) -> str:
        """Stable across feed refreshes: the event's id, or the run's school and first day."""
        if self.event is not None:
            return f"event-{self.event.pk}@klimop"
        return f"nonschool-{self.school.pk}-{self.starts_on:%Y%m%d}@klimop"

    def covers(self, day: dt.date) -> bool:
        return self.starts_on <= day <= self.ends_on


def _only_weekend_between(a: dt.date, b: dt.date) -> bool:
    d = a + ONE_DAY
    while d < b:
        if d.weekday() < 5:
            return False
        d += ONE_DAY
    return True


def group_non_school_days(days: list[NonSchoolDay]) -> list[AgendaItem]:
    """Turn single days into ranges like "Kerstvakantie 21 dec – 1 jan".

    Days with only a weekend between them form one run. A run that contains
    school-holiday days is named after that holiday (public holidays inside it,
    like Christmas Day, are part of the holiday); other runs are split by name,
    so a study day next to Whit Monday stays a study day.
    """
    runs: list[list[NonSchoolDay]] = []
    for day in sorted(days, key=lambda d: (d.school_id, d.date)):
        last = runs[-1][-1] if runs else None
        if last and last.school_id == day.school_id and _only_weekend_between(last.date, day.date):
            runs[-1].append(day)
        else:
            runs.append([day])
    items: list[AgendaItem] = []
    for run in runs:
        holidays = [d for d in run if d.kind == NonSchoolDay.Kind.SCHOOL_HOLIDAY]
        if holidays:
            name = Counter(d.name for d in holidays).most_common(1)[0][0]
            items.append(_run_item(run, name, NonSchoolDay.Kind.SCHOOL_HOLIDAY))
            continue
        part: list[NonSchoolDay] = []
        for day in run:
            if part and (day.name != part[-1].name or day.kind != part[-1].kind):
                items.append(_run_item(part, part[0].name, part[0].kind))
                part = []
            part.append(day)
        if part:
            items.append(_run_item(part, part[0].name, part[0].kind))
    return items


def _run_item(run: list[NonSchoolDay], name: str, kind: str) -> AgendaItem:
    return AgendaItem(
        title=name,
        starts_on=run[0].date,
        ends_on=run[-1].date,
        school=run[0].school,
        non_school_kind=kind,
        dates=[d.date for d in run],
    )


def agenda_for(
    *,
    viewer,
    start: dt.date | None = None,
    end: dt.date | None = None,
    group: Group | None = None,
) -> list[AgendaItem]:
    """The viewer's agenda between two dates (inclusive), sorted; three queries.

    ``group`` narrows it to one group the viewer may see (a child's group): that
    group's events and its school's events and days without school.
    """
    events = events_visible_to(viewer).select_related("group", "school")
    schools = access.schools_visible_to(viewer)
    if group is not None:
        events = events.filter(Q(group=group) | Q(group__isnull=True, school_id=group.school_id))
        schools = schools.filter(pk=group.school_id)
    days = NonSchoolDay.objects.filter(school__in=schools.values("pk")).select_related("school")
    if start is not None:
        events = events.filter(ends_on__gte=start)
        # A holiday that began before ``start`` still shows as one whole run.
        days = days.filter(date__gte=start - dt.timedelta(days=60))
    if end is not None:
        events = events.filter(starts_on__lte=end)
        days = days.filter(date__lte=end + dt.timedelta(days=60))
    items = [
        AgendaItem(title=e.title, starts_on=e.starts_on, ends_on=e.ends_on, school=e.school, event=e)
        for e in events
    ]
    for item in group_non_school_days(list(days)):
        if (start is None or item.ends_on >= start) and (end is None or item.starts_on <= end):
            items.append(item)
    items.sort(key=lambda i: i.sort_key)
    return items


def filter_groups_for(viewer) -> list[tuple[Group, str]]:
    """The choices of the agenda's filter: a parent's children (by group) or staff groups."""
    groups = access.groups_visible_to(viewer).select_related("school_year").order_by("year", "name")
    names: dict[int, list[str]] = {}
    if access.is_guardian(viewer):
        pupils = (
            access.pupils_visible_to(viewer)
            .filter(guardian_relations__guardian__user=viewer)
            .values_list("group_id", "first_name")
        )
        for group_id, first_name in pupils:
            names.setdefault(group_id, []).append(first_name)
    choices = []
    for g in groups:
        label = str(g)
        if names.get(g.pk):
            label = f"{', '.join(sorted(set(names[g.pk])))} ({label})"
        choices.append((g, label))
    return choices


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def today_local() -> dt.date:
    return worktime.local_date(timezone.now())
