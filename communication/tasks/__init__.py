"""Celery discovers ``communication.tasks``; each feature's tasks live in a submodule."""

from .notifications import (
    send_due_notification_emails,
    send_due_notification_pushes,
    send_notification_emails,
)

__all__ = ["send_due_notification_emails", "send_due_notification_pushes", "send_notification_emails"]
from .agenda import send_event_reminders  # noqa: E402, F401
from .chats import send_answer_escalations, send_answer_reminders  # noqa: E402, F401
from .posts import notify_due_posts, notify_post_published, remind_post_rhythm  # noqa: E402, F401
