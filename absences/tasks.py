"""Thin Celery tasks of absences; each calls one idempotent service."""

from celery import shared_task

from . import services


@shared_task
def create_due_follow_ups() -> int:
    """Beat sweep: a follow-up task for each sickness spell at its N-th school day, from that
    day's opening on; once per spell (unique), so running it often is safe."""
    return services.follow_ups_create_due()


@shared_task
def forget_pending_statements() -> int:
    """Beat sweep: statements kept for a leave form that was never sent are removed after a day."""
    return services.pending_statements_forget()
