"""The planner's part of the demo school (``manage.py demo_school``, orchestrated by ``demo/``).

A round of report conversations about two weeks ahead, through ``conversations.services`` at
the moments it happened (``time_machine``, and the services' own ``now``): the director planned
it a week before booking opened, the class teachers gave their time two days later. All sixteen
groups take part (children of groups 5–8 join, the school's setting), so ouder@, with children in
5a and 2b, has the siblings' head start: booking opens on the build day at 08:00
(``planner_opens_days_before``; around a weekend or holiday a day or two sooner or, failing that,
within days) and a day earlier for them, so they can book right away. Four other sibling families
booked back to back in their head start (and read the confirmation). Everyone who may book was
invited when booking opened for them (the invitation sweep).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import time_machine

from klimop import worktime
from klimop.demo import DemoSchool
from klimop.models import School, User
from klimop.notifications.models import Notification
from klimop.notifications.services import notification_mark_read

from . import selectors, services
from .models import Booking, BookingEvent, Round, Slot

#: The round's name; the children of the school's ``child_attends_years`` (5–8) join in.
TITLE = "Rapportgesprekken"
#: Every class teacher's time on each of the two conversation days.
HOURS = (dt.time(13, 0), dt.time(16, 30))
#: Families with children in several groups who used their head start and booked already.
EARLY_FAMILIES = 4


@contextmanager
def _at(moment: dt.datetime) -> Iterator[dt.datetime]:
    with time_machine.travel(moment, tick=False):
        yield moment


def _next_school_day(cal: worktime.WorkCalendar, day: dt.date, horizon: int) -> dt.date | None:
    for n in range(horizon):
        if worktime.is_working_day(cal, day + dt.timedelta(days=n)):
            return day + dt.timedelta(days=n)
    return None


def _conversation_days(
    cal: worktime.WorkCalendar, today: dt.date, opens_days_before: int
) -> tuple[dt.date, dt.date] | None:
    """Two school days close together, the first ``opens_days_before`` days after ``today``
    (booking opens today) or up to two days sooner (it opened just before); failing that,
    later (it opens within days). None near the end of the school year."""
    offsets = [opens_days_before - n for n in range(3)] + [opens_days_before + n for n in range(1, 15)]
    for offset in offsets:
        first = today + dt.timedelta(days=offset)
        if offset < 1 or not worktime.is_working_day(cal, first):
            continue
        following = _next_school_day(cal, first + dt.timedelta(days=1), horizon=4)
        if following:
            return first, following
    return None


def round_create(
    *,
    demo: DemoSchool,
    director: User,
    groups: Sequence[str],
    sibling_bookers: Sequence[User],
    moment: dt.datetime,
    today: dt.date,
    rng: random.Random,
) -> None:
    """The round for ``groups``; ``sibling_bookers`` (one parent with an account of each family
    with children in several groups, but no demo login) are who may have booked early."""
    school, cal = demo.school, demo.calendar
    days = _conversation_days(cal, today, services.planner_settings_for(school).planner_opens_days_before)
    if days is None:
        return
    round_ = Round(school=school, kind=Round.Kind.REPORT, title=TITLE, first_date=days[0], last_date=days[1])
    planned = min(moment, services.default_opening(round_)) - dt.timedelta(days=7)
    with _at(planned):
        services.round_save(actor=director, groups=[demo.groups[name] for name in groups], round_=round_)
    with _at(planned + dt.timedelta(days=2)):
        for name in groups:
            for day in days:
                services.availability_add(
                    actor=demo.teacher_on(name, day),
                    round_=round_,
                    group=demo.groups[name],
                    date=day,
                    starts=HOURS[0],
                    ends=HOURS[1],
                    location=f"Lokaal {name}",
                )

    early = round_.opens_at - services.head_start(round_)
    if early < moment:
        chosen = rng.sample(list(sibling_bookers), min(EARLY_FAMILIES, len(sibling_bookers)))
        times = sorted(
            min(
                early + dt.timedelta(hours=rng.randint(1, 12), minutes=rng.randint(0, 59)),
                moment - dt.timedelta(minutes=5),
            )
            for _ in chosen
        )
        for booker, at in zip(chosen, times, strict=True):
            with _at(at):
                view = selectors.parent_round(viewer=booker, round_=round_, now=at)
                choices = (
                    rng.choice(view.suggestions)
                    if view.suggestions
                    else [(c.pupil, c.days[0][1][0]) for c in view.unbooked if c.days]
                )
                booked = services.bookings_create(actor=booker, round_=round_, choices=choices, now=at)
            # The family read the confirmation a minute later.
            events = BookingEvent.objects.filter(booking_id_at_time__in=[b.pk for b in booked])
            causes = [f"planner-booked:{pk}" for pk in events.values_list("pk", flat=True)]
            for note in Notification.objects.filter(cause__in=causes).select_related("user"):
                with _at(max(at + dt.timedelta(minutes=1), note.deliver_at)):
                    notification_mark_read(actor=note.user, notification_ids=[note.pk])

    # The invitation sweep, as it ran when booking opened for the siblings and for everyone (not
    # yet, when the demo is built before that: the real sweep will).
    for at in sorted({worktime.next_opening(cal, early), worktime.next_opening(cal, round_.opens_at)}):
        if demo.has_happened(at):
            with _at(at):
                services.invitations_send(now=at)


def summary(school: School) -> dict[str, object]:
    rounds = Round.objects.filter(school=school)
    first = rounds.order_by("first_date").first()
    if first is None:
        return {"planner": "0 rounds"}
    slots = Slot.objects.filter(round__school=school).count()
    booked = Booking.objects.filter(round__school=school).count()
    opens = first.opens_at.astimezone(worktime.AMSTERDAM)
    return {
        "planner": (
            f"{rounds.count()} round ({first.name}, {first.groups.count()} groups, "
            f"{first.first_date:%d-%m} and {first.last_date:%d-%m-%Y}): {slots} slots, "
            f"{booked} booked; booking opens {opens:%d-%m-%Y %H:%M}, "
            f"siblings {services.head_start(first).days} day(s) earlier"
        )
    }
