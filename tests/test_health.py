"""Health that tells the truth (issue 13, point 3).

/healthz is liveness for the load balancer: the process and its database, nothing else, so a
Redis outage does not take the site offline. /healthz/ready (and ``manage.py health``) is
readiness for operators: database, broker, cache, the age of beat's heartbeat and of the
oldest due notification in the outbox, 503 when one fails. Every time rule on a frozen clock.
"""

import datetime as dt
import json
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError as DatabaseError
from django.db import connection
from django.test import Client, override_settings

from klimop import health, tasks
from klimop.celery import app as celery_app
from klimop.models import Heartbeat, User
from klimop.notifications.models import Notification
from klimop.worktime import AMSTERDAM

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=AMSTERDAM)
DEAD_BROKER = "redis://127.0.0.1:9/0"  # the discard port: nothing answers there


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def beat_alive(frozen):
    """Beat ran its heartbeat a minute ago."""
    Heartbeat.objects.create(name="beat", at=NOW - dt.timedelta(minutes=1))


@pytest.fixture
def broker_down():
    """The portal's Celery app, not eager, pointed at a port where nothing listens."""
    conf = celery_app.conf
    before = {"task_always_eager": conf.task_always_eager, "broker_url": conf.broker_url}
    conf.update(task_always_eager=False, broker_url=DEAD_BROKER)
    celery_app._pool = None
    yield
    conf.update(**before)
    celery_app._pool = None


@pytest.fixture
def database_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)


def _due_notification(user, *, since, next_attempt=None, cause="post:1"):
    return Notification.objects.create(
        user=user, cause=cause, title="Nieuw bericht", deliver_at=since, email_next_attempt_at=next_attempt
    )


# --- liveness -----------------------------------------------------------------------------


def test_liveness_answers_200_while_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def test_liveness_stays_200_when_redis_the_broker_and_beat_are_down(client, broker_down):
    """The load balancer keeps the site in: pages work without Redis."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert Heartbeat.objects.count() == 0  # and beat has never run


def test_liveness_answers_503_when_the_database_does_not(database_down):
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "fail"}}


# --- readiness ----------------------------------------------------------------------------


def test_readiness_answers_200_when_every_part_works(client, beat_alive):
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "cache": "ok", "heartbeat": "ok", "outbox": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


def test_readiness_answers_503_when_the_broker_is_unreachable(client, beat_alive, broker_down):
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "fail"
    assert response.json()["checks"]["database"] == "ok"
    # Anonymous callers learn which part fails, not why.
    assert "details" not in response.json()
    assert "OperationalError" not in response.content.decode()


@pytest.mark.parametrize(
    ("minutes_ago", "ready"),
    [(1, True), (5, True), (5.1, False), (60, False)],
)
def test_readiness_fails_when_beats_heartbeat_is_older_than_five_minutes(client, frozen, minutes_ago, ready):
    Heartbeat.objects.create(name="beat", at=NOW - dt.timedelta(minutes=minutes_ago))
    response = client.get("/healthz/ready")
    assert response.json()["checks"]["heartbeat"] == ("ok" if ready else "fail")
    assert response.status_code == (200 if ready else 503)


def test_readiness_fails_when_beat_has_never_run(client, frozen):
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["heartbeat"] == "fail"


@override_settings(KLIMOP_HEALTH_HEARTBEAT_MAX_AGE=60)
def test_the_heartbeat_limit_is_a_setting(client, frozen):
    Heartbeat.objects.create(name="beat", at=NOW - dt.timedelta(minutes=2))
    assert client.get("/healthz/ready").json()["checks"]["heartbeat"] == "fail"


def test_the_heartbeat_task_writes_the_database_and_readiness_reads_it(client, frozen):
    """Beat's task writes its moment in the database, readable while Redis is down."""
    assert client.get("/healthz/ready").json()["checks"]["heartbeat"] == "fail"
    tasks.heartbeat.delay()
    assert Heartbeat.objects.get(name="beat").at == NOW
    frozen.move_to(NOW + dt.timedelta(minutes=4))
    tasks.heartbeat.delay()  # idempotent: one row, the latest moment
    assert list(Heartbeat.objects.values_list("at", flat=True)) == [NOW + dt.timedelta(minutes=4)]
    assert client.get("/healthz/ready").status_code == 200


def test_the_outbox_is_stuck_when_a_notification_is_due_for_more_than_ten_minutes(client, beat_alive, parent):
    _due_notification(parent.user, since=NOW - dt.timedelta(minutes=9))
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["outbox"] == "ok"

    _due_notification(parent.user, since=NOW - dt.timedelta(minutes=11), cause="post:2")
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["outbox"] == "fail"


