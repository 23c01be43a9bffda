from celery import shared_task

from .services import send_due_emails, send_due_pushes


@shared_task
def send_due_notification_emails() -> int:
    """The e-mail outbox sweep: runs on commit of new notifications and every minute from beat."""
    return send_due_emails()


@shared_task
def send_due_notification_pushes() -> int:
    """The browser-push outbox sweep: on commit of new notifications and every minute from beat."""
    return send_due_pushes()


# Kept as an alias: callers may name the task by what it does for them.
send_notification_emails = send_due_notification_emails
