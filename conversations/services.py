"""Writes of the conversation planner: rounds, availability and slots, bookings, sweeps.

Every public service takes the acting user first and checks access itself (``rules``).
Bookings rely on the database for "never double booked" (models.py): a booking first
locks only the rows of the chosen slots, in id order (a booking that holds one is a few
milliseconds from done, and if it fails the slot is still free for the next: nobody is told
"taken" about a time nobody took); the insert or move then runs in a savepoint, and a
unique-constraint violation, the last guard, becomes a translated ``SlotTaken`` /
``AlreadyBooked`` error for the user.
The pupils of a booking are locked (``select_for_update``, in id order so two multi-child
bookings cannot deadlock) so the choice "joint or separate" cannot change under a booking.
Notifications leave after commit (``notify`` enqueues on commit; the sweeps are
idempotent because a notification is unique per user and cause).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from klimop import access, worktime
from klimop import selectors as directory
from klimop.models import Group, Guardian, GuardianRelation, Pupil, School, StaffMember, User
from klimop.notifications.services import notify

from . import rules
from .models import Availability, Booking, BookingEvent, PlannerSettings, Round, SeparateBookings, Slot

logger = logging.getLogger(__name__)

#: Reminders go out from this time on the day before the conversation.
REMINDER_TIME = dt.time(8, 0)
#: Default closing: this time on the day before the first conversation day.
DEFAULT_CLOSING_TIME = dt.time(12, 0)
#: Two slots count as back to back when the second starts at most this long after the first ends.
ADJACENT_WITHIN = dt.timedelta(minutes=20)


class SlotTaken(ValidationError):  # noqa: N818 - reads as the situation, like NoWorkingTime
    """Somebody else booked this slot first, or is booking it right now (``slot_id``)."""

    slot_id: int | None = None


class AlreadyBooked(ValidationError):  # noqa: N818 - reads as the situation
    """The pupil already has a booking in this round (e.g. the other parent was quicker)."""


# --- the school's settings ----------------------------------------------------------------------


def planner_settings_for(school: School) -> PlannerSettings:
    """The school's planner settings; an unsaved row with the defaults when none were saved yet.

    Here rather than in ``selectors`` (which reads through this module): the services need them.
    """
    return directory.school_settings(school, PlannerSettings)


# --- times --------------------------------------------------------------------------------------

local_datetime = worktime.local_datetime  # the school's clock


def _when(moment: dt.datetime) -> str:
    return formats.date_format(rules.local(moment), "l j F, H:i")


def round_params(round_: Round) -> dict:
    """A round as a notification names it (conversations.notification_messages)."""
    return {"round_title": round_.title, "round_kind": round_.kind}


def default_opening(round_: Round) -> dt.datetime:
    """The school's setting: N days before the first day, at the office's opening that day (08:00)."""
    day = round_.first_date - dt.timedelta(days=planner_settings_for(round_.school).planner_opens_days_before)
    hours = {oh.weekday: oh.opens for oh in round_.school.office_hours.all()}
    return local_datetime(day, hours.get(day.weekday(), dt.time(8, 0)))


def default_closing(round_: Round) -> dt.datetime:
    return local_datetime(round_.first_date - dt.timedelta(days=1), DEFAULT_CLOSING_TIME)


def round_fill_defaults(round_: Round) -> Round:
    """Private helper (the caller checked access): fill what the director left empty."""
    if not round_.child_attends_years:
        round_.child_attends_years = sorted(planner_settings_for(round_.school).child_attends_years or [])
    if round_.opens_at is None:
        round_.opens_at = default_opening(round_)
    if round_.closes_at is None:
        round_.closes_at = default_closing(round_)
    return round_


def head_start(round_: Round) -> dt.timedelta:
    """The school's setting as a length (``PlannerSettings.planner_siblings_head_start_days``).

    Not the moment booking opens for families with several children: that is
    :func:`openings` (counted on local dates, moved to working time).
    """
    return dt.timedelta(days=planner_settings_for(round_.school).planner_siblings_head_start_days)


@dataclass(frozen=True)
class Openings:
    """When booking opens in a round, on the school's clock (Europe/Amsterdam).

    ``several``: for a family with more than one child in the round (twins in one group
    included); ``others``: for everyone else. ``several`` is working time and strictly
    before ``others`` whenever the school gives a head start, so those families are also
    invited (in office hours) before anyone else may book.
    """

    several: dt.datetime
    others: dt.datetime


def _school_year_start(cal: worktime.WorkCalendar, day: dt.date) -> dt.date | None:
    return next((first for first, last in cal.terms if first <= day <= last), None)


def openings(round_: Round, cal: worktime.WorkCalendar | None = None) -> Openings:
    """The two openings of a round: the siblings' head start and everyone else's.

    The head-start day is the general opening's local date minus the school's
    ``PlannerSettings.planner_siblings_head_start_days``, at the same local clock time (so the same
    time on both sides of a clock change). When that moment is not working time (a
    weekend, a holiday, before or after office hours), the head start opens at the
    previous working-time opening (``worktime.previous_opening``: Friday's opening for
    a Sunday), within the round's school year. When the school year has no working time
    before it (a round that opens on its first days), families with several children
    open at the year's first working time and, should that not be before the general
    opening, everyone else one working day later. Pass ``cal`` to reuse the school's
    calendar.
    """
    general = rules.local(round_.opens_at)
    days = planner_settings_for(round_.school).planner_siblings_head_start_days
    if not days:
        return Openings(several=general, others=general)
    cal = cal or directory.school_calendar(round_.school)
    wanted = local_datetime(worktime.local_date(general) - dt.timedelta(days=days), general.time())
    year_start = _school_year_start(cal, round_.first_date)
    try:
        early = wanted if worktime.is_working_time(cal, wanted) else worktime.previous_opening(cal, wanted)
    except worktime.NoWorkingTime:
        early = None
    if early is not None and (year_start is None or worktime.local_date(early) >= year_start):
        return Openings(several=early, others=general)
    try:
        early = worktime.next_opening(cal, wanted)
        if early < general:
            return Openings(several=early, others=general)
        next_day = local_datetime(worktime.local_date(early) + dt.timedelta(days=1), dt.time(0))
        return Openings(several=early, others=max(general, worktime.next_opening(cal, next_day)))
    except worktime.NoWorkingTime:  # a calendar without working time: nobody is invited anyway
        return Openings(several=wanted, others=general)


def _children_in_round(round_: Round, family: Q) -> int:
    """How many of the family's children (those they may act for) take part in the round."""
    return (
        Pupil.objects.filter(
            family,
            guardian_relations__access__in=access.ACT_ACCESS,
            left_on__isnull=True,
            group__in=round_.groups.all(),
        )
        .values("pk")
        .distinct()
        .count()
    )


