"""Reads of the conversation planner, as one viewer may see them (``conversations.rules``).

``*_get_for`` raise 404 for both "missing" and "not yours". Page reads take a fixed
number of queries, however many slots a round has. Three functions are for pages other
apps own:

* :func:`staff_card_context` — the staff dashboard card (``conversations/_staff_card.html``);
* :func:`parent_card_context` — the parent's home card (``conversations/_parent_card.html``);
* :func:`bookings_for_feed` — a parent's conversations for their private iCalendar feed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.http import Http404
from django.utils import timezone

from klimop import access
from klimop.memo import memoised
from klimop.models import Group, Guardian, GuardianRelation, Pupil, StaffMember

from . import rules, services
from .models import Availability, Booking, Round, SeparateBookings, Slot

# --- building blocks ---------------------------------------------------------------------------------


def _slots(round_: Round) -> QuerySet[Slot]:
    return Slot.objects.filter(round=round_).select_related("staff__user", "availability", "group")


def free_slots(
    round_: Round, *, group: Group | None = None, now: dt.datetime | None = None
) -> QuerySet[Slot]:
    """Slots of the round nobody has booked, still to come, earliest first."""
    now = now or timezone.now()
    slots = (
        _slots(round_).filter(starts_at__gt=now).exclude(Exists(Booking.objects.filter(slot=OuterRef("pk"))))
    )
    if group is not None:
        slots = slots.filter(group=group)
    return slots.order_by("starts_at", "staff__user__last_name")


def unbooked_pupils(round_: Round, groups: QuerySet[Group] | None = None) -> QuerySet[Pupil]:
    """Pupils of the round's groups (or of ``groups``) without any booking in the round."""
    groups = round_.groups.all() if groups is None else groups
    return (
        Pupil.objects.filter(group__in=groups, left_on__isnull=True)
        .exclude(Exists(Booking.objects.filter(round=round_, pupil=OuterRef("pk"))))
        .select_related("group")
        .order_by("group__year", "group__name", "first_name")
    )


def _joint_or_own(viewer) -> Q:
    """Of a child's bookings, the ones a guardian sees: joint ones and their own separate ones."""
    return Q(guardian__isnull=True) | Q(guardian__user=viewer)


def _visible_bookings(viewer) -> QuerySet[Booking]:
    """Bookings a guardian sees: joint ones of their children, and their own separate ones."""
    if not access.is_guardian(viewer):
        return Booking.objects.none()
    return Booking.objects.filter(
        _joint_or_own(viewer), pupil__in=access.pupils_actable_by(viewer).values("pk")
    )


