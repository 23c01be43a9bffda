"""Health checks: liveness for load balancers, readiness for operators.

- **Liveness** (``/healthz``, the load balancer and docker's health check): the web process
  answers and its database answers ``SELECT 1``. Nothing else: Klimop serves pages without
  Redis, so a Redis outage must not take the site out of the load balancer.
- **Readiness** (``/healthz/ready``, ``manage.py health``, for operators and monitoring): the
  database, the broker (Redis, pinged with a short timeout), the cache, the age of beat's
  heartbeat and of the oldest notification whose e-mail or push is due and not sent. Ready
  when every check passes; the broker or the cache down, beat's heartbeat older than
  ``KLIMOP_HEALTH_HEARTBEAT_MAX_AGE`` or a due notification older than
  ``KLIMOP_HEALTH_OUTBOX_MAX_AGE`` make it not ready (503).

Every check answers, never raises, and takes at most about a second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

HEARTBEAT = "beat"


@dataclass
class Check:
    name: str
    ok: bool
    summary: str  # one line for people: what was found
    info: dict[str, Any] = field(default_factory=dict)  # the numbers, for monitoring

    def as_detail(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "fail", "summary": self.summary, **self.info}


def _failure(name: str, exc: BaseException) -> Check:
    return Check(name, False, f"error: {exc.__class__.__name__}", {"error": exc.__class__.__name__})


# --- the checks -----------------------------------------------------------------------------


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return _failure("database", exc)
    return Check("database", True, "answers")


def check_broker() -> Check:
    """Connect to the Celery broker once, without retries, within about a second."""
    from .celery import app

    if app.conf.task_always_eager:
        return Check("broker", True, "tasks run eagerly (no broker)")
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=1)
    except Exception as exc:  # noqa: BLE001
        return _failure("broker", exc)
    return Check("broker", True, "answers")


def check_cache() -> Check:
    """The cache itself, not its fallback (klimop.cache): login limits are shared only then."""
    ping = getattr(cache, "ping", None)
    try:
        if ping is not None:
            if not ping():
                return Check("cache", False, "Redis does not answer; each process counts login limits")
        else:
            cache.set("klimop:health", "ok", timeout=10)
            if cache.get("klimop:health") != "ok":
                return Check("cache", False, "does not keep what is stored")
    except Exception as exc:  # noqa: BLE001
        return _failure("cache", exc)
    return Check("cache", True, "answers")


def _age(now: dt.datetime, moment: dt.datetime) -> int:
    return max(0, int((now - moment).total_seconds()))


def check_heartbeat(now: dt.datetime | None = None) -> Check:
    from .models import Heartbeat

    now = now or timezone.now()
    limit = settings.KLIMOP_HEALTH_HEARTBEAT_MAX_AGE
    try:
        at = Heartbeat.objects.filter(name=HEARTBEAT).values_list("at", flat=True).first()
    except Exception as exc:  # noqa: BLE001
        return _failure("heartbeat", exc)
    if at is None:
        return Check("heartbeat", False, "beat has never run", {"age_seconds": None, "limit_seconds": limit})
    age = _age(now, at)
    info = {"age_seconds": age, "limit_seconds": limit, "at": at.isoformat()}
    if age > limit:
        return Check("heartbeat", False, f"beat last ran {age} s ago (limit {limit} s)", info)
    return Check("heartbeat", True, f"beat ran {age} s ago", info)


def _oldest_due(channel: str, now: dt.datetime) -> tuple[dt.datetime | None, int]:
    """When the longest-waiting due row of ``channel`` ("email", "push") came due, and how many
    are due: pending, delivered (``deliver_at`` passed) and their next attempt passed."""
    from .notifications.models import Notification

    status, next_at = f"{channel}_status", f"{channel}_next_attempt_at"
    due = Notification.objects.filter(
        Q(**{status: "pending", "deliver_at__lte": now})
        & (Q(**{f"{next_at}__isnull": True}) | Q(**{f"{next_at}__lte": now}))
    )
    # A row waiting for its next attempt came due at that attempt, not at deliver_at.
    found = due.aggregate(since=Min(Coalesce(F(next_at), F("deliver_at"))))
    return found["since"], due.count()


def check_outbox(now: dt.datetime | None = None) -> Check:
    now = now or timezone.now()
    limit = settings.KLIMOP_HEALTH_OUTBOX_MAX_AGE
    try:
        found = {channel: _oldest_due(channel, now) for channel in ("email", "push")}
    except Exception as exc:  # noqa: BLE001
        return _failure("outbox", exc)
    moments = [since for since, _count in found.values() if since is not None]
    due = sum(count for _since, count in found.values())
    age = _age(now, min(moments)) if moments else 0
    info = {
        "due": due,
        "due_email": found["email"][1],
        "due_push": found["push"][1],
        "oldest_due_age_seconds": age,
        "limit_seconds": limit,
    }
    if age > limit:
        return Check("outbox", False, f"{due} due, the oldest for {age} s (limit {limit} s)", info)
    return Check("outbox", True, f"{due} due, the oldest for {age} s", info)


# --- the answers ----------------------------------------------------------------------------


def liveness() -> list[Check]:
    return [check_database()]


def readiness(now: dt.datetime | None = None) -> list[Check]:
    database = check_database()
    checks = [database, check_broker(), check_cache()]
    if database.ok:
        checks += [check_heartbeat(now), check_outbox(now)]
    else:
        checks += [Check(name, False, "database unavailable") for name in ("heartbeat", "outbox")]
    return checks


def report(checks: list[Check], *, details: bool) -> dict[str, Any]:
    """The JSON answer: ok/fail per part for anyone, the numbers only with ``details``."""
    healthy = all(c.ok for c in checks)
    answer: dict[str, Any] = {
        "status": "ok" if healthy else "unavailable",
        "checks": {c.name: "ok" if c.ok else "fail" for c in checks},
    }
    if details:
        answer["details"] = {c.name: c.as_detail() for c in checks}
    return answer


def record_heartbeat(now: dt.datetime | None = None) -> dt.datetime:
    """Beat's heartbeat task: note the moment in the database (readable while Redis is down)."""
    from .models import Heartbeat

    now = now or timezone.now()
    Heartbeat.objects.update_or_create(name=HEARTBEAT, defaults={"at": now})
    return now
