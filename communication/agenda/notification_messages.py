"""The agenda's notifications (klimop.notifications.messages): rendered in the reader's language."""

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from klimop.notifications.messages import day, register_message, when


def _reminder_body(params: dict) -> str:
    starts_at = params["starts_at"]
    values = {
        "title": params["title"],
        "when": when(starts_at, "d-m-Y H:i") if starts_at else day(params["starts_on"], "d-m-Y"),
        "bring": params["bring"],
    }
    if params["bring"]:
        return _("%(title)s on %(when)s. Please bring: %(bring)s") % values
    return _("%(title)s on %(when)s.") % values


register_message(
    "event.reminder",
    title=gettext_lazy("Reminder: %(title)s"),
    body=_reminder_body,
    example={
        "title": "School trip",
        "starts_at": dt.datetime(2026, 3, 29, 7, 30, tzinfo=dt.UTC),
        "starts_on": dt.date(2026, 3, 29),
        "bring": "A packed lunch",
    },
)
