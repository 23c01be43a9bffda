"""`make test`: find PostgreSQL and Redis on localhost, say what the suite runs against, run pytest.

With both reachable (CI, the development machines) the suite runs on PostgreSQL
through psycopg 3, and the tests marked ``services`` prove task delivery through
Redis with a real Celery worker. Without them it falls back to SQLite in memory and
skips those tests, and says so loudly. With CI=true a missing service is an error.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_HOST, PG_PORT = os.environ.get("PGHOST", "127.0.0.1"), int(os.environ.get("PGPORT", "5432"))
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def postgres_reachable() -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", connect_timeout=3
        ) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def redis_reachable() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=3) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def main(argv: list[str]) -> int:
    env = dict(os.environ)
    in_ci = env.get("CI", "").lower() == "true"
    has_pg, has_redis = postgres_reachable(), redis_reachable()
    if has_pg:
        # One database name per run, so two runs on one machine (two checkouts, or a
        # developer and CI) never drop each other's test databases.
        env["DATABASE_URL"] = f"postgres://postgres@{PG_HOST}:{PG_PORT}/klimop_{os.getpid()}"
        print(f"make test: PostgreSQL at {PG_HOST}:{PG_PORT} (psycopg 3)")
    else:
        env.pop("DATABASE_URL", None)
        print("make test: PostgreSQL NOT reachable -> falling back to SQLite in memory")
    if has_redis:
        env["KLIMOP_TEST_REDIS_URL"] = f"redis://{REDIS_HOST}:{REDIS_PORT}/15"
        print(f"make test: Redis at {REDIS_HOST}:{REDIS_PORT} (real Celery worker tests run)")
    else:
        print("make test: Redis NOT reachable -> tests marked 'services' are skipped")
    if in_ci and not (has_pg and has_redis):
        print("make test: CI=true but PostgreSQL or Redis is unreachable; refusing to fall back.")
        return 2
    env.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright + live_server
    args = [sys.executable, "-m", "pytest", *argv]
    # pytest-randomly runs the tests in a new random order each time, so that no test can
    # lean on another having run first. The seed is chosen here and printed, so a failure
    # that shows only in one order can be repeated: make test ARGS="--randomly-seed=N".
    if not any(a.startswith("--randomly-seed") or "no:randomly" in a for a in argv):
        seed = random.SystemRandom().randrange(10**9)
        args.append(f"--randomly-seed={seed}")
        print(
            f'make test: random test order, seed {seed} (repeat: ARGS="--randomly-seed={seed}")', flush=True
        )
    if not any(a.startswith("-n") for a in argv):
        # Whole files per worker (a file shares its demo school), handed out in collection
        # order: tests/conftest.py puts the longest files first.
        args += ["-n", env.get("KLIMOP_TEST_WORKERS", "2"), "--dist", "loadfile", "--no-loadscope-reorder"]
    return subprocess.call(args, cwd=ROOT, env=env)  # noqa: S603 - our own interpreter


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
