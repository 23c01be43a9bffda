"""Enqueue Celery tasks only after the surrounding transaction commits.

A task must never see a row its caller may still roll back, and a rolled-back
service must enqueue nothing. Arguments are JSON-safe ids, never model objects.
If the broker is down at commit time the enqueue is logged and dropped: the
periodic sweeps find due work again from the database (outbox), so nothing is lost.

The broker must never make a write slow. The connection itself fails fast (the broker
timeouts in ``klimop/settings/base.py``: no retries, a short connect timeout), and after one
failure a circuit breaker skips the broker for ``KLIMOP_BROKER_PAUSE`` seconds in this
process: during an outage each web process tries the broker once per pause, logs that once,
and every other write answers at once. The first enqueue after the pause tries again; when
it goes through, the breaker closes and says so.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import partial

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


class BrokerBreaker:
    """Per process: whether to try the broker now. Thread-safe; the clock is monotonic."""

    clock = staticmethod(time.monotonic)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until: float | None = None  # None: closed, the broker is used
        self.skipped = 0  # enqueues left to the sweeps without trying, since the breaker opened

    @property
    def pause(self) -> float:
        return float(getattr(settings, "KLIMOP_BROKER_PAUSE", 30))

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def allow(self) -> bool:
        """True when the broker may be tried: closed, or open and its pause is over."""
        with self._lock:
            if self._open_until is None or self.clock() >= self._open_until:
                return True
            self.skipped += 1
            return False

    def failed(self, name: str, exc: BaseException) -> None:
        with self._lock:
            opening = self._open_until is None
            self._open_until = self.clock() + self.pause
        if opening:
            logger.warning(
                "Could not enqueue %s; the broker is skipped for %ss, and due work is left for "
                "the periodic sweeps.",
                name,
                self.pause,
                exc_info=exc,
            )
        else:
            logger.info("The broker is still unreachable (%s left for the periodic sweep).", name)

    def succeeded(self) -> None:
        if self._open_until is None:
            return
        with self._lock:
            skipped, self._open_until, self.skipped = self.skipped, None, 0
        logger.warning("The broker answers again (%s enqueues were left to the sweeps).", skipped)

    def reset(self) -> None:
        with self._lock:
            self._open_until, self.skipped = None, 0


breaker = BrokerBreaker()


def _send(task, args: tuple, kwargs: dict) -> None:
    from celery import current_app

    name = task if isinstance(task, str) else getattr(task, "name", repr(task))
    # Eager mode (the tests) has no broker to guard: the task runs here and now.
    guarded = not current_app.conf.task_always_eager
    if guarded and not breaker.allow():
        return
    try:
        if isinstance(task, str):
            # By name: services never import task modules (no import cycles). The
            # registry lookup keeps eager mode in tests, which send_task would not.
            task = current_app.tasks[task]
        task.apply_async(args=args, kwargs=kwargs, retry=False)
    except Exception as exc:
        # Broker unreachable: the database still holds the work; a sweep sends it.
        if guarded:
            breaker.failed(name, exc)
        else:
            logger.warning("Could not enqueue %s; left for the periodic sweep.", name, exc_info=True)
    else:
        if guarded:
            breaker.succeeded()


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue ``task`` (a task, or its registered name) with JSON-safe ``args``/``kwargs``
    once the current transaction commits."""
    transaction.on_commit(partial(_send, task, args, kwargs))
