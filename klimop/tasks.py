"""Celery tasks of the directory. Tasks are thin: they call services and are idempotent."""

from celery import shared_task

from . import health, services


@shared_task
def heartbeat() -> str:
    """Beat, every minute: record in the database that beat, the broker and a worker work
    (its age is checked by /healthz/ready and manage.py health). Idempotent."""
    return health.record_heartbeat().isoformat()


@shared_task
def prepare_school_years() -> int:
    """Beat, daily: enter each school's coming school year from the national calendar in good
    time (from 1 March), and ask the office to add the study days. Idempotent."""
    return services.school_years_prepare_due()


@shared_task
def ping(token: str) -> str:
    """Echo a token; proves a real worker runs tasks through the broker (tests, diagnostics)."""
    return token