def opening_for_guardian(round_: Round, guardian: Guardian | None) -> dt.datetime:
    """When this guardian may book: earlier (:func:`openings`) for a family with more than
    one child in the round, so they can book back-to-back slots."""
    times = openings(round_)
    if guardian is not None and _children_in_round(round_, Q(guardian_relations__guardian=guardian)) > 1:
        return times.several
    return times.others


def opening_for(
    round_: Round, user, *, times: Openings | None = None, children_in_round: int | None = None
) -> dt.datetime:
    """When this user may book as a parent (``times``: the round's :func:`openings`, if known;
    ``children_in_round``: how many children the user acts for take part, if already known)."""
    times = times or openings(round_)
    if not access.is_guardian(user):
        return times.others
    if children_in_round is None:
        children_in_round = _children_in_round(round_, Q(guardian_relations__guardian__user=user))
    if children_in_round > 1:
        return times.several
    return times.others


def is_open_for(round_: Round, user, now: dt.datetime) -> bool:
    return opening_for(round_, user) <= now < round_.closes_at


# --- rounds (the director, also through the admin) ---------------------------------------------


def round_save(*, actor: User, round_: Round, groups: Iterable[Group]) -> Round:
    """Create or change a round of the actor's school. Fills the school's defaults.

    Precondition: the actor manages the round's school. Groups of another school are refused.
    """
    if not rules.manages_round(actor, round_) and not actor.is_superuser:
        raise PermissionDenied(_("Only the director or the office can plan conversation rounds."))
    groups = list(groups)
    if any(g.school_id != round_.school_id for g in groups):
        raise ValidationError({"groups": _("Choose groups of this school.")})
    round_fill_defaults(round_)
    round_.full_clean(exclude=["groups"])
    with transaction.atomic():
        round_.save()
        round_.groups.set(groups)
    return round_


# --- availability and slots ------------------------------------------------------------------------


