"""Every URL declares its policy (issue 9, point 3): other people's ids, GET.

The heaviest walks of tests/test_url_policy.py (every URL that takes ids, requested with the
ids of other people's objects as each of twelve roles) each have a file of their own, so that
the suite's two workers share them: GET here, POST in tests/test_url_policy_posts.py. The cast
and the checks are tests/test_url_policy.py's.
"""

from __future__ import annotations

import pytest

from tests.test_url_policy import (  # noqa: F401 - fixtures are found by name
    _check,
    _quiet_refusals,
    clients,
    without_badges,
    world,
)
from tests.url_policy import policies, urls

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