def _with_details(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    return bookings.select_related(
        "slot__staff__user", "slot__availability", "slot__group", "pupil__group", "round__school", "guardian"
    )


def days_of(slots) -> list[tuple[dt.date, list[Slot]]]:
    """Slots grouped by their local day (for the pages)."""
    return [
        (day, list(items)) for day, items in groupby(slots, key=lambda s: rules.local(s.starts_at).date())
    ]


# --- parents ------------------------------------------------------------------------------------------


def rounds_for_parent(*, viewer, now: dt.datetime | None = None) -> list[Round]:
    """Rounds with a group of one of the viewer's children that are not over yet."""
    today = rules.local(now or timezone.now()).date()

    def read() -> list[Round]:
        groups = access.pupils_actable_by(viewer).values("group_id")
        return list(
            Round.objects.filter(groups__in=groups, last_date__gte=today)
            .select_related("school__planner_settings")
            .distinct()
            .order_by("first_date")
        )

    # The home's quick actions and its planner card ask the same within one page.
    return memoised(("rounds_for_parent", viewer.pk, today), read)


def round_get_for_parent(*, viewer, pk: int) -> Round:
    try:
        return (
            Round.objects.select_related("school__planner_settings")
            .filter(groups__in=access.pupils_actable_by(viewer).values("group_id"))
            .distinct()
            .get(pk=pk)
        )
    except Round.DoesNotExist:
        raise Http404 from None


@dataclass
class ChildPlan:
    pupil: Pupil
    teachers: list[StaffMember]
    attends: bool
    booking: Booking | None
    may_change: bool
    separate: bool
    days: list[tuple[dt.date, list[Slot]]] = field(default_factory=list)

    @property
    def free_count(self) -> int:
        return sum(len(slots) for _day, slots in self.days)


@dataclass
class ParentRound:
    round: Round
    #: When the viewer may book, and when families without a head start may (Europe/Amsterdam).
    opens_at: dt.datetime
    others_open_at: dt.datetime
    head_start: bool
    #: The viewer may book now and other families may not yet.
    ahead_of_others: bool
    is_open: bool
    is_closed: bool
    children: list[ChildPlan]
    suggestions: list[list[tuple[Pupil, Slot]]]

    @property
    def unbooked(self) -> list[ChildPlan]:
        return [c for c in self.children if c.booking is None]


def _family_free_slots(
    round_: Round, group_ids: Iterable[int | None], now: dt.datetime, taken: Iterable[int]
) -> dict[int | None, list[Slot]]:
    """The free times of these groups (only what the booking page shows of each), per group;
    ``taken``: slot ids the viewer was just refused, left out."""
    free: dict[int | None, list[Slot]] = defaultdict(list)
    slots = (
        free_slots(round_, now=now)
        .filter(group__in=set(group_ids))
        .exclude(pk__in=list(taken))
        .select_related(None)
        .select_related("staff__user")
        .only("round", "group", "starts_at", "ends_at", "staff__user__first_name", "staff__user__last_name")
    )
    for slot in slots:
        free[slot.group_id].append(slot)
    return free


def _child_plan(viewer, round_: Round, pupil: Pupil, booking: Booking | None, *, separate: bool, free, now):
    return ChildPlan(
        # The round's pupils are in its groups: pupil.group is set.
        pupil=pupil,
        teachers=list(pupil.group.teachers.all()),  # type: ignore[union-attr]
        attends=round_.child_attends(pupil),
        booking=booking,
        may_change=bool(booking and services.may_change(booking, viewer, now)),
        separate=separate,
        days=days_of(free[pupil.group_id]),
    )


def _bookable_with_teachers(viewer, round_: Round) -> QuerySet[Pupil]:
    return (
        rules.pupils_bookable_by(viewer, round_)
        .select_related("group")
        .prefetch_related(Prefetch("group__teachers", queryset=StaffMember.objects.select_related("user")))
        .order_by("group__year", "first_name")
    )


def parent_round(
    *, viewer, round_: Round, now: dt.datetime | None = None, taken: Iterable[int] = ()
) -> ParentRound:
    """Everything the booking page shows: per child the booking or the free times, and for
    a family with more than one child to book (twins in one group too), back-to-back
    suggestions. ``taken``: ids of slots the viewer was just refused (another booking holds
    them and may not have committed yet), left out of the free times."""
    now = now or timezone.now()
    pupils = list(_bookable_with_teachers(viewer, round_))
    bookings = {b.pupil_id: b for b in _with_details(_visible_bookings(viewer).filter(round=round_))}
    separate = set(
        SeparateBookings.objects.filter(round=round_, pupil__in=pupils).values_list("pupil_id", flat=True)
    )
    # Only the free times of the family's children's groups, not every free slot of the round.
    free = _family_free_slots(round_, {p.group_id for p in pupils}, now, taken)
    times = services.openings(round_)
    opens = services.opening_for(round_, viewer, times=times)
    children = [
        _child_plan(viewer, round_, p, bookings.get(p.pk), separate=p.pk in separate, free=free, now=now)
        for p in pupils
    ]
    unbooked = [c for c in children if c.booking is None]
    suggestions = []
    if len(unbooked) > 1:
        runs = services.adjacent_runs([free[c.pupil.group_id] for c in unbooked], limit=4)
        suggestions = [list(zip([c.pupil for c in unbooked], run, strict=True)) for run in runs]
    return ParentRound(
        round=round_,
        opens_at=opens,
        others_open_at=times.others,
        head_start=opens < times.others,
        ahead_of_others=opens <= now < times.others,
        is_open=opens <= now < round_.closes_at,
        is_closed=now >= round_.closes_at,
        children=children,
        suggestions=suggestions,
    )


def refused_child_plan(
    *,
    viewer,
    round_: Round,
    pupil: Pupil,
    now: dt.datetime | None = None,
    taken: Iterable[int] = (),
    family: Iterable[int] | None = None,
) -> ChildPlan | None:
    """After a refused booking for one child (the time was just taken, or the child was booked
    meanwhile): that child's part of the booking page, read afresh, without the rest of the page.

    ``pupil`` is one the viewer may book for (``rules.pupils_bookable_by``), with its group.
    None when the family has another child still to book: its page shows back-to-back
    suggestions, which the refusal may have made stale, so the whole booking part is answered.
    ``family``: the ids of the children the viewer may book for in this round, when the caller
    has read them; a family of one child then needs no question about the others.
    Four small queries (three for a known family of one; one more when the child was booked
    meanwhile), however many children, groups and free times the round has."""
    now = now or timezone.now()
    seen = _joint_or_own(viewer)  # the pupils are the viewer's to book for: no pupils_actable_by join
    if family is None or set(family) - {pupil.pk}:
        booked = Booking.objects.filter(seen, round=round_, pupil=OuterRef("pk"))
        if rules.pupils_bookable_by(viewer, round_).exclude(pk=pupil.pk).exclude(Exists(booked)).exists():
            return None
    # Whether the child was booked meanwhile (by the other parent) and whether its parents book
    # separately, in one question; the booking's details only when there is one.
    state = (
        Pupil.objects.filter(pk=pupil.pk)
        .annotate(
            booking_id=Subquery(
                Booking.objects.filter(seen, round=round_, pupil=OuterRef("pk"))
                .order_by("pk")
                .values("pk")[:1]
            ),
            separate=Exists(SeparateBookings.objects.filter(round=round_, pupil=OuterRef("pk"))),
        )
        .values("booking_id", "separate")
        .get()
    )
    booking = None
    if state["booking_id"] is not None:
        booking = Booking.objects.select_related(
            "slot__staff__user", "slot__availability", "pupil__group"
        ).get(pk=state["booking_id"])
    if pupil.group is not None:  # the round's pupils are in its groups
        prefetch_related_objects(
            [pupil.group], Prefetch("teachers", queryset=StaffMember.objects.select_related("user"))
        )
    separate = state["separate"]
    free = _family_free_slots(round_, [pupil.group_id], now, taken) if booking is None else defaultdict(list)
    return _child_plan(viewer, round_, pupil, booking, separate=separate, free=free, now=now)


def booking_get_for(*, viewer, pk: int) -> Booking:
    """A booking the viewer shares (parent) or looks after (teacher of the group, manager)."""
    try:
        booking = _with_details(Booking.objects.all()).get(pk=pk)
    except Booking.DoesNotExist:
        raise Http404 from None
    if not rules.may_see_booking(viewer, booking):
        raise Http404
    return booking


def upcoming_bookings_for(*, viewer, now: dt.datetime | None = None) -> list[Booking]:
    now = now or timezone.now()
    return list(
        _with_details(_visible_bookings(viewer).filter(slot__ends_at__gt=now)).order_by("slot__starts_at")
    )


# --- staff --------------------------------------------------------------------------------------------


def rounds_for_staff(*, viewer, now: dt.datetime | None = None) -> list[Round]:
    """Rounds of the viewer's groups (a manager: of the school) that are not over yet."""
    now = now or timezone.now()
    staff = access.staff_member_of(viewer)
    if staff is None:
        return []
    rounds = Round.objects.filter(
        school_id=staff.school_id,
        last_date__gte=rules.local(now).date(),
        groups__in=access.groups_acted_for_by(viewer),
    )
    return list(rounds.distinct().prefetch_related("groups").order_by("first_date"))


def round_get_for_staff(*, viewer, pk: int) -> Round:
    staff = access.staff_member_of(viewer)
    if staff is None:
        raise Http404
    rounds = (
        Round.objects.filter(
            school_id=staff.school_id,
            groups__in=access.groups_acted_for_by(viewer),
        )
        .select_related("school__planner_settings")
        .distinct()
    )
    try:
        return rounds.get(pk=pk)
    except Round.DoesNotExist:
        raise Http404 from None


@dataclass
class StaffRound:
    round: Round
    groups: list[Group]
    availabilities: list[Availability]
    days: list[tuple[dt.date, list[Slot]]]
    unbooked: list[Pupil]
    pupils: list[Pupil]
    separate: set[int]
    manages: bool
    is_closed: bool

    @property
    def booked_count(self) -> int:
        return sum(1 for _d, slots in self.days for s in slots if s.booking is not None)

    @property
    def slot_count(self) -> int:
        return sum(len(slots) for _d, slots in self.days)


def _attach_bookings(slots: list[Slot]) -> list[Slot]:
    bookings = {
        b.slot_id: b
        for b in Booking.objects.filter(slot__in=slots).select_related(
            "pupil__group", "guardian", "booked_by"
        )
    }
    for slot in slots:
        slot.booking = bookings.get(slot.pk)
    return slots


def staff_round(*, viewer, round_: Round, now: dt.datetime | None = None) -> StaffRound:
    """The teacher's view of a round: their time, the slots with bookings, who has not booked."""
    now = now or timezone.now()
    groups = list(rules.staff_groups_in_round(viewer, round_))
    slots = _attach_bookings(
        list(_slots(round_).filter(group__in=groups).order_by("starts_at", "staff__user__last_name"))
    )
    availabilities = list(
        Availability.objects.filter(round=round_, group__in=groups)
        .select_related("staff__user", "group")
        .order_by("date", "starts")
    )
    pupils = list(
        Pupil.objects.filter(group__in=groups, left_on__isnull=True)
        .select_related("group")
        .order_by("group__year", "first_name")
    )
    return StaffRound(
        round=round_,
        groups=groups,
        availabilities=availabilities,
        days=days_of(slots),
        unbooked=list(unbooked_pupils(round_, Group.objects.filter(pk__in=[g.pk for g in groups]))),
        pupils=pupils,
        separate=set(SeparateBookings.objects.filter(round=round_).values_list("pupil_id", flat=True)),
        manages=rules.manages_round(viewer, round_),
        is_closed=now >= round_.closes_at,
    )


def day_schedule(*, viewer, round_: Round, day: dt.date) -> list[Slot]:
    """One day of the viewer's groups' slots with bookings and the families' names (printable)."""
    groups = rules.staff_groups_in_round(viewer, round_)
    start = services.local_datetime(day, dt.time(0))
    slots = list(
        _slots(round_)
        .filter(group__in=groups, starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=1))
        .order_by("staff__user__last_name", "starts_at")
    )
    _attach_bookings(slots)
    pupil_ids = [s.booking.pupil_id for s in slots if s.booking]
    parents: dict[int, list[Guardian]] = defaultdict(list)
    for rel in GuardianRelation.objects.filter(
        pupil__in=pupil_ids, access__in=access.ACT_ACCESS
    ).select_related("guardian"):
        parents[rel.pupil_id].append(rel.guardian)
    for slot in slots:
        slot.parents = []
        if slot.booking:
            chosen = slot.booking.guardian
            slot.parents = [chosen] if chosen else parents[slot.booking.pupil_id]
            slot.attends = round_.child_attends(slot.booking.pupil)
    return slots