def parse_breaks(text: str) -> list[tuple[dt.time, dt.time]]:
    """ "12:00-12:30, 15:00-15:15" → [(12:00, 12:30), (15:00, 15:15)]; ValidationError otherwise."""
    breaks = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip().replace("–", "-").replace(".", ":")
        if not part:
            continue
        try:
            a, b = (p.strip() for p in part.split("-"))
            start, end = dt.time.fromisoformat(a.zfill(5)), dt.time.fromisoformat(b.zfill(5))
        except ValueError:
            raise ValidationError(
                {"breaks": _("Write breaks as 12:00-12:30, separated by commas.")}
            ) from None
        if end <= start:
            raise ValidationError({"breaks": _("A break must end after it starts.")})
        breaks.append((start, end))
    return sorted(breaks)


def slot_times(
    *,
    date: dt.date,
    starts: dt.time,
    ends: dt.time,
    breaks: Sequence[tuple[dt.time, dt.time]],
    slot_minutes: int,
    gap_minutes: int,
    end_by: dt.time,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The slots of one availability block, pure.

    Slots follow each other at ``slot_minutes + gap_minutes``; none overlaps a break (the
    next slot starts when the break ends) and none ends after ``ends`` or the school's
    latest end time ``end_by``. Times are local (Europe/Amsterdam).
    """
    length, step = dt.timedelta(minutes=slot_minutes), dt.timedelta(minutes=slot_minutes + gap_minutes)
    last = local_datetime(date, min(ends, end_by))
    pauses = [(local_datetime(date, a), local_datetime(date, b)) for a, b in breaks]
    out = []
    t = local_datetime(date, starts)
    while t + length <= last:
        clash = next(((a, b) for a, b in pauses if t < b and a < t + length), None)
        if clash is not None:
            t = clash[1]
            continue
        out.append((t, t + length))
        t += step
    return out


def availability_add(
    *,
    actor: User,
    round_: Round,
    group: Group,
    date: dt.date,
    starts: dt.time,
    ends: dt.time,
    breaks: Sequence[tuple[dt.time, dt.time]] = (),
    location: str = "",
    staff: StaffMember | None = None,
) -> Availability:
    """A teacher publishes time on one day of the round; the slots are generated at once.

    Refused: a group the actor does not teach (404), a day outside the round, a day without
    school, an end after the school's latest conversation time, an overlap with the
    teacher's own slots. A manager may add time for a teacher of the group (``staff``).
    """
    if not round_.groups.filter(pk=group.pk).exists() or not rules.may_manage_group(actor, group):
        raise Http404
    own = access.staff_member_of(actor)
    staff = staff or own
    if staff is None:  # may_manage_group holds for staff only
        raise PermissionDenied
    if staff != own and not rules.manages_round(actor, round_):
        raise PermissionDenied(_("You can only publish your own time."))
    errors: dict[str, list] = defaultdict(list)
    if not round_.first_date <= date <= round_.last_date:
        errors["date"].append(
            _("Choose a day between %(first)s and %(last)s.")
            % {
                "first": formats.date_format(round_.first_date, "j F"),
                "last": formats.date_format(round_.last_date, "j F"),
            }
        )
    elif not worktime.is_working_day(directory.school_calendar(round_.school), date):
        errors["date"].append(_("There is no school on that day."))
    if ends <= starts:
        errors["ends"].append(_("“Until” must be after “from”."))
    end_by = planner_settings_for(round_.school).conversations_end_by
    if ends > end_by:
        errors["ends"].append(
            _("Conversations at this school end by %(time)s.") % {"time": end_by.strftime("%H:%M")}
        )
    if errors:
        raise ValidationError(dict(errors))
    times = slot_times(
        date=date,
        starts=starts,
        ends=ends,
        breaks=breaks,
        slot_minutes=round_.slot_minutes,
        gap_minutes=round_.gap_minutes,
        end_by=end_by,
    )
    if not times:
        raise ValidationError({"ends": _("That time is too short for one conversation.")})
    with transaction.atomic():
        # One teacher publishes at a time, so the overlap check below cannot race itself.
        StaffMember.objects.select_for_update().filter(pk=staff.pk).first()
        overlapping = Slot.objects.filter(staff=staff, starts_at__lt=times[-1][1], ends_at__gt=times[0][0])
        if overlapping.exists():
            raise ValidationError({"starts": _("You already have conversations at that time.")})
        availability = Availability.objects.create(
            round=round_,
            staff=staff,
            group=group,
            date=date,
            starts=starts,
            ends=ends,
            breaks=[[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in breaks],
            location=location.strip(),
        )
        Slot.objects.bulk_create(
            Slot(round=round_, group=group, staff=staff, availability=availability, starts_at=a, ends_at=b)
            for a, b in times
        )
    return availability


def availability_delete(*, actor: User, availability: Availability) -> None:
    """Remove published time and its slots; refused while any of them is booked."""
    if not rules.may_manage_group(actor, availability.group):
        raise Http404
    own = access.staff_member_of(actor)
    if availability.staff_id != getattr(own, "pk", None) and not rules.manages_round(
        actor, availability.round
    ):
        raise Http404
    with transaction.atomic():
        if Booking.objects.filter(slot__availability=availability).exists():
            raise ValidationError(_("Some of these times are booked. Cancel those bookings first."))
        availability.delete()


# --- bookings --------------------------------------------------------------------------------------


def sharers_of(booking: Booking) -> list[User]:
    """The users who see this booking: the guardian of a separate booking, else every
    guardian who may act for the pupil (both custodial parents share one joint booking)."""
    if booking.guardian is not None:
        user = booking.guardian.user
        return [user] if user is not None else []
    return list(
        User.objects.filter(
            is_active=True,
            guardian__relations__pupil=booking.pupil_id,
            guardian__relations__access__in=access.ACT_ACCESS,
        ).distinct()
    )


def _record(
    booking: Booking,
    *,
    actor: User | None,
    action: str,
    old: dt.datetime | None = None,
    new: dt.datetime | None = None,
) -> BookingEvent:
    return BookingEvent.objects.create(
        round_id=booking.round_id,
        pupil_id=booking.pupil_id,
        guardian_id=booking.guardian_id,
        actor=actor,
        action=action,
        booking_id_at_time=booking.pk,
        old_starts_at=old,
        new_starts_at=new,
    )


def _notify_booked(booking: Booking, event: BookingEvent) -> None:
    slot = booking.slot
    params = {
        "child": booking.pupil.first_name,
        "when": slot.starts_at,
        "teacher": slot.staff.user.get_full_name(),
        **round_params(booking.round),
    }
    message = {
        BookingEvent.Action.BOOKED: "planner.booked",
        BookingEvent.Action.MOVED: "planner.moved",
    }[BookingEvent.Action(event.action)]
    notify(
        users=sharers_of(booking),
        cause=f"planner-booked:{event.pk}",
        message=message,
        params=params,
        url=reverse("conversations:booking_detail", args=[booking.pk]),
    )


def _check_slot(round_: Round, pupil: Pupil, slot: Slot, now: dt.datetime) -> None:
    if slot.round_id != round_.pk or slot.group_id != pupil.group_id:
        raise ValidationError(
            _("That time is not one of %(child)s's teacher in this round.") % {"child": pupil.first_name},
            code="wrong_slot",
        )
    if slot.starts_at <= now:
        raise ValidationError(_("That time has passed."), code="past")


def change_cutoff(round_: Round, slot: Slot) -> dt.datetime:
    return slot.starts_at - dt.timedelta(hours=round_.cancel_cutoff_hours)


def may_change(booking: Booking, user, now: dt.datetime) -> bool:
    """Parents change a booking until the round's cut-off before it; staff until it starts."""
    if access.staff_member_of(user) is not None and rules.may_manage_group(user, booking.slot.group):
        return booking.slot.starts_at > now
    return change_cutoff(booking.round, booking.slot) > now


def _parent_may_book(actor: User, round_: Round, now: dt.datetime, *, children_in_round: int) -> None:
    opens = opening_for(round_, actor, children_in_round=children_in_round)
    if now < opens:
        raise ValidationError(_("Booking opens on %(when)s.") % {"when": _when(opens)}, code="not_open")
    if now >= round_.closes_at:
        raise ValidationError(
            _("Booking for this round has closed. Please contact the teacher."), code="closed"
        )


def _slot_taken(slot: Slot) -> SlotTaken:
    error = SlotTaken(
        _("Sorry, someone else has just booked %(when)s. Please choose another time.")
        % {"when": _when(slot.starts_at)},
        code="slot_taken",
    )
    error.slot_id = slot.pk
    return error


def _already_booked(pupil: Pupil) -> AlreadyBooked:
    return AlreadyBooked(
        _("%(child)s already has a conversation in this round.") % {"child": pupil.first_name},
        code="already_booked",
    )


def _lock_free_slots(
    slots: Sequence[Slot], *, pupils: Iterable[Pupil] = (), moving: Booking | None = None
) -> None:
    """Lock the chosen slots' rows (in id order), then refuse a slot that has a booking.

    Only these rows are locked, and a booking holds them for milliseconds, so a rush waits
    little. Waiting rather than skipping a locked row matters when the holder fails (its
    family already had a time, a double click): the slot is then free, and the next family
    gets it instead of hearing it was taken. The unique constraint ``booking_one_per_slot``
    stays the last guard.
    ``pupils``: the children being booked (a slot one of them has is ``AlreadyBooked``, a double
    submit); ``moving``: the booking being moved, which may keep its own slot.
    """
    by_id = {p.pk: p for p in pupils}
    ids = sorted({s.pk for s in slots})
    locked = set(
        Slot.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True)
    )
    bookings = Booking.objects.filter(slot__in=ids)
    if moving is not None:
        bookings = bookings.exclude(pk=moving.pk)
    booked = dict(bookings.values_list("slot_id", "pupil_id"))
    for slot in slots:
        if slot.pk in booked and booked[slot.pk] in by_id:
            raise _already_booked(by_id[booked[slot.pk]])  # a double submit of the family's own
        if slot.pk not in locked or slot.pk in booked:
            raise _slot_taken(slot)


