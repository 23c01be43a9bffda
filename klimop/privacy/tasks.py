"""Celery tasks of the privacy preferences: thin, idempotent, ids only."""

from celery import shared_task

from . import services

__all__ = ["consent_renewal_sweep", "notify_teachers_of_consent_change"]


@shared_task
def notify_teachers_of_consent_change(pupil_id: int, event_id: int) -> int:
    """After a consent change: tell the child's teachers (once per change)."""
    return services.consent_change_notify_teachers(pupil_id=pupil_id, event_id=event_id)


@shared_task
def consent_renewal_sweep() -> int:
    """Beat, hourly: at the start of a school year ask the parents again (within office hours)."""
    return services.consent_renewal_sweep()