# --- cards for pages other apps own -----------------------------------------------------------------


def round_state(round_: Round, now: dt.datetime) -> str:
    """Where a round stands for staff: ``upcoming``, ``head_start`` (open only for families
    with several children in it, ``services.openings``), ``open`` (for everyone) or ``closed``."""
    if now >= round_.closes_at:
        return "closed"
    if now >= round_.opens_at:
        return "open"
    if now >= services.openings(round_).several:
        return "head_start"
    return "upcoming"


def staff_card_context(user, now: dt.datetime | None = None) -> dict:
    """Context of ``conversations/_staff_card.html`` on the staff dashboard.

    ``show`` is False for users who are not staff or have no current round. Otherwise
    ``rounds``: per round its groups' slot and booking counts, how many pupils have not
    booked, whether it is open or closed; ``today``: the viewer's own booked conversations
    today (earliest first). Four queries plus one per round.
    """
    now = now or timezone.now()
    staff = access.staff_member_of(user)
    if staff is None:
        return {"show": False}
    rounds = rounds_for_staff(viewer=user, now=now)
    rows = []
    for round_ in rounds:
        groups = rules.staff_groups_in_round(user, round_)
        # The slots and their bookings in one query (a booking row per booked slot's booking).
        counts = Slot.objects.filter(round=round_, group__in=groups).aggregate(
            slots=Count("pk", distinct=True), booked=Count("bookings")
        )
        rows.append(
            {
                "round": round_,
                "slots": counts["slots"],
                "booked": counts["booked"],
                "unbooked": unbooked_pupils(round_, groups).count(),
                "state": round_state(round_, now),
            }
        )
    start = services.local_datetime(rules.local(now).date(), dt.time(0))
    today = list(
        Booking.objects.filter(
            slot__staff=staff,
            slot__starts_at__gte=start,
            slot__starts_at__lt=start + dt.timedelta(days=1),
        )
        .select_related("pupil__group", "slot")
        .order_by("slot__starts_at")
    )
    return {"show": bool(rows or today), "rounds": rows, "today": today, "now": now}