def _lock_pupils(pupils: Iterable[Pupil]) -> None:
    ids = sorted({p.pk for p in pupils})
    list(Pupil.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))


def _insert(booking: Booking) -> Booking:
    """Insert in a savepoint; the unique constraints turn a race into a clear error."""
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError:
        if Booking.objects.filter(slot=booking.slot_id).exists():
            raise _slot_taken(booking.slot) from None
        raise _already_booked(booking.pupil) from None
    return booking


def bookings_create(
    *,
    actor: User,
    round_: Round,
    choices: Sequence[tuple[Pupil, Slot]],
    guardian: Guardian | None = None,
    now: dt.datetime | None = None,
) -> list[Booking]:
    """Book one slot per pupil, all or none (a family books back-to-back slots in one step).

    A parent books for their own children (others: 404) while the round is open for them
    (earlier for a family with more than one child in the round: :func:`openings`), never in
    the past; staff book for pupils of their groups (on a family's behalf) at any time,
    for ``guardian`` when that pupil's parents book separately. A slot somebody else was
    quicker to take raises ``SlotTaken``; a pupil booked already raises ``AlreadyBooked``.
    Side effects (on commit): the guardians sharing each booking are notified.
    """
    now = now or timezone.now()
    if not choices:
        raise ValidationError(_("Choose a time."), code="empty")
    pupils = [p for p, _slot in choices]
    if len({p.pk for p in pupils}) != len(pupils):
        raise ValidationError(_("Choose one time per child."), code="duplicate_pupil")
    if len({s.pk for _p, s in choices}) != len(choices):
        raise ValidationError(_("Choose a different time for each child."), code="duplicate_slot")
    # The children the actor may book for as a parent in this round (one query): whether they
    # book as a parent, and whether their family has a head start (more than one child in it).
    family = set(rules.pupils_bookable_by(actor, round_).values_list("pk", flat=True))
    as_parent = all(p.pk in family for p in pupils)
    if as_parent:
        # A parent who is also staff of the group books as a parent for their own children.
        guardian = None  # their own record, read below only if a child's parents book separately
        _parent_may_book(actor, round_, now, children_in_round=len(family))
    else:
        if not all(rules.may_manage_group(actor, p.group) for p in pupils if p.group is not None):
            raise Http404
        in_round = set(round_.groups.filter(pk__in={p.group_id for p in pupils}).values_list("pk", flat=True))
        if any(p.group_id not in in_round for p in pupils):
            raise Http404
    for pupil, slot in choices:
        _check_slot(round_, pupil, slot, now)
    made = []
    # One short transaction: the slots first (refused at once when taken or being taken),
    # then the family's pupils (so "joint or separate" cannot change under the booking).
    with transaction.atomic():
        _lock_free_slots([slot for _pupil, slot in choices], pupils=pupils)
        _lock_pupils(pupils)
        separate = set(
            SeparateBookings.objects.filter(round=round_, pupil__in=pupils).values_list("pupil_id", flat=True)
        )
        for pupil, slot in choices:
            owner = None
            if pupil.pk in separate:
                if as_parent:
                    guardian = access.guardian_for(actor, pupil)
                if guardian is None:
                    raise ValidationError(
                        _("%(child)s's parents book separately: choose which parent this booking is for.")
                        % {"child": pupil.first_name},
                        code="choose_guardian",
                    )
                owner = guardian
            elif Booking.objects.filter(round=round_, pupil=pupil).exists():
                raise _already_booked(pupil)
            booking = _insert(Booking(round=round_, slot=slot, pupil=pupil, guardian=owner, booked_by=actor))
            event = _record(booking, actor=actor, action=BookingEvent.Action.BOOKED, new=slot.starts_at)
            _notify_booked(booking, event)
            made.append(booking)
    return made


