"""Nothing is lost when Redis is down: a chat message written while the broker is unreachable
is saved with its notifications; once the broker is back, the periodic sweep, delivered
through real Redis to a real Celery worker, sends the e-mail, exactly once.

Real services only: PostgreSQL (the worker reads the test database) and Redis. The "down"
broker is a Redis URL on a port where nothing listens, not a mock.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection
from kombu.exceptions import OperationalError

from communication.chats import services
from communication.chats.models import Conversation, Message
from klimop.celery import app as klimop_app
from klimop.models import GuardianRelation
from klimop.notifications.models import Notification
from tests import factories as f

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("KLIMOP_TEST_REDIS_URL")
DEAD_BROKER = "redis://127.0.0.1:9/0"  # the discard port: nothing answers there

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not REDIS_URL or connection.vendor != "postgresql",
        reason="needs PostgreSQL and Redis (make test says so)",
    ),
]


@pytest.fixture
def broker_down():
    """The portal's Celery app, not eager, pointed at a broker that refuses connections."""
    conf = klimop_app.conf
    before = {"task_always_eager": conf.task_always_eager, "broker_url": conf.broker_url}
    conf.update(task_always_eager=False, broker_url=DEAD_BROKER)
    # The app keeps a connection pool and, apart from it, a producer pool: both must go, or a
    # task is sent to the broker of an earlier test in this process (and a later test's to this).
    klimop_app._pool = klimop_app.amqp._producer_pool = None
    yield
    conf.update(**before)
    klimop_app._pool = klimop_app.amqp._producer_pool = None


def _worker(tmp_path: Path, queue: str, mail_dir: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "klimop.settings.local",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "EMAIL_URL": f"filemail:///{mail_dir}",  # four slashes: an absolute path
    }
    log = (tmp_path / "worker.log").open("w")
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "klimop",
            "worker",
            "--pool=solo",
            "--loglevel=info",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_a_message_sent_while_redis_is_down_is_kept_and_mailed_once_it_is_back(
    tmp_path,
    broker_down,
    school,
    group,
    parent,
    child,
):
    with pytest.raises(OperationalError), klimop_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)  # the portal's broker really is unreachable

    neighbour = f.GuardianRelationFactory(
        pupil=f.PupilFactory(group=group),
        guardian__user__email="buur@example.test",
        kind=GuardianRelation.Kind.PARENT_WITH_AUTHORITY,
        access=GuardianRelation.Access.FULL,
    ).guardian
    neighbour.user.notify_by_email = True
    neighbour.user.save(update_fields=["notify_by_email"])

    # Redis is down: the parent still gets "sent", the message and the notification are stored.
    conversation = services.conversation_start_parents(
        actor=parent.user, other=neighbour.user, group=group, body="Zullen we samen fietsen?"
    )
    message = Message.objects.get(conversation=conversation)
    note = Notification.objects.get(user=neighbour.user, cause=f"message:{message.pk}")
    assert note.email_status == Notification.EmailStatus.PENDING

    # Redis is back: beat's sweep goes through Redis to a real worker, which sends the mail.
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = _worker(tmp_path, queue, mail_dir)
    try:
        sender = Celery("beat", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
        task = "klimop.notifications.tasks.send_due_notification_emails"
        first = sender.send_task(task, queue=queue).get(timeout=90)
        second = sender.send_task(task, queue=queue).get(timeout=90)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()

    assert (first, second) == (1, 0), (tmp_path / "worker.log").read_text()[-2000:]
    note.refresh_from_db()
    assert note.email_status == Notification.EmailStatus.SENT
    mails = [p.read_text() for p in mail_dir.iterdir()]
    assert len(mails) == 1
    assert "To: buur@example.test" in mails[0]
    assert Conversation.objects.filter(pk=conversation.pk).exists()