def parent_card_context(user, now: dt.datetime | None = None) -> dict:
    """Context of ``conversations/_parent_card.html`` on the parent's home.

    ``show`` is False when the user has no child in a current round. ``rounds``: per
    round whether it is open *for this user* (siblings earlier), ``opens_at`` for this
    user, ``others_open_at`` (families without a head start), ``closes_at``, the
    children still to book, and the user's bookings in it.
    """
    now = now or timezone.now()
    if not access.is_guardian(user):
        return {"show": False}
    rounds = rounds_for_parent(viewer=user, now=now)
    if not rounds:
        return {"show": False}
    # What the card shows of a booking: the child's first name, the time and the teacher.
    bookings = list(
        _visible_bookings(user)
        .filter(slot__ends_at__gt=now, round__in=[r.pk for r in rounds])
        .select_related("pupil", "slot__staff__user")
        .order_by("slot__starts_at")
    )
    pupils = list(access.pupils_actable_by(user).select_related("group").order_by("first_name"))
    prefetch_related_objects(rounds, "groups")  # one query for every round's groups
    rows: list[dict[str, Any]] = []
    for round_ in rounds:
        group_ids = {g.pk for g in round_.groups.all()}
        mine = [b for b in bookings if b.round_id == round_.pk]
        booked_ids = {b.pupil_id for b in mine}
        times = services.openings(round_)
        # ``pupils`` are the children the user acts for: those in the round decide the head start.
        in_round = sum(1 for p in pupils if p.group_id in group_ids)
        opens = services.opening_for(round_, user, times=times, children_in_round=in_round)
        rows.append(
            {
                "round": round_,
                "opens_at": opens,
                "others_open_at": times.others,
                "closes_at": round_.closes_at,
                "is_open": opens <= now < round_.closes_at,
                "is_closed": now >= round_.closes_at,
                "head_start": opens < times.others,
                "bookings": mine,
                "to_book": [p for p in pupils if p.group_id in group_ids and p.pk not in booked_ids],
            }
        )
        rows[-1]["to_book_names"] = ", ".join(p.first_name for p in rows[-1]["to_book"])
    return {"show": True, "rounds": rows, "now": now}


def bookings_for_feed(user, start: dt.datetime | dt.date, end: dt.datetime | dt.date | None = None) -> list:
    """The user's booked conversations between ``start`` and ``end`` as iCalendar VEVENTs.

    For ``communication.agenda.ical``: add each to the feed's calendar
    (``cal.add_component(event)``). A parent gets the conversations they share (joint
    bookings of their children, their own separate ones); a teacher their own slots that
    are booked. UIDs are stable per booking, so a moved conversation updates in place.
    """
    from .ical import booking_vevent

    def aware(value, default_time):
        if isinstance(value, dt.datetime):
            return value
        return services.local_datetime(value, default_time)

    start_at = aware(start, dt.time(0))
    bookings = _visible_bookings(user)
    staff = access.staff_member_of(user)
    if staff is not None:
        bookings = bookings | Booking.objects.filter(slot__staff=staff)
    bookings = bookings.filter(slot__starts_at__gte=start_at)
    if end is not None:
        bookings = bookings.filter(slot__starts_at__lt=aware(end, dt.time(23, 59, 59)))
    stamp = timezone.now()
    return [
        booking_vevent(b, stamp=stamp) for b in _with_details(bookings.distinct()).order_by("slot__starts_at")
    ]