def booking_move(*, actor: User, booking: Booking, slot: Slot, now: dt.datetime | None = None) -> Booking:
    """Move a booking to another free time of the same teacher's group, until the cut-off."""
    now = now or timezone.now()
    if not rules.may_see_booking(actor, booking):
        raise Http404
    if not may_change(booking, actor, now):
        raise ValidationError(
            _("This conversation can no longer be changed online. Please contact the teacher."), code="cutoff"
        )
    _check_slot(booking.round, booking.pupil, slot, now)
    if access.staff_member_of(actor) is None and change_cutoff(booking.round, slot) <= now:
        raise ValidationError(_("That time is too soon to book online."), code="cutoff")
    with transaction.atomic():
        _lock_free_slots([slot], moving=booking)
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        old = locked.slot.starts_at
        locked.slot = slot
        locked.booked_by = actor
        try:
            with transaction.atomic():
                locked.save(update_fields=["slot", "booked_by", "updated_at"])
        except IntegrityError:
            raise _slot_taken(slot) from None
        event = _record(locked, actor=actor, action=BookingEvent.Action.MOVED, old=old, new=slot.starts_at)
        _notify_booked(locked, event)
    return locked


def booking_cancel(*, actor: User, booking: Booking, now: dt.datetime | None = None) -> None:
    """Cancel until the cut-off. The other parent and the teacher are told (teacher: in working time)."""
    now = now or timezone.now()
    if not rules.may_see_booking(actor, booking):
        raise Http404
    if not may_change(booking, actor, now):
        raise ValidationError(
            _("This conversation can no longer be cancelled online. Please contact the teacher."),
            code="cutoff",
        )
    with transaction.atomic():
        locked = (
            Booking.objects.select_for_update()
            .select_related("slot__staff__user", "pupil", "round")
            .filter(pk=booking.pk)
            .first()
        )
        if locked is None:
            return  # a double submit: already cancelled
        users = sharers_of(locked)
        event = _record(locked, actor=actor, action=BookingEvent.Action.CANCELLED, old=locked.slot.starts_at)
        slot = locked.slot
        locked.delete()
        params = {"child": locked.pupil.first_name, "when": slot.starts_at}
        recipients = [u for u in users if u.pk != actor.pk]
        if slot.staff.user_id != actor.pk:
            recipients.append(slot.staff.user)
        notify(
            users=recipients,
            cause=f"planner-cancelled:{event.pk}",
            message="planner.cancelled",
            params=params,
            url=reverse("conversations:index"),
        )


