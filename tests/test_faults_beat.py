"""Beat stopped and started again (issue 13, point 5): readiness says beat is gone while it
is, and when it is back every overdue periodic job runs once, not once per missed minute, and
its work is done once: the posts whose time came while beat was down are announced to each
parent once, the e-mails whose enqueue was lost go out once, a post still in the future waits.

Real processes: beat with the production scheduler (django-celery-beat's DatabaseScheduler)
and the production schedule (``CELERY_BEAT_SCHEDULE``, intervals of a minute and more), the
a worker for the default and the mail queue, a Redis of the test's own, PostgreSQL, an SMTP sink. The
two hours beat is down are not waited for: while it is stopped, its last runs (the scheduler's
``last_run_at``) and its last heartbeat are dated two hours back, which is what those two
hours would have left in the database.
"""

import collections
import datetime as dt
import json

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from communication.posts.models import Post
from klimop import health, queue
from klimop.models import StaffMember
from klimop.notifications.models import Notification
from klimop.notifications.services import notify
from klimop.worktime import AMSTERDAM
from tests import factories as f
from tests.processes import celery, log_lines, own_redis, portal_queues, services_missing, stop, wait, worker
from tests.smtp import SmtpServer

__all__ = ["own_redis", "portal_queues"]  # fixtures

DOWN = dt.timedelta(hours=2)
TOKEN = "faults-test-health-token"  # noqa: S105 - a test's own
SCHEDULE = settings.CELERY_BEAT_SCHEDULE
#: The entries two hours without beat leave overdue: all but the daily ones.
OVERDUE = {name: entry for name, entry in SCHEDULE.items() if entry["schedule"] <= DOWN.total_seconds()}

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(services_missing(), reason="needs PostgreSQL, Redis and redis-server (make test)"),
]


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def _ready(client: Client) -> tuple[int, dict]:
    response = client.get("/healthz/ready", headers={"authorization": f"Bearer {TOKEN}"})
    return response.status_code, json.loads(response.content)


def _received(smtp: SmtpServer, marker: str) -> collections.Counter:
    """How many e-mails carrying ``marker`` (a notification's link) each address received."""
    with smtp.lock:
        return collections.Counter(to for _from, tos, data in smtp.messages if marker in data for to in tos)


def _sent(beat_log) -> collections.Counter:
    """How often beat sent each entry of the schedule (Celery's own entries left out) in its
    first 50 seconds: a catch-up of missed runs would come then; the regular next run of an
    every-minute entry comes a minute after the first (on a slow machine, within the test)."""
    sends = []
    for line in log_lines(beat_log, "Sending due task"):
        # Celery logs on the portal's clock (CELERY_TIMEZONE).
        moment = dt.datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=AMSTERDAM)
        sends.append((moment, line.split("Sending due task ")[1].split(" ")[0]))
    if not sends:
        return collections.Counter()
    first = sends[0][0]
    return collections.Counter(
        name for moment, name in sends if name in SCHEDULE and moment - first < dt.timedelta(seconds=50)
    )


def _finished(logs, task: str) -> list[str]:
    """The workers' log lines of ``task`` runs that ended (succeeded, or raised)."""
    return [
        line
        for log in logs
        for line in log_lines(log, f"{task}[")
        if " succeeded " in line or " raised " in line
    ]


