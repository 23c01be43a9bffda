"""The cache backend of production: Redis, and this process's memory while Redis is down.

Django's RedisCache raises when Redis does not answer, and allauth keeps the login rate
limits in the cache: a Redis outage made every login (even one with a wrong password) a
server error. ``RedisWithFallbackCache`` talks to Redis with short socket timeouts and no
retries; when a call fails it logs a warning once, answers that call and every call for the
next ``FALLBACK_PAUSE`` seconds from a local-memory cache of its own (no Redis round trip
at all), and then tries Redis again.

What that means while Redis is down: logins work, and failed logins are still limited, but
counted per web process rather than shared by all of them (with three gunicorn workers a
guesser gets at most three times the limit). What was counted during the outage is
forgotten when Redis is back, and what Redis held before is used again. Nothing else in
Klimop keeps state in the cache; sessions are in the database.

Settings::

    CACHES = {"default": {
        "BACKEND": "klimop.cache.RedisWithFallbackCache",
        "LOCATION": "redis://redis:6379/1",
        "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.5},
        "FALLBACK_PAUSE": 30,  # seconds before Redis is tried again
    }}
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

#: Applied unless the settings' OPTIONS say otherwise: a dead Redis costs a fraction of a second.
FAST_FAILURE = {"socket_connect_timeout": 0.3, "socket_timeout": 0.5}


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.exceptions.RedisError, OSError)


class RedisWithFallbackCache(RedisCache):
    """RedisCache that falls back to a per-process local-memory cache while Redis is down."""

    clock = staticmethod(time.monotonic)

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # One immediate retry: a connection Redis closed (a restart) is replaced at once, and a
        # Redis that is down costs two short attempts, not redis-py's backed-off three.
        options = {**FAST_FAILURE, "retry": Retry(NoBackoff(), 1), **params.get("OPTIONS", {})}
        params = {**params, "OPTIONS": options}
        self.fallback_pause = float(params.pop("FALLBACK_PAUSE", 30))
        super().__init__(server, params)
        self._errors = _redis_errors()
        self._fallback = LocMemCache(f"klimop-fallback-{server}", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self._lock = threading.Lock()
        self._down_until: float | None = None

    # --- state ------------------------------------------------------------------------------

    @property
    def using_fallback(self) -> bool:
        """True while Redis counts as down (its last call failed less than a pause ago)."""
        return self._down_until is not None and self.clock() < self._down_until

    def _try_redis(self) -> bool:
        return not self.using_fallback

    def _failed(self, operation: str, exc: BaseException) -> None:
        with self._lock:
            first = self._down_until is None
            self._down_until = self.clock() + self.fallback_pause
        if first:
            logger.warning(
                "The Redis cache does not answer (%s: %s); this process uses its own memory for "
                "%ss at a time until it does (login limits are then counted per process).",
                operation,
                exc.__class__.__name__,
                self.fallback_pause,
            )

    def _succeeded(self) -> None:
        if self._down_until is None:
            return
        with self._lock:
            self._down_until = None
        logger.warning("The Redis cache answers again; the local fallback is no longer used.")

    def _call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        if self._try_redis():
            try:
                result = getattr(super(), operation)(*args, **kwargs)
            except self._errors as exc:
                self._failed(operation, exc)
            else:
                self._succeeded()
                return result
        return getattr(self._fallback, operation)(*args, **kwargs)

    # --- the cache API ----------------------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        self._fallback.clear()
        return self._call("clear")

    def ping(self) -> bool:
        """Whether Redis itself answers now (for the health checks; never the fallback)."""
        try:
            client = self._cache.get_client(write=True)  # type: ignore[attr-defined]
            ok = bool(client.ping())
        except self._errors as exc:
            self._failed("ping", exc)
            return False
        self._succeeded()
        return ok
