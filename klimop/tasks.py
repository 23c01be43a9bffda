"""Celery tasks of the directory. Tasks are thin: they call services and are idempotent."""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from . import services


@shared_task
def heartbeat() -> str:
    """Record that beat and a worker are alive (shown by /healthz?deep=1)."""
    now = timezone.now().isoformat()
    cache.set("klimop:heartbeat", now, timeout=None)
    return now


@shared_task
def prepare_school_years() -> int:
    """Beat, daily: enter each school's coming school year from the national calendar in good
    time (from 1 March), and ask the office to add the study days. Idempotent."""
    return services.school_years_prepare_due()


@shared_task
def ping(token: str) -> str:
    """Echo a token; proves a real worker runs tasks through the broker (tests, diagnostics)."""
    return token
