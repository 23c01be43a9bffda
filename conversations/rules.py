"""Who may do what in the planner. Built on ``klimop.access`` only (one set of definitions).

* A guardian books for the children they may *act* for (``access.pupils_actable_by``):
  parents with gezag and full access. Step-parents without consent, parents without
  gezag (information on request) and barred parents cannot book, and learn nothing.
* A separate booking belongs to one guardian; a joint booking to all who may act.
* Staff manage the slots and bookings of the groups they teach (duo-teachers share);
  the director and the office manage every round of their school.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from klimop import access
from klimop.models import Group, Pupil, StaffMember

from .models import Booking, Round


def manages_round(user, round_: Round) -> bool:
    """Director or office of the round's school."""
    return access.is_school_manager(user, round_.school)


def may_manage_group(user, group: Group) -> bool:
    """Teaches the group, or manages its school (``access.groups_acted_for_by``)."""
    return access.may_act_for_group(user, group)


def staff_groups_in_round(user, round_: Round) -> QuerySet[Group]:
    """The round's groups this staff member looks after (all of them for a manager)."""
    return round_.groups.filter(pk__in=access.groups_acted_for_by(user).values("pk")).order_by("year", "name")


def pupils_bookable_by(user, round_: Round) -> QuerySet[Pupil]:
    """The viewer's children who take part in this round."""
    return access.pupils_actable_by(user).filter(group__in=round_.groups.all())


def may_see_booking(user, booking: Booking) -> bool:
    if access.can_act_for_pupil(user, booking.pupil) and (
        booking.guardian_id is None or booking.guardian_id in {g.pk for g in access.guardian_records_of(user)}
    ):
        return True
    staff = access.staff_member_of(user)
    return staff is not None and may_manage_group(user, booking.slot.group)


def is_staff_for(user, round_: Round) -> StaffMember | None:
    staff = access.staff_member_of(user)
    if staff is None or staff.school_id != round_.school_id:
        return None
    return staff


def local(moment: dt.datetime) -> dt.datetime:
    from django.utils import timezone

    from klimop.worktime import AMSTERDAM

    return timezone.localtime(moment, AMSTERDAM)
