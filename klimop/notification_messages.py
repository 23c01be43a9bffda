"""The core's notifications (klimop.notifications.messages): rendered in the reader's language."""

import datetime as dt

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from klimop.notifications.messages import register_message

from .models import Region
from .selectors import national_day_state

register_message(
    "school_year.unknown",
    title=gettext_lazy("Please enter school year %(name)s"),
    body=gettext_lazy(
        "The national calendar in Klimop does not know the holidays of school year "
        "%(name)s yet. Please enter the school year with its holidays and study days. "
        "Until then Klimop counts on the school being closed in July and August and "
        "on public holidays."
    ),
    example={"name": "2027/2028"},
)


def _region(code: str) -> str:
    try:
        return str(Region(code).label)
    except ValueError:
        return code


def _school_year_entered(params: dict) -> str:
    lines = [
        _(
            "Klimop has entered school year %(name)s from the national calendar of region "
            "%(region)s: from %(first)s to %(last)s, with its school holidays and public "
            "holidays. Please add your study days and other days off."
        )
        % {
            "name": params["name"],
            "region": _region(params["region"]),
            "first": formats.date_format(params["first"], "j F Y"),
            "last": formats.date_format(params["last"], "j F Y"),
        },
        _(
            "On Good Friday and Liberation Day the school decides whether it is open. "
            "Klimop has entered them as follows; change a day under Days without school."
        ),
    ]
    for date, is_good_friday, closed_name in params["days"]:
        day, state = national_day_state(dt.date.fromisoformat(date), is_good_friday, closed_name)
        lines.append(f"{day}: {state}")
    return "\n".join(lines)


register_message(
    "school_year.entered",
    title=gettext_lazy("School year %(name)s is ready: add your study days"),
    body=_school_year_entered,
    example={
        "name": "2027/2028",
        "region": Region.MIDDLE,
        "first": dt.date(2027, 8, 23),
        "last": dt.date(2028, 8, 20),
        "days": [[dt.date(2028, 4, 14), True, None], [dt.date(2028, 5, 5), False, "Bevrijdingsdag"]],
    },
)
