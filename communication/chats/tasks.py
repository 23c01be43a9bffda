"""Thin Celery tasks for chats: the answer-clock sweeps, each one idempotent service call."""

from celery import shared_task

from . import services


@shared_task
def send_answer_reminders() -> int:
    """Beat sweep: remind staff before a parent's message must be answered."""
    return services.answer_reminders_send()


@shared_task
def send_answer_escalations() -> int:
    """Beat sweep: tell the director about parent messages unanswered past the school's maximum."""
    return services.answer_escalations_send()


@shared_task
def sync_child_conversations() -> dict:
    """Beat, hourly: per-child chats for every pupil, membership as in the directory."""
    return services.child_conversations_sync_all()