def separate_bookings_set(*, actor: User, round_: Round, pupil: Pupil, allowed: bool) -> None:
    """A teacher lets this pupil's parents book apart (by exception), or joins them again.

    Refused while a booking of the other kind exists (cancel it first), so a pupil never
    has a joint and a separate booking at once.
    """
    if (
        pupil.group is None
        or not round_.groups.filter(pk=pupil.group.pk).exists()
        or not rules.may_manage_group(actor, pupil.group)
    ):
        raise Http404
    with transaction.atomic():
        _lock_pupils([pupil])
        bookings = Booking.objects.filter(round=round_, pupil=pupil)
        if allowed:
            if bookings.filter(guardian__isnull=True).exists():
                raise ValidationError(_("There is already a joint booking. Cancel it first."))
            SeparateBookings.objects.get_or_create(round=round_, pupil=pupil, defaults={"allowed_by": actor})
        else:
            if bookings.filter(guardian__isnull=False).exists():
                raise ValidationError(_("There are separate bookings. Cancel them first."))
            SeparateBookings.objects.filter(round=round_, pupil=pupil).delete()


# --- proposals at closing ------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    pupil: Pupil
    slot: Slot


def adjacent_runs(slot_lists: Sequence[Sequence[Slot]], *, limit: int = 5) -> list[list[Slot]]:
    """Back-to-back combinations: one slot from each list (in that order), each starting at
    most ``ADJACENT_WITHIN`` after the previous ends. Pure.

    Lists may be the same (twins in one group): the run then holds consecutive slots, with
    the same teacher or their duo; a slot is never used twice."""
    runs: list[list[Slot]] = []
    if not slot_lists:
        return runs
    for first in slot_lists[0]:
        run = [first]
        for later in slot_lists[1:]:
            prev = run[-1]
            nxt = next(
                (
                    s
                    for s in later
                    if prev.ends_at <= s.starts_at <= prev.ends_at + ADJACENT_WITHIN and s not in run
                ),
                None,
            )
            if nxt is None:
                break
            run.append(nxt)
        if len(run) == len(slot_lists):
            runs.append(run)
            if len(runs) >= limit:
                break
    return runs


