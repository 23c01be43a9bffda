"""Slow outside parts cannot stall the inside: with a mail server that accepts connections
and never answers, the e-mail worker is stuck, yet a post's in-app notifications are made
by the default queue's worker meanwhile; when the mail server comes back, every e-mail is
sent exactly once.

Real services only: PostgreSQL (the workers read the test database), a Redis of this test's
own (so the portal's real queue names, "celery" and "mail", are this test's alone), two real
Celery workers started as production starts them (one per queue, the portal's own routing
from the settings), and a real SMTP server on a local port (tests/smtp.py).
"""

import pytest
from django.db import transaction
from django.utils import timezone

from communication.posts.models import Post
from klimop.models import User
from klimop.notifications.models import Notification
from klimop.notifications.services import notify
from klimop.queue import enqueue_on_commit
from tests.processes import log_lines, own_redis, portal_queues, services_missing, stop, wait, worker
from tests.smtp import SmtpServer

__all__ = ["own_redis", "portal_queues"]  # fixtures

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        services_missing(), reason="needs PostgreSQL, Redis and redis-server (make test says so)"
    ),
]


def _sweeps_done(log) -> int:
    """How many e-mail sweeps the worker has finished (its log says so, one line each)."""
    return len(log_lines(log, "send_due_notification_emails", "succeeded"))


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    server.mode = "hang"
    yield server
    server.stop()


def _worker(tmp_path, name: str, queue: str, broker: str, smtp: SmtpServer):
    # EMAIL_TIMEOUT: long enough that the mail worker is still waiting when the test has
    # looked; the test then hangs up itself (smtp.back()) instead of waiting for the timeout.
    return worker(
        tmp_path, name, queue, broker, EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}", EMAIL_TIMEOUT="600"
    )


def test_a_hanging_mail_server_stalls_only_the_mail_queue_and_nothing_is_lost_or_doubled(
    tmp_path, portal_queues, smtp, group, parent, teacher
):
    default, default_log = _worker(tmp_path, "default", "celery", portal_queues, smtp)
    mail, mail_log = _worker(tmp_path, "mail", "mail", portal_queues, smtp)
    logs = [default_log, mail_log]
    try:
        # 30 parents get a notification; its commit queues the e-mail sweep on the mail queue,
        # whose worker connects to the mail server and waits for an answer that never comes.
        users = User.objects.bulk_create(User(email=f"ouder{i:02d}@example.test") for i in range(30))
        notify(users=users, cause="newsletter:1", title="Nieuwsbrief")
        wait(lambda: smtp.hanging == 1, "the mail worker to hang on the mail server", logs)

        # Meanwhile a post is published: its in-app notifications are the default queue's work.
        post = Post.objects.create(
            school=group.school_year.school,
            group=group,
            author=teacher.user,
            title="Uitje naar de kinderboerderij",
            body="<p>Morgen gaan we naar de kinderboerderij.</p>",
            publish_at=timezone.now(),
        )
        with transaction.atomic():
            enqueue_on_commit("communication.posts.tasks.notify_post_published", post.pk)
        seconds = wait(
            lambda: Notification.objects.filter(cause=f"post:{post.pk}", user=parent.user).exists(),
            "the post's in-app notification",
            logs,
        )
        print(f"in-app notification of a post made {seconds:.1f} s after publishing, mail server hanging")  # noqa: T201
        # ... while the mail worker was still stuck: it did not have to wait for the mail server.
        assert smtp.hanging == 1
        assert smtp.messages == []
        assert not Notification.objects.filter(email_status=Notification.EmailStatus.SENT).exists()

        # The mail server hangs up and works again: the stuck batch gives up, marks nothing sent,
        # and every e-mail of it waits for its retry; the post's e-mail (queued later) goes out.
        smtp.back()
        newsletter = Notification.objects.filter(cause="newsletter:1")
        wait(lambda: newsletter.filter(email_attempts=1).count() == 30, "the batch to give up", logs)
        assert set(newsletter.values_list("email_status", flat=True)) == {Notification.EmailStatus.PENDING}
        wait(lambda: smtp.recipients()[parent.user.email] == 1, "the post's e-mail", logs)

        # Their retry comes due (as a minute later) and beat's sweep sends each exactly once.
        newsletter.update(email_next_attempt_at=timezone.now())
        enqueue_on_commit("klimop.notifications.tasks.send_due_notification_emails")
        wait(lambda: not newsletter.exclude(email_status="sent").exists(), "the retried e-mails", logs)
        # One more sweep, as beat's next minute: it finds nothing to send again.
        done = _sweeps_done(mail_log)
        enqueue_on_commit("klimop.notifications.tasks.send_due_notification_emails")
        wait(lambda: _sweeps_done(mail_log) > done, "one more sweep", logs)
    finally:
        stop(default)
        stop(mail)

    counts = smtp.recipients()
    assert counts == {**{u.email: 1 for u in users}, parent.user.email: 1}
    assert "send_due_notification_emails[" not in default_log.read_text()  # routed to the mail queue only
    assert "notify_post_published[" not in mail_log.read_text()
