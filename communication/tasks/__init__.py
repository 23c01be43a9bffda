"""Celery discovers ``communication.tasks``; each feature's tasks live in a submodule."""

from .agenda import send_event_reminders  # noqa: F401
from .chats import send_answer_escalations, send_answer_reminders  # noqa: F401
from .posts import notify_due_posts, notify_post_published, remind_post_rhythm  # noqa: F401