@override_settings(KLIMOP_HEALTH_TOKEN=TOKEN)
def test_beat_back_after_an_outage_runs_each_overdue_job_once(
    tmp_path, portal_queues, smtp, group, other_group
):
    # One worker for both queues (the portal's routing; which worker serves the mail queue is
    # not what this test is about, and one fewer process to boot keeps it short).
    mail_env = {"EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}", "EMAIL_TIMEOUT": "10"}
    both, worker_log = worker(tmp_path, "worker", "celery,mail", portal_queues, **mail_env)
    beat, beat_log = celery(tmp_path, "beat", ["beat", "--loglevel=info"], portal_queues)
    processes, logs = [both, beat], [worker_log, beat_log]
    client = Client()
    try:
        in_5a = f.families(group, 20, prefix="ouder5a")
        in_6b = f.families(other_group, 10, prefix="ouder6b")
        director = f.StaffMemberFactory(school=group.school, role=StaffMember.Role.DIRECTOR)
        # Beat starts (its schedule into the database) and stops, as for a deploy or a crash.
        beat_tasks = PeriodicTask.objects.filter(name__in=SCHEDULE)
        wait(lambda: beat_tasks.count() == len(SCHEDULE), "beat to load its schedule", logs)
        stop(beat)
        assert beat.returncode == 0
        assert _sent(beat_log) == {}  # a fresh beat waits a minute (or more) first

        # Two hours without beat: its last runs and its last heartbeat are that old.
        now = timezone.now()
        beat_tasks.update(last_run_at=now - DOWN)
        health.record_heartbeat(now - DOWN)
        status, answer = _ready(client)
        assert status == 503
        assert answer["checks"] == {
            "database": "ok",
            "broker": "ok",
            "cache": "ok",
            "heartbeat": "fail",
            "outbox": "ok",
        }
        assert answer["details"]["heartbeat"]["age_seconds"] >= DOWN.total_seconds()

        # Meanwhile two scheduled posts came due, one is still ahead, and a newsletter's
        # e-mails were left to the sweep (the broker's breaker was open when it was made).
        write = {"school": group.school, "author": director.user, "body": "<p>Tekst.</p>"}
        due_5a = Post.objects.create(
            group=group, title="Gym", publish_at=now - dt.timedelta(minutes=5), **write
        )
        due_school = Post.objects.create(title="Studiedag", publish_at=now - dt.timedelta(minutes=2), **write)
        ahead = Post.objects.create(
            group=other_group, title="Later", publish_at=now + dt.timedelta(hours=1), **write
        )
        queue.breaker.failed("a broker outage", ConnectionError("refused"))
        with transaction.atomic():
            notify(users=in_5a + in_6b, cause="newsletter:12", title="Nieuwsbrief", url="/nieuwsbrief-12/")
        assert queue.breaker.skipped == 1
        queue.breaker.reset()

        # Beat comes back.
        beat, beat_log = celery(tmp_path, "beat-2", ["beat", "--loglevel=info"], portal_queues)
        processes.append(beat)
        logs.append(beat_log)
        seconds = wait(
            lambda: all(_finished(logs, entry["task"]) for entry in OVERDUE.values()),
            "every periodic task to run once",
            logs,
        )
        print(f"every overdue periodic task done {seconds:.1f} s after beat started again")  # noqa: T201
        notes = Notification.objects.filter(
            cause__in=[f"post:{due_5a.pk}", f"post:{due_school.pk}", "newsletter:12"]
        )
        wait(
            lambda: not notes.exclude(email_status=Notification.EmailStatus.SENT).exists(),
            "the e-mails",
            logs,
        )
        status, answer = _ready(client)
        assert (status, answer["status"]) == (200, "ok"), answer
        assert answer["details"]["heartbeat"]["age_seconds"] < settings.KLIMOP_HEALTH_HEARTBEAT_MAX_AGE
    finally:
        for process in processes:
            stop(process)

    # Each overdue entry was sent once by the beat that came back, not once per run it missed
    # (120 for the every-minute ones; the next run is a minute or more away), the daily ones
    # not at all (not due yet), and each run ended well.
    assert _sent(beat_log) == dict.fromkeys(OVERDUE, 1)
    for entry in OVERDUE.values():
        assert not [line for line in _finished(logs, entry["task"]) if " raised " in line]
    # The post sweep's first run announced the two posts that came due, not the one ahead (a
    # regular run a minute later, on a slow machine, finds nothing left).
    announced = [
        line.rsplit(": ", 1)[1] for line in _finished(logs, "communication.posts.tasks.notify_due_posts")
    ]
    assert announced[0] == "2"
    assert set(announced[1:]) <= {"0"}
    due_5a.refresh_from_db()
    due_school.refresh_from_db()
    ahead.refresh_from_db()
    assert due_5a.notified_at is not None
    assert due_school.notified_at is not None
    assert ahead.notified_at is None
    # Every parent told once per post and newsletter: in the app and by e-mail.
    parents_5a, parents_6b = {u.email for u in in_5a}, {u.email for u in in_6b}
    assert sorted(
        Notification.objects.filter(cause=f"post:{due_5a.pk}").values_list("user__email", flat=True)
    ) == sorted(parents_5a)
    assert Notification.objects.filter(cause=f"post:{due_school.pk}").count() == 30
    assert not Notification.objects.filter(cause=f"post:{ahead.pk}").exists()
    assert _received(smtp, reverse("posts:post_detail", args=[due_5a.pk])) == dict.fromkeys(parents_5a, 1)
    assert _received(smtp, reverse("posts:post_detail", args=[due_school.pk])) == dict.fromkeys(
        parents_5a | parents_6b, 1
    )
    assert _received(smtp, "/nieuwsbrief-12/") == dict.fromkeys(parents_5a | parents_6b, 1)
