"""Every URL declares its policy (issue 9, point 3): other people's ids, GET and POST.

The two heaviest walks of tests/test_url_policy.py (every URL that takes ids, requested with
the ids of other people's objects as each of twelve roles), in a file of their own so that
the suite's two workers share them; the cast and the checks are that file's.
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
from tests.url_policy import ROLES, policies, urls

pytestmark = pytest.mark.django_db


def test_other_peoples_ids_show_nothing(world, clients, without_badges):
    problems, tried, requests = _check(world, clients, "get")
    table = policies()
    if untried := sorted(
        u.key for u in urls() if u.key in table and table[u.key].ids is not None and u.key not in tried
    ):
        problems.append(f"no other people's objects to try for: {untried}")
    assert requests > 1000
    assert not problems, "\n".join(problems)


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