def test_notifications_waiting_for_their_retry_or_their_moment_are_not_stuck(client, beat_alive, parent):
    """A mail server that refuses makes rows wait for their next attempt (back-off): that is
    the outbox working, not stuck. A staff notification held until the next opening neither."""
    _due_notification(
        parent.user, since=NOW - dt.timedelta(hours=3), next_attempt=NOW + dt.timedelta(minutes=30)
    )
    _due_notification(parent.user, since=NOW + dt.timedelta(hours=12), cause="post:2")
    Notification.objects.create(
        user=parent.user,
        cause="post:3",
        title="Verstuurd",
        deliver_at=NOW - dt.timedelta(days=1),
        email_status=Notification.EmailStatus.SENT,
    )
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["outbox"] == "ok"


def test_a_retry_that_came_due_long_ago_and_was_not_tried_is_stuck(client, beat_alive, parent):
    _due_notification(
        parent.user, since=NOW - dt.timedelta(hours=3), next_attempt=NOW - dt.timedelta(minutes=11)
    )
    assert client.get("/healthz/ready").json()["checks"]["outbox"] == "fail"


def test_a_due_push_counts_too(client, beat_alive, parent):
    Notification.objects.create(
        user=parent.user,
        cause="post:1",
        title="Nieuw bericht",
        deliver_at=NOW - dt.timedelta(minutes=20),
        email_status=Notification.EmailStatus.NOT_WANTED,
        push_status=Notification.PushStatus.PENDING,
    )
    assert client.get("/healthz/ready").json()["checks"]["outbox"] == "fail"


# --- who sees the details ---------------------------------------------------------------


def _details(response):
    return response.json().get("details")


def test_the_admins_staff_see_ages_counts_and_errors(beat_alive, broker_down, parent):
    _due_notification(parent.user, since=NOW - dt.timedelta(minutes=2))
    operator = User.objects.create_superuser(email="beheer@example.test", password="x" * 12)
    client = Client()
    client.force_login(operator)
    details = _details(client.get("/healthz/ready"))
    assert details["heartbeat"]["age_seconds"] == 60
    assert details["heartbeat"]["limit_seconds"] == 300
    assert details["outbox"]["due"] == 1
    assert details["outbox"]["oldest_due_age_seconds"] == 120
    assert details["broker"]["status"] == "fail"
    assert details["broker"]["error"] == "OperationalError"


def test_parents_and_school_staff_see_only_ok_or_fail(beat_alive, parent, director):
    for user in (parent.user, director.user):
        client = Client()
        client.force_login(user)
        assert _details(client.get("/healthz/ready")) is None


@override_settings(KLIMOP_HEALTH_TOKEN="geheim-monitor-token")  # noqa: S106
def test_a_monitor_with_the_token_sees_the_details(client, beat_alive):
    assert _details(client.get("/healthz/ready", HTTP_AUTHORIZATION="Bearer geheim-monitor-token"))
    assert _details(client.get("/healthz/ready", HTTP_AUTHORIZATION="Bearer iets-anders")) is None
    assert _details(client.get("/healthz/ready")) is None


def test_without_a_token_setting_no_header_shows_details(client, beat_alive):
    assert _details(client.get("/healthz/ready", HTTP_AUTHORIZATION="Bearer ")) is None


# --- the management command ---------------------------------------------------------------


def test_the_health_command_prints_each_check_and_exits_0_when_ready(beat_alive):
    out = StringIO()
    call_command("health", stdout=out)
    text = out.getvalue()
    for name in ("database", "broker", "cache", "heartbeat", "outbox"):
        assert name in text
    assert "beat ran 60 s ago" in text
    assert text.strip().endswith("ready")


def test_the_health_command_exits_1_and_says_what_fails(frozen):
    Heartbeat.objects.create(name="beat", at=NOW - dt.timedelta(minutes=7))
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("health", stdout=out)
    assert error.value.returncode == 1
    assert "beat last ran 420 s ago (limit 300 s)" in out.getvalue()
    assert "NOT READY" in out.getvalue()


def test_the_health_command_prints_the_json_of_the_endpoint(beat_alive):
    out = StringIO()
    call_command("health", "--json", stdout=out)
    answer = json.loads(out.getvalue())
    assert answer["status"] == "ok"
    assert answer["details"]["heartbeat"]["age_seconds"] == 60


def test_readiness_reports_the_database_down_without_raising(database_down):
    checks = {c.name: c.ok for c in health.readiness()}
    assert checks == {"database": False, "broker": True, "cache": True, "heartbeat": False, "outbox": False}


def test_uploads_have_no_public_url(client):
    assert client.get("/__private-media__/anything.jpg").status_code == 404
