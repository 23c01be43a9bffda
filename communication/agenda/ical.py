"""Build a user's private agenda feed (RFC 5545) with the ``icalendar`` library.

Timed events are written in Europe/Amsterdam local time with TZID and a
VTIMEZONE, so calendar apps show them at the same wall-clock time on both
sides of a daylight-saving change. The VTIMEZONE is the EU summer-time rule
as two RRULEs (in force since 1996), the form Outlook and Google publish:
icalendar's ``add_missing_timezones()`` writes one long multi-valued RDATE
list instead, and some readers (vobject, hence some clients) keep only the
first date of it and then show every summer event an hour off. Days without
school and all-day events are DATE values (DTEND exclusive, as the RFC asks).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar
from icalendar import Event as VEvent

from klimop import worktime
from klimop.ical import amsterdam_vtimezone

from .selectors import AgendaItem

PRODID = "-//Klimop//Agenda//NL"


def build_feed(items: list[AgendaItem], *, name: str, extra_events=()) -> bytes:
    """The feed: agenda items, plus ready-made VEVENTs of other capabilities (planner bookings)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Amsterdam")
    # Calendar apps poll subscribed feeds; hint a few hours (RFC 7986 REFRESH-INTERVAL).
    cal.add("refresh-interval", dt.timedelta(hours=4), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT4H")
    cal.add_component(amsterdam_vtimezone())
    stamp = timezone.now()
    for item in items:
        cal.add_component(_vevent(item, stamp))
    for event in extra_events:
        cal.add_component(event)
    return cal.to_ical()


def _vevent(item: AgendaItem, stamp: dt.datetime) -> VEvent:
    ev = VEvent()
    ev.add("uid", item.uid)
    ev.add("dtstamp", stamp)
    event = item.event
    if event is not None and not event.all_day:
        ev.add("dtstart", timezone.localtime(event.starts_at, worktime.AMSTERDAM))
        ev.add("dtend", timezone.localtime(event.ends_at, worktime.AMSTERDAM))
    else:
        ev.add("dtstart", item.starts_on)
        ev.add("dtend", item.ends_on + dt.timedelta(days=1))
        ev.add("transp", "TRANSPARENT")
    summary = item.title
    if event is not None and event.group_id:
        summary = f"{item.title} ({event.group})"
    ev.add("summary", summary)
    if event is None:
        ev.add("categories", [_("No school")])
        return ev
    ev.add("last-modified", event.updated_at)
    ev.add("categories", [str(event.get_kind_display())])
    lines = [event.description] if event.description else []
    if event.bring:
        lines.append(_("Please bring: %(bring)s") % {"bring": event.bring})
    if lines:
        ev.add("description", "\n\n".join(lines))
    if event.location:
        ev.add("location", event.location)
    ev.add("url", settings.SITE_URL + reverse("agenda:event_detail", args=[event.pk]))
    return ev
