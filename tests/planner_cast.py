"""Shared pieces of the planner tests: a report round in February 2027 for groups 5a and 6b.

Tuesday 9 February 2027 is the first conversation day; booking opens 14 days earlier
(Tuesday 26 January, 08:00), a day earlier (Monday 25 January) for families with children
in both groups. The teacher of 5a works Monday–Wednesday, so publishes time on Tuesday.
"""

import datetime as dt

import pytest

from conversations import services
from conversations.models import Round
from tests import factories as f
from tests.planner_times import FIRST_DAY


@pytest.fixture
def sibling(other_group, parent, divorced_parent):
    """Noor's younger brother in 6b: the same two custodial parents."""
    pupil = f.PupilFactory(group=other_group, first_name="Fedde", last_name="Testkind")
    for guardian in (parent, divorced_parent):
        f.GuardianRelationFactory(pupil=pupil, guardian=guardian)
    return pupil


@pytest.fixture
def conversation_round(school, group, other_group, director):
    round_ = Round(
        school=school,
        kind=Round.Kind.REPORT,
        first_date=FIRST_DAY,
        last_date=FIRST_DAY + dt.timedelta(days=2),
    )
    return services.round_save(actor=director.user, round_=round_, groups=[group, other_group])


@pytest.fixture
def slots_5a(conversation_round, teacher, group):
    """Tuesday 9 February 13:00–15:00 for 5a: eight conversations of 10 minutes, 5 between."""
    availability = services.availability_add(
        actor=teacher.user,
        round_=conversation_round,
        group=group,
        date=FIRST_DAY,
        starts=dt.time(13, 0),
        ends=dt.time(15, 0),
        location="Lokaal 5a",
    )
    return list(availability.slots.order_by("starts_at"))


@pytest.fixture
def slots_6b(conversation_round, other_teacher, other_group):
    availability = services.availability_add(
        actor=other_teacher.user,
        round_=conversation_round,
        group=other_group,
        date=FIRST_DAY,
        starts=dt.time(13, 0),
        ends=dt.time(15, 0),
        location="Lokaal 6b",
    )
    return list(availability.slots.order_by("starts_at"))
