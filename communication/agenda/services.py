"""Writes of the agenda: events (staff), reminders (the system) and feed tokens (every user).

Who may plan what: a teacher plans events for the groups they
teach; the director and the office plan for their whole school (school-wide
events and any group of their school).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from klimop import access, worktime
from klimop import selectors as directory
from klimop.models import Group, GuardianRelation, StaffMember, User
from klimop.notifications.services import notify

from .models import Event, FeedToken

#: "Bring this" requests should reach parents at least this many school days ahead.
BRING_NOTICE_SCHOOL_DAYS = 2
#: Reminders go out from this local time on their day, not in the middle of the night.
REMINDER_TIME = dt.time(8, 0)

EVENT_FIELDS = (
    "title",
    "description",
    "kind",
    "location",
    "bring",
    "important",
    "remind_days_before",
)


# --- who may plan --------------------------------------------------------------------------


def _planner(actor: User) -> StaffMember:
    staff = access.staff_member_of(actor)
    if staff is None:
        raise PermissionDenied(_("Only staff can plan events."))
    return staff


def can_plan_for(actor: User, group: Group | None, school_id: int | None = None) -> bool:
    """A teacher for the groups they teach; the director and office for their school and
    its groups (``access.groups_acted_for_by``)."""
    staff = access.staff_member_of(actor)
    if staff is None:
        return False
    if group is None:
        return access.is_school_manager(actor, staff.school) and (
            school_id is None or school_id == staff.school_id
        )
    return access.may_act_for_group(actor, group)


def groups_plannable_by(actor: User):
    """The groups an actor may plan events for (form choices)."""
    return access.groups_acted_for_by(actor).order_by("year", "name")


def can_edit_event(actor: User, event: Event) -> bool:
    return can_plan_for(actor, event.group, event.school_id)


# --- the "bring this" notice -------------------------------------------------------------


def bring_notice_is_short(*, school, event_day: dt.date, now: dt.datetime | None = None) -> bool:
    """Whether fewer than two school days remain for parents to arrange what to bring.

    Counted on the school's own calendar (weekends, holidays and study days are
    not school days): the school days after today up to and including the event day.
    Written on a Friday for a Monday event, that is one day: too short.
    """
    now = now or timezone.now()
    today = worktime.local_date(now)
    cal = directory.school_calendar(school)
    days = worktime.working_days_between(cal, today + dt.timedelta(days=1), event_day)
    return days < BRING_NOTICE_SCHOOL_DAYS


# --- events ----------------------------------------------------------------------------------


def _check_dates(event: Event) -> None:
    """An event lies before the end of the next school year. Past events stay possible
    (the agenda is also a record; the demo school is built for any date)."""
    today = worktime.local_date(timezone.now())
    _earliest, latest = directory.date_bounds(event.school_id, today)
    if event.starts_on > latest:
        raise ValidationError({"starts_on": directory.too_far_ahead(latest)})
    if event.ends_on and event.ends_on > latest:
        raise ValidationError({"ends_on": directory.too_far_ahead(latest)})


def _apply_times(
    event: Event,
    *,
    all_day: bool,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
) -> None:
    event.all_day = all_day
    if all_day:
        if starts_on is None:
            raise ValidationError({"starts_on": _("Enter the first day.")})
        event.starts_on, event.ends_on = starts_on, ends_on or starts_on
        event.starts_at = event.ends_at = None
        _check_dates(event)
        return
    if starts_at is None or ends_at is None:
        raise ValidationError({"starts_at": _("Enter when the event starts and ends.")})
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValueError("event times must be aware datetimes")
    event.starts_at, event.ends_at = starts_at, ends_at
    event.starts_on = worktime.local_date(starts_at)
    event.ends_on = worktime.local_date(ends_at)
    _check_dates(event)


def _validate_and_save(
    event: Event, *, short_notice_confirmed: bool, was_bring: str = "", was_start: dt.date | None = None
) -> None:
    event.full_clean()
    bring_is_new = event.bring and (event.bring != was_bring or event.starts_on != was_start)
    if (
        bring_is_new
        and not short_notice_confirmed
        and bring_notice_is_short(school=event.school, event_day=event.starts_on)
    ):
        raise ValidationError(
            {
                "confirm_short_notice": _(
                    "Parents get less than two school days to arrange what to bring. "
                    "Confirm that you want to ask this anyway."
                )
            },
            code="short_notice",
        )
    event.save()


def event_create(
    *,
    actor: User,
    title: str,
    kind: str = Event.Kind.ACTIVITY,
    group: Group | None = None,
    all_day: bool = False,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    description: str = "",
    location: str = "",
    bring: str = "",
    important: bool = False,
    remind_days_before: int | None = None,
    short_notice_confirmed: bool = False,
) -> Event:
    """Plan an event for one group (``group``) or the actor's whole school (``group=None``).

    Raises PermissionDenied unless the actor may plan for that group or school, and
    ValidationError (field ``confirm_short_notice``, code ``short_notice``) for a
    "bring this" request less than two school days ahead that was not confirmed.
    No side effects: reminders are found by the periodic sweep.
    """
    staff = _planner(actor)
    if not can_plan_for(actor, group):
        raise PermissionDenied(_("You cannot plan events for this group."))
    event = Event(
        school_id=group.school_id if group else staff.school_id,
        group=group,
        created_by=staff,
        title=title,
        kind=kind,
        description=description,
        location=location,
        bring=bring,
        important=important,
    )
    if remind_days_before is not None:
        event.remind_days_before = remind_days_before
    _apply_times(
        event, all_day=all_day, starts_on=starts_on, ends_on=ends_on, starts_at=starts_at, ends_at=ends_at
    )
    with transaction.atomic():
        _validate_and_save(event, short_notice_confirmed=short_notice_confirmed)
    return event


def event_update(
    *,
    actor: User,
    event: Event,
    short_notice_confirmed: bool = False,
    **changes,
) -> Event:
    """Change an event. Same rules as :func:`event_create`; a group may only move to
    another group the actor may plan for. Time fields (``all_day``, ``starts_on``,
    ``ends_on``, ``starts_at``, ``ends_at``) are applied together.
    """
    if not can_edit_event(actor, event):
        raise PermissionDenied(_("You cannot change this event."))
    was_bring, was_start = event.bring, event.starts_on
    if "group" in changes:
        group = changes.pop("group")
        if not can_plan_for(actor, group, event.school_id if group is None else None):
            raise PermissionDenied(_("You cannot plan events for this group."))
        event.group = group
        if group is not None:
            event.school_id = group.school_id
    time_keys = {"all_day", "starts_on", "ends_on", "starts_at", "ends_at"}
    times = {k: changes.pop(k) for k in list(changes) if k in time_keys}
    for key, value in changes.items():
        if key not in EVENT_FIELDS:
            raise TypeError(f"unknown event field {key!r}")
        setattr(event, key, value)
    if times:
        current = {
            "all_day": event.all_day,
            "starts_on": event.starts_on,
            "ends_on": event.ends_on,
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
        }
        _apply_times(event, **{**current, **times})
    with transaction.atomic():
        _validate_and_save(
            event, short_notice_confirmed=short_notice_confirmed, was_bring=was_bring, was_start=was_start
        )
    return event


def event_delete(*, actor: User, event: Event) -> None:
    if not can_edit_event(actor, event):
        raise PermissionDenied(_("You cannot delete this event."))
    event.delete()


# --- reminders (the system) ------------------------------------------------------------------


def _reminder_moment(event: Event) -> dt.datetime:
    day = event.starts_on - dt.timedelta(days=event.remind_days_before)
    return dt.datetime.combine(day, REMINDER_TIME, tzinfo=worktime.AMSTERDAM)


def parents_who_may_see(event: Event):
    """Users of the guardians who may see this event (the agenda's access rule, for parents)."""
    relations = GuardianRelation.objects.filter(
        access__in=access.VIEW_ACCESS,
        pupil__left_on__isnull=True,
        guardian__user__isnull=False,
        guardian__user__is_active=True,
    )
    relations = (
        relations.filter(pupil__group_id=event.group_id)
        if event.group_id
        else relations.filter(pupil__school_id=event.school_id)
    )
    return User.objects.filter(pk__in=relations.values("guardian__user_id"))


def event_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind parents of important events ``remind_days_before`` days ahead (from 08:00).

    Called by the periodic sweep (actor: the system). Idempotent: the notification's
    cause ``event-reminder:<pk>`` is unique per user in the database, so a second run
    (or two workers at once) reminds nobody twice. Returns the number of new reminders.
    """
    now = now or timezone.now()
    today = worktime.local_date(now)
    candidates = Event.objects.filter(
        Q(important=True),
        starts_on__gte=today,
        starts_on__lte=today + dt.timedelta(days=90),
    ).select_related("group")
    sent = 0
    for event in candidates:
        if _reminder_moment(event) > now:
            continue
        params = {
            "title": event.title,
            "starts_at": event.starts_at,
            "starts_on": event.starts_on,
            "bring": event.bring,
        }
        sent += notify(
            users=parents_who_may_see(event),
            cause=f"event-reminder:{event.pk}",
            message="event.reminder",
            params=params,
            url=reverse("agenda:event_detail", args=[event.pk]),
        )
    return sent


# --- feed tokens ---------------------------------------------------------------------------


def feed_token_get_or_create(*, actor: User) -> FeedToken:
    """The actor's active feed token, made on first use."""
    with transaction.atomic():
        token = FeedToken.objects.select_for_update().filter(user=actor, revoked_at__isnull=True).first()
        if token is None:
            token = FeedToken.objects.create(user=actor)
    return token


def feed_token_revoke(*, actor: User) -> int:
    """Revoke the actor's feed link: calendars subscribed to it stop updating (404)."""
    return FeedToken.objects.filter(user=actor, revoked_at__isnull=True).update(revoked_at=timezone.now())


def feed_token_renew(*, actor: User) -> FeedToken:
    """Revoke the actor's feed link and make a new one, in one transaction."""
    with transaction.atomic():
        feed_token_revoke(actor=actor)
        return FeedToken.objects.create(user=actor)
