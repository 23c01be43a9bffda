"""The outbox sweeps. They run on their own queue (``CELERY_TASK_ROUTES``: "mail"), served
by their own worker, so a slow or hanging mail server or push service never delays the
default queue (in-app notifications, reminders, escalations, invitations, publishing).

Time limits: each SMTP attempt waits at most ``EMAIL_TIMEOUT`` (a push request
``PUSH_TIMEOUT_SECONDS``); a batch starts no new send after ``BATCH_SECONDS``; Celery's
soft limit (raised in the task, the row in flight is rolled back and tried again) and
hard limit (the process is replaced) are the backstops. Rows are marked sent one by
one, so whatever stops a batch, nothing sent is sent again and nothing unsent is lost.
"""

from celery import shared_task

from klimop.queue import enqueue_on_commit

from .services import BATCH_SECONDS, send_email_batch, send_push_batch

SOFT_TIME_LIMIT = BATCH_SECONDS + 20
TIME_LIMIT = BATCH_SECONDS + 50


@shared_task(soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def send_due_notification_emails() -> int:
    """The e-mail outbox sweep (notifications' e-mails and outgoing e-mails): on commit of
    new ones and every minute from beat. A full batch queues the next one at once."""
    result = send_email_batch()
    if result.more:
        enqueue_on_commit("klimop.notifications.tasks.send_due_notification_emails")
    return result.sent


@shared_task(soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def send_due_notification_pushes() -> int:
    """The browser-push outbox sweep: on commit of new notifications and every minute from beat."""
    result = send_push_batch()
    if result.more:
        enqueue_on_commit("klimop.notifications.tasks.send_due_notification_pushes")
    return result.sent


# Kept as an alias: callers may name the task by what it does for them.
send_notification_emails = send_due_notification_emails
