"""The per-page memo of school calendars (``klimop.selectors.request_memo``).

The staff dashboard and the parent's home show several cards that each need the school's
calendar; within one page it is built once. Nothing is kept between requests: a day off the
office enters counts on the very next page.
"""

import datetime as dt

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from klimop import selectors, services

# A Monday in term time, within office hours.
MONDAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def _calendar_reads(queries) -> int:
    return sum(1 for q in queries.captured_queries if "klimop_officehours" in q["sql"])


def test_one_calendar_per_school_within_a_page_and_a_fresh_one_after_it(school_year, director):
    school = school_year.school
    with CaptureQueriesContext(connection) as queries, selectors.request_memo():
        first = selectors.school_calendar(school)
        again = selectors.school_calendar(school)
        staff = selectors.staff_calendar(director)
    assert again is first
    assert staff.closed_dates == first.closed_dates
    assert _calendar_reads(queries) == 1

    # Outside a page nothing is memoised: every call reads the database.
    with CaptureQueriesContext(connection) as queries:
        selectors.school_calendar(school)
        selectors.school_calendar(school)
    assert _calendar_reads(queries) == 2


@time_machine.travel(MONDAY, tick=False)
def test_a_day_off_entered_between_two_requests_is_on_the_next_page(client, school_year, director):
    client.force_login(director.user)
    url = reverse("staff_dashboard")
    with CaptureQueriesContext(connection) as queries:
        before = client.get(url).content.decode()
    assert _calendar_reads(queries) == 1  # the absence card and the quality card share it
    assert "Vandaag geen school." not in before

    services.study_day_add(
        actor=director.user, school=school_year.school, date=MONDAY.date(), name="Studiedag"
    )

    after = client.get(url).content.decode()
    assert "Vandaag geen school." in after
