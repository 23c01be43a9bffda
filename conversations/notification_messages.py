"""The planner's notifications (klimop.notifications.messages): rendered in the reader's language."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from klimop.notifications.messages import register_message

from .models import Round


def _round(params: dict) -> dict:
    """A round's name in the reader's language: its title, or its kind's label (Round.name)."""
    try:
        label = Round.Kind(params["round_kind"]).label
    except ValueError:
        label = params["round_kind"]
    return {"round": params["round_title"] or str(label)}


_ROUND = {"round_title": "", "round_kind": Round.Kind.values[0]}
_MOMENT = dt.datetime(2026, 11, 3, 14, 30, tzinfo=dt.UTC)
_BOOKING = {"child": "Sam", **_ROUND, "teacher": "Ms Jansen", "when": _MOMENT}

register_message(
    "planner.booked",
    title=_("Conversation booked for %(child)s"),
    body=_("%(round)s with %(teacher)s on %(when)s."),
    example=_BOOKING,
    derive=_round,
)
register_message(
    "planner.moved",
    title=_("Conversation for %(child)s moved"),
    body=_("%(round)s with %(teacher)s on %(when)s."),
    example=_BOOKING,
    derive=_round,
)
register_message(
    "planner.cancelled",
    title=_("Conversation for %(child)s cancelled"),
    body=_("The conversation on %(when)s has been cancelled."),
    example={"child": "Sam", "when": _MOMENT},
)
register_message(
    "planner.reminder",
    title=_("Tomorrow: conversation about %(child)s"),
    body=_("%(round)s with %(teacher)s on %(when)s."),
    example=_BOOKING,
    derive=_round,
)
_INVITE = {**_ROUND, "closes": _MOMENT, "opens": _MOMENT, "others": _MOMENT}
register_message(
    "planner.invite",
    title=_("%(round)s: book your conversation"),
    body=_("Booking is open until %(closes)s. Choose a time that suits you."),
    example=_INVITE,
    derive=_round,
)
register_message(
    "planner.invite_head_start",
    title=_("%(round)s: book your conversation"),
    body=_(
        "You have more than one child in this round, so you may book before other "
        "families: you from %(opens)s, other families from %(others)s. That way your "
        "conversations can follow each other. Booking is open until %(closes)s."
    ),
    example=_INVITE,
    derive=_round,
)
register_message(
    "planner.closed",
    title=_("Booking closed: %(round)s, group %(group)s"),
    body=_("Families without a booking: %(count)s."),
    example={**_ROUND, "group": "5a", "count": 3},
    derive=_round,
)
