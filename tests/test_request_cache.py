"""The per-page memo of school calendars (``klimop.memo.request_memo``).

The staff dashboard and the parent's home show several cards that each need the school's
calendar; within one page it is built once. Nothing is kept between requests: a day off the
office enters counts on the very next page.
"""

import datetime as dt

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from klimop import access, selectors, services
from klimop.memo import request_memo
from tests import factories as f
from tests.planner_times import WHILE_OPEN

pytest_plugins = ["tests.planner_cast"]

# A Monday in term time, within office hours.
MONDAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def _calendar_reads(queries) -> int:
    return sum(1 for q in queries.captured_queries if "klimop_officehours" in q["sql"])


def test_one_calendar_per_school_within_a_page_and_a_fresh_one_after_it(school_year, director):
    school = school_year.school
    with CaptureQueriesContext(connection) as queries, request_memo():
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


#: The access rule for the children a guardian acts for, as PostgreSQL and SQLite are sent it.
ACTS_FOR = '"klimop_guardianrelation"."access" IN (\'full\')'


def _relation_reads(queries) -> int:
    """Reads of which children a guardian acts for (``access.pupils_actable_by``'s relations)."""
    return sum(1 for q in queries.captured_queries if ACTS_FOR in q["sql"])


def test_within_a_page_the_children_a_parent_acts_for_are_read_once(parent, child, group):
    """Every card asks the access rules for the parent's children; inside one page the relations
    are read once and the cards get the same children. A child added afterwards is on the next."""
    with CaptureQueriesContext(connection) as queries, request_memo():
        first = list(access.pupils_actable_by(parent.user))
        again = list(access.pupils_actable_by(parent.user).filter(group=group))
    assert first == again == [child]
    assert _relation_reads(queries) == 1

    sibling = f.PupilFactory(group=group, first_name="Mees", last_name="Testkind")
    f.GuardianRelationFactory(pupil=sibling, guardian=parent)
    with request_memo():
        assert set(access.pupils_actable_by(parent.user)) == {child, sibling}
    # Outside a page every call reads the relations, as services and tasks need.
    with CaptureQueriesContext(connection) as queries:
        assert access.pupils_actable_by(parent.user).count() == 2
        assert access.pupils_actable_by(parent.user).count() == 2
    assert _relation_reads(queries) == 2


@time_machine.travel(WHILE_OPEN, tick=False)
def test_the_parents_home_reads_the_children_and_the_rounds_once(client, parent, child, slots_5a):
    """The home's quick actions, its absence card and its planner card share one reading of
    the parent's children and of the coming rounds; the page still offers the round."""
    client.force_login(parent.user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("home")).content.decode()
    assert _relation_reads(queries) == 1
    assert sum(1 for q in queries.captured_queries if 'FROM "conversations_round"' in q["sql"]) == 1
    assert slots_5a[0].round.title in page
