"""Every URL declares its policy (issue 9, point 3): other people's ids, POST.

The walk of every URL that takes ids, posted with the ids of other people's objects as each of
twelve roles: nothing changes in the database. GET is tests/test_url_policy_ids.py; the cast
and the checks are tests/test_url_policy.py's.
"""

from __future__ import annotations

import pytest

from klimop import middleware
from tests.test_url_policy import (  # noqa: F401 - fixtures are found by name
    _check,
    _quiet_refusals,
    clients,
    without_badges,
    world,
)
from tests.url_policy import ROLES, policies

pytestmark = pytest.mark.django_db


def test_posts_with_other_peoples_ids_change_nothing(world, clients, without_badges):
    problems, tried, requests = _check(world, clients, "post")
    posted = {key for key, p in policies().items() if p.post is not None}
    if untried := sorted(posted - tried):
        problems.append(f"no other people's ids to post to: {untried}")
    # Choosing another school to work in is refused: the session keeps the person's own.
    key = getattr(middleware, "ACTIVE_SCHOOL_SESSION_KEY", None)
    for role in ROLES:
        active = clients[role].session.get(key) if key else None
        if active is not None and active not in {s.pk for s in world.schools_of(role)}:
            problems.append(f"{role} now works in school {active}, not theirs")
    assert not problems, "\n".join(problems)
