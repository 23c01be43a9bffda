"""Query counts of the busiest pages at two data sizes: the small cast of tests/conftest.py and a
school ten times larger (groups, pupils, posts, notifications, slots). Each page's count is the
same at both sizes and stays under its bound; only the page's own data grows the page.

The parent home and the teacher dashboard are also checked against a growing number of one
parent's children and one teacher's pupils in tests/test_pages.py; the planner's pages in
tests/test_planner.py.
"""

import datetime as dt

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communication.posts.services import post_create
from conversations import services as planner
from klimop.notifications.services import notify
from tests import factories as f
from tests.planner_times import FIRST_DAY, WHILE_OPEN

pytest_plugins = ["tests.planner_cast"]

# A Monday in term time, within office hours (posts are published at once).
MONDAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))

HOME_MAX = 20  # + the quick actions on a parent's home (3; tests/test_pages.py)
TEACHER_DASHBOARD_MAX = 18
DIRECTOR_DASHBOARD_MAX = 27  # the quality card's parents-active figure: two counts, not every relation
BOOKING_PAGE_MAX = 14
NOTIFICATIONS_MAX = 8


def _count(client, url, **params) -> int:
    client.get(url, params)  # warm: read markers written, caches filled
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


def _grow_school(school_year, *, groups: int, pupils: int) -> list:
    """More groups with a teacher and pupils (each with a parent) in the same school."""
    made = []
    for i in range(groups):
        group = f.GroupFactory(school_year=school_year, name=f"x{i}", year=1 + i % 8)
        f.StaffMemberFactory(school=school_year.school, groups=[group])
        for _ in range(pupils):
            f.GuardianRelationFactory(pupil=f.PupilFactory(group=group))
        made.append(group)
    return made


def _posts(teacher, group, n: int) -> None:
    for i in range(n):
        post_create(actor=teacher.user, group=group, title=f"Bericht {i}", body="Hallo")


@time_machine.travel(MONDAY, tick=False)
def test_parent_home(client, django_assert_max_num_queries, school_year, teacher, group, parent, child):
    client.force_login(parent.user)
    _posts(teacher, group, 1)
    small = _count(client, reverse("home"))
    _grow_school(school_year, groups=10, pupils=10)
    _posts(teacher, group, 10)
    large = _count(client, reverse("home"))
    with django_assert_max_num_queries(HOME_MAX):
        client.get(reverse("home"))
    assert small == large, (small, large)


@time_machine.travel(MONDAY, tick=False)
def test_teacher_dashboard(client, django_assert_max_num_queries, school_year, teacher, group, child):
    client.force_login(teacher.user)
    small = _count(client, reverse("staff_dashboard"))
    for _ in range(20):  # the teacher's own group grows too
        f.GuardianRelationFactory(pupil=f.PupilFactory(group=group))
    _grow_school(school_year, groups=10, pupils=10)
    _posts(teacher, group, 10)
    large = _count(client, reverse("staff_dashboard"))
    with django_assert_max_num_queries(TEACHER_DASHBOARD_MAX):
        client.get(reverse("staff_dashboard"))
    assert small == large, (small, large)


@time_machine.travel(MONDAY, tick=False)
def test_director_dashboard_does_not_grow_with_groups_or_pupils(
    client, django_assert_max_num_queries, school_year, director, teacher, group, child
):
    client.force_login(director.user)
    small = _count(client, reverse("staff_dashboard"))
    small_html = client.get(reverse("staff_dashboard")).content
    grown = _grow_school(school_year, groups=10, pupils=10)
    large = _count(client, reverse("staff_dashboard"))
    large_html = client.get(reverse("staff_dashboard")).content
    with django_assert_max_num_queries(DIRECTOR_DASHBOARD_MAX):
        client.get(reverse("staff_dashboard"))
    assert small == large, (small, large)
    # The page grows with the groups (a summary each), not with the 100 pupils in them.
    assert len(large_html) - len(small_html) < 10 * 6000
    # One group's pupils on demand: the same count for a group of 1 pupil and of 10.
    on_demand = [_count(client, reverse("staff_dashboard"), groep=g.pk) for g in (group, grown[0])]
    assert on_demand[0] == on_demand[1], on_demand


def test_booking_page(
    client, django_assert_max_num_queries, conversation_round, slots_5a, slots_6b, child, parent, teacher
):
    with time_machine.travel(WHILE_OPEN, tick=False):
        client.force_login(parent.user)
        url = reverse("conversations:round", args=[conversation_round.pk])
        small = _count(client, url)
        for group in _grow_school(conversation_round.groups.first().school_year, groups=10, pupils=10):
            conversation_round.groups.add(group)
        planner.availability_add(
            actor=teacher.user,
            round_=conversation_round,
            group=child.group,
            date=FIRST_DAY + dt.timedelta(days=1),
            starts=dt.time(13, 0),
            ends=dt.time(16, 0),
        )
        large = _count(client, url)
        with django_assert_max_num_queries(BOOKING_PAGE_MAX):
            client.get(url)
    assert small == large, (small, large)


@time_machine.travel(MONDAY, tick=False)
def test_notifications_page(client, django_assert_max_num_queries, parent):
    client.force_login(parent.user)
    url = reverse("notifications:notifications")

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            notify(users=[parent.user], cause=f"test:{i}", title=f"Melding {i}", url="/")

    add(3, 0)
    small = _count(client, url)
    add(30, 3)
    large = _count(client, url)
    with django_assert_max_num_queries(NOTIFICATIONS_MAX):
        client.get(url)
    assert small == large, (small, large)
