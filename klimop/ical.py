"""iCalendar pieces every feature's calendar file shares (the agenda feed, a booked conversation)."""

from __future__ import annotations

import datetime as dt

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur


def amsterdam_vtimezone() -> Timezone:
    """Europe/Amsterdam: CET (+01:00), CEST (+02:00) from the last Sunday of March 02:00
    to the last Sunday of October 03:00 local time (EU directive 2000/84/EC)."""
    tz = Timezone()
    tz.add("tzid", "Europe/Amsterdam")
    tz.add("x-lic-location", "Europe/Amsterdam")
    summer = TimezoneDaylight()
    summer.add("tzname", "CEST")
    summer.add("tzoffsetfrom", dt.timedelta(hours=1))
    summer.add("tzoffsetto", dt.timedelta(hours=2))
    summer.add("dtstart", dt.datetime(1970, 3, 29, 2, 0))  # noqa: DTZ001 - floating local time (RFC 5545 3.6.5)
    summer.add("rrule", vRecur(freq="YEARLY", bymonth=3, byday="-1SU"))
    winter = TimezoneStandard()
    winter.add("tzname", "CET")
    winter.add("tzoffsetfrom", dt.timedelta(hours=2))
    winter.add("tzoffsetto", dt.timedelta(hours=1))
    winter.add("dtstart", dt.datetime(1970, 10, 25, 3, 0))  # noqa: DTZ001 - floating local time
    winter.add("rrule", vRecur(freq="YEARLY", bymonth=10, byday="-1SU"))
    tz.add_component(summer)
    tz.add_component(winter)
    return tz
