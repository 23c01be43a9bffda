"""The absences' notifications (klimop.notifications.messages): rendered in the reader's language."""

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from klimop.notifications.messages import day, register_message

from .models import LeaveRequest

_DAY = dt.date(2026, 11, 24)

register_message(
    "absence.unexplained",
    title=gettext_lazy("%(name)s is not at school"),
    body=gettext_lazy(
        "%(name)s is not at school on %(day)s and has not been reported absent. "
        "Please report the reason in Klimop, or call the school: %(phone)s."
    ),
    example={"name": "Sam", "day": _DAY, "phone": "010-1234567"},
)
register_message(
    "absence.follow_up",
    title=gettext_lazy("%(name)s has been sick for %(n)s school days"),
    body=gettext_lazy(
        "Sick since %(day)s. Please contact the parents to see how things are, and mark the task done."
    ),
    example={"name": "Sam", "n": 3, "day": _DAY},
)


def _kind(params: dict) -> str:
    try:
        return str(LeaveRequest.Kind(params["kind"]).label)
    except ValueError:
        return str(params["kind"])


def _request_body(params: dict) -> str:
    return _("%(first)s to %(last)s (%(days)s school days): %(kind)s.") % {
        "first": day(params["first"]),
        "last": day(params["last"]),
        "days": params["days"],
        "kind": _kind(params),
    }


register_message(
    "leave.request",
    title=gettext_lazy("Leave request for %(names)s"),
    body=_request_body,
    example={"names": "Sam, Noor", "first": _DAY, "last": _DAY, "days": 1, "kind": LeaveRequest.Kind.OTHER},
)


def _objection_to(params: dict) -> str:
    """To whom the parent may object (absences.selectors.objection_addressee), in the reader's
    language: the attendance officer, or the director who decided."""
    if params["to_officer"]:
        return params["officer"] or _("the attendance officer (leerplichtambtenaar) of your municipality")
    if params["director"]:
        return _("%(name)s, director of %(school)s") % {
            "name": params["director"],
            "school": params["school"],
        }
    return _("the director of %(school)s") % {"school": params["school"]}


def _decision_body(params: dict) -> str:
    """The decision as the parent reads it in the portal and the e-mail (absences.services)."""
    to = _objection_to(params)
    if params["status"] == LeaveRequest.Status.FORWARDED:
        objection = _(
            "The attendance officer will decide on your request. You may object to that decision "
            "within six weeks of its date, to %(to)s."
        ) % {"to": to}
    else:
        objection = _(
            "If you disagree with this decision, you may object in writing within six weeks of its "
            "date, to %(to)s. Please state your name, the date, the decision you object to and why."
        ) % {"to": to}
    lines = [
        _("Leave for %(names)s from %(first)s to %(last)s (%(days)s school days).")
        % {
            "names": params["names"],
            "first": day(params["first"]),
            "last": day(params["last"]),
            "days": params["days"],
        },
        "",
        _("Reasons: %(reasons)s") % {"reasons": params["reasons"]},
        "",
        objection,
    ]
    return "\n".join(lines)


_DECISION = {
    "status": LeaveRequest.Status.GRANTED,
    "names": "Sam",
    "first": _DAY,
    "last": _DAY,
    "days": 1,
    "reasons": "A family wedding.",
    "to_officer": False,
    "officer": "",
    "director": "Ms Jansen",
    "school": "De Klimop",
}
for status, title in (
    (LeaveRequest.Status.GRANTED, gettext_lazy("Your leave request has been granted")),
    (LeaveRequest.Status.REFUSED, gettext_lazy("Your leave request has been refused")),
    (
        LeaveRequest.Status.FORWARDED,
        gettext_lazy("Your leave request has been forwarded to the attendance officer"),
    ),
):
    register_message(
        f"leave.{status}", title=title, body=_decision_body, example={**_DECISION, "status": status}
    )
