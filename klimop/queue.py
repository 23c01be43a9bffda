"""Enqueue Celery tasks only after the surrounding transaction commits.

A task must never see a row its caller may still roll back, and a rolled-back
service must enqueue nothing. Arguments are JSON-safe ids, never model objects.
If the broker is down at commit time the enqueue is logged and dropped: the
periodic sweeps find due work again from the database (outbox), so nothing is lost.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)


def _send(task, args: tuple, kwargs: dict) -> None:
    try:
        if isinstance(task, str):
            # By name: services never import task modules (no import cycles). The
            # registry lookup keeps eager mode in tests, which send_task would not.
            from celery import current_app

            task = current_app.tasks[task]
        task.apply_async(args=args, kwargs=kwargs, retry=False)
    except Exception:
        # Broker unreachable: the database still holds the work; a sweep sends it.
        logger.warning(
            "Could not enqueue %s; left for the periodic sweep.", getattr(task, "name", task), exc_info=True
        )


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue ``task`` (a task, or its registered name) with JSON-safe ``args``/``kwargs``
    once the current transaction commits."""
    transaction.on_commit(partial(_send, task, args, kwargs))
