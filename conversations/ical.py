"""A booked conversation as iCalendar (RFC 5545): the .ics download and the parent's feed.

Uses the agenda's Europe/Amsterdam VTIMEZONE (``communication.agenda.ical``), so the conversation
shows at the same wall-clock time in every calendar app.
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

from .models import Booking

PRODID = "-//Klimop//Oudergesprekken//NL"


def booking_vevent(booking: Booking, *, stamp: dt.datetime | None = None) -> VEvent:
    slot = booking.slot
    ev = VEvent()
    ev.add("uid", f"conversation-{booking.pk}@klimop")
    ev.add("dtstamp", stamp or timezone.now())
    ev.add("dtstart", timezone.localtime(slot.starts_at, worktime.AMSTERDAM))
    ev.add("dtend", timezone.localtime(slot.ends_at, worktime.AMSTERDAM))
    ev.add("last-modified", booking.updated_at)
    ev.add(
        "summary",
        _("%(round)s about %(child)s") % {"round": booking.round.name, "child": booking.pupil.first_name},
    )
    lines = [
        _("With %(teacher)s (group %(group)s).")
        % {"teacher": slot.staff.user.get_full_name(), "group": slot.group.name}
    ]
    if booking.round.child_attends(booking.pupil):
        lines.append(_("%(child)s comes along to this conversation.") % {"child": booking.pupil.first_name})
    ev.add("description", "\n".join(lines))
    location = slot.availability.location or booking.round.school.name
    ev.add("location", location)
    ev.add("url", settings.SITE_URL + reverse("conversations:booking_detail", args=[booking.pk]))
    return ev


def booking_calendar(booking: Booking) -> bytes:
    """A one-event calendar file for "add to my calendar"."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add_component(amsterdam_vtimezone())
    cal.add_component(booking_vevent(booking))
    return cal.to_ical()