def families(pupils: Iterable[Pupil]) -> list[list[Pupil]]:
    """Pupils grouped by the guardians who may act for them (siblings share one)."""
    pupils = list(pupils)
    parent_of: dict[int, set[int]] = defaultdict(set)
    for pupil_id, guardian_id in GuardianRelation.objects.filter(
        pupil__in=pupils, access__in=access.ACT_ACCESS
    ).values_list("pupil_id", "guardian_id"):
        parent_of[pupil_id].add(guardian_id)
    root = {p.pk: p.pk for p in pupils}

    def find(x):
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    by_guardian: dict[int, int] = {}
    for pupil in pupils:
        for guardian_id in parent_of[pupil.pk]:
            if guardian_id in by_guardian:
                root[find(pupil.pk)] = find(by_guardian[guardian_id])
            else:
                by_guardian[guardian_id] = pupil.pk
    grouped: dict[int, list[Pupil]] = defaultdict(list)
    for pupil in pupils:
        grouped[find(pupil.pk)].append(pupil)
    return sorted(grouped.values(), key=lambda f: (-len(f), f[0].last_name, f[0].first_name))


def proposals_for(*, actor: User, round_: Round, now: dt.datetime | None = None) -> list[Proposal]:
    """The planner's suggestion for every pupil without a booking (director, at closing).

    Families with several children get back-to-back slots with the different teachers where
    possible, then everyone else the earliest free time of their group. Nothing is stored:
    the director confirms the list (``bookings_create`` per family).
    """
    if not rules.manages_round(actor, round_):
        raise Http404
    now = now or timezone.now()
    from .selectors import free_slots, unbooked_pupils

    free: dict[int | None, list[Slot]] = defaultdict(list)
    for slot in free_slots(round_, now=now):
        free[slot.group_id].append(slot)
    taken: set[int] = set()
    out: list[Proposal] = []
    for family in families(unbooked_pupils(round_)):
        # Unbooked pupils are in the round's groups: p.group is set.
        family = sorted(family, key=lambda p: (p.group.year, p.first_name))  # type: ignore[union-attr]
        lists = [[s for s in free[p.group_id] if s.pk not in taken] for p in family]
        runs = adjacent_runs(lists, limit=1) if len(family) > 1 else []
        first_free: list[Slot | None] = []
        for lst in lists:  # twins share a list: each gets its own slot
            first_free.append(next((s for s in lst if s not in first_free), None))
        chosen: Sequence[Slot | None] = runs[0] if runs else first_free
        for pupil, proposed in zip(family, chosen, strict=True):
            if proposed is not None:
                taken.add(proposed.pk)
                out.append(Proposal(pupil=pupil, slot=proposed))
    return out


def proposals_confirm(
    *, actor: User, round_: Round, pairs: Sequence[tuple[Pupil, Slot]], now: dt.datetime | None = None
) -> tuple[int, list[str]]:
    """Book the confirmed proposals, family by family; returns (booked, problems)."""
    if not rules.manages_round(actor, round_):
        raise Http404
    booked, problems = 0, []
    by_family: dict[int, list[tuple[Pupil, Slot]]] = {}
    index = {p.pk: i for i, fam in enumerate(families([p for p, _s in pairs])) for p in fam}
    for pupil, slot in pairs:
        by_family.setdefault(index[pupil.pk], []).append((pupil, slot))
    for family_pairs in by_family.values():
        try:
            booked += len(bookings_create(actor=actor, round_=round_, choices=family_pairs, now=now))
        except ValidationError as exc:
            problems.extend(exc.messages)
    return booked, problems


# --- sweeps (the system) ---------------------------------------------------------------------------


