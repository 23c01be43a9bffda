"""Agenda sweeps. Thin: the service decides what is due and makes it happen at most once."""

from celery import shared_task

from .services import event_reminders_send


@shared_task
def send_event_reminders() -> int:
    """Beat sweep: remind parents of important events that are due (idempotent)."""
    return event_reminders_send()