def _guardian_users_by_round(round_: Round) -> dict[int, tuple[User, set[int]]]:
    """user id → (user, the children in the round they may act for)."""
    relations = GuardianRelation.objects.filter(
        access__in=access.ACT_ACCESS,
        pupil__left_on__isnull=True,
        pupil__group__in=round_.groups.all(),
        guardian__user__isnull=False,
        guardian__user__is_active=True,
    ).values_list("guardian__user_id", "pupil_id")
    users = {u.pk: u for u in User.objects.filter(pk__in={uid for uid, _p in relations})}
    out: dict[int, tuple[User, set[int]]] = {}
    for user_id, pupil_id in relations:
        out.setdefault(user_id, (users[user_id], set()))[1].add(pupil_id)
    return out


def invitations_send(*, now: dt.datetime | None = None) -> int:
    """Invite every guardian who may book, at their opening, within the school's office hours.

    Families with more than one child in the round are invited at their head start
    (:func:`openings`), which is working time before anyone else may book; their
    invitation says until when they have the round to themselves. Beat sweep (actor: the
    system). Idempotent: the cause ``planner-invite:<round>`` is unique per user, so a
    second run (or a second worker) invites nobody twice; a guardian added to the
    directory later is invited by the next run.
    """
    now = now or timezone.now()
    sent = 0
    calendars: dict[int, worktime.WorkCalendar] = {}
    for round_ in Round.objects.filter(closes_at__gt=now).select_related("school__planner_settings"):
        if round_.school_id not in calendars:
            calendars[round_.school_id] = directory.school_calendar(round_.school)
        cal = calendars[round_.school_id]
        times = openings(round_, cal)
        if now < times.several or not worktime.is_working_time(cal, now):
            continue
        head_start_given = times.several < times.others
        several, others = [], []
        for user, pupils in _guardian_users_by_round(round_).values():
            if head_start_given and len(pupils) > 1:
                several.append(user)
            elif times.others <= now:
                others.append(user)
        params = {
            **round_params(round_),
            "closes": round_.closes_at,
            "opens": times.several,
            "others": times.others,
        }
        url = reverse("conversations:round", args=[round_.pk])
        cause = f"planner-invite:{round_.pk}"
        if several:
            message = "planner.invite_head_start"
            sent += notify(users=several, cause=cause, message=message, params=params, url=url)
        if others:
            sent += notify(users=others, cause=cause, message="planner.invite", params=params, url=url)
    return sent


def reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind the guardians of tomorrow's conversations, from 08:00 today. Idempotent
    (cause per booking and time: a booking moved to another day is reminded again)."""
    now = now or timezone.now()
    local = rules.local(now)
    if local.time() < REMINDER_TIME:
        return 0
    tomorrow = local.date() + dt.timedelta(days=1)
    bookings = Booking.objects.filter(
        slot__starts_at__gte=local_datetime(tomorrow, dt.time(0)),
        slot__starts_at__lt=local_datetime(tomorrow + dt.timedelta(days=1), dt.time(0)),
    ).select_related("slot__staff__user", "pupil", "round", "guardian__user", "slot__availability")
    sent = 0
    for booking in bookings:
        slot = booking.slot
        params = {
            "child": booking.pupil.first_name,
            "when": slot.starts_at,
            "teacher": slot.staff.user.get_full_name(),
            **round_params(booking.round),
        }
        sent += notify(
            users=sharers_of(booking),
            cause=f"planner-reminder:{booking.pk}:{slot.starts_at:%Y%m%d%H%M}",
            message="planner.reminder",
            params=params,
            url=reverse("conversations:booking_detail", args=[booking.pk]),
        )
    return sent


def closing_notices_send(*, now: dt.datetime | None = None) -> int:
    """At closing, tell each group's teachers how many families did not book (once per
    round and group; delivered in each teacher's working time)."""
    now = now or timezone.now()
    from .selectors import unbooked_pupils

    sent = 0
    for round_ in Round.objects.filter(
        closes_at__lte=now, closes_at__gt=now - dt.timedelta(days=3), last_date__gte=rules.local(now).date()
    ):
        missing: dict[int | None, int] = defaultdict(int)
        for pupil in unbooked_pupils(round_):
            missing[pupil.group_id] += 1
        for group in round_.groups.all():
            count = missing.get(group.pk, 0)
            params = {**round_params(round_), "group": group.name, "count": count}
            sent += notify(
                users=[s.user for s in group.teachers.select_related("user")],
                cause=f"planner-closed:{round_.pk}:{group.pk}",
                message="planner.closed",
                params=params,
                url=reverse("conversations:staff_round", args=[round_.pk]),
            )
    return sent
