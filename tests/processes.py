"""Real processes for the fault tests (tests/test_mail_faults.py, tests/test_faults_*.py):
a Redis of the test's own, the portal's Celery app pointed at it, and Celery workers and beat
started as production starts them, reading the test database.

Every process a test starts is stopped in a ``finally`` (or a fixture's), killed when it does
not stop within seconds; nothing outlives its test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

from klimop.celery import app as klimop_app

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("KLIMOP_TEST_REDIS_URL")
BOUND = 180.0  # seconds: generous, for a loaded machine; the tests poll, they never sleep for speed


def services_missing() -> bool:
    """The fault tests need PostgreSQL (the workers read the test database) and redis-server."""
    return not REDIS_URL or connection.vendor != "postgresql" or not shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait(condition: Callable[[], object], what: str, logs: list[Path], timeout: float = BOUND) -> float:
    """Poll until ``condition()`` holds; returns the seconds it took (for the report, never asserted)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            tails = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs if p.exists())
            pytest.fail(f"timed out waiting for {what}\n{tails}")
        time.sleep(0.05)
    return time.monotonic() - start


def stop(process: subprocess.Popen) -> None:
    """Stop as an operator would (SIGTERM: a worker finishes its task, beat saves its schedule)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        kill(process)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started (a prefork worker's pool): a crash, an
    out-of-memory kill, a container killed. Needs ``start_new_session`` (``celery()`` does)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def pool_processes(process: subprocess.Popen) -> list[int]:
    """The pids of the processes ``process`` started (a prefork worker's pool), from /proc."""
    children = Path(f"/proc/{process.pid}/task").glob("*/children")
    return sorted(int(pid) for path in children for pid in path.read_text().split())


def log_lines(log: Path, *words: str) -> list[str]:
    """The lines of a process's log that contain every one of ``words``."""
    return [line for line in log.read_text().splitlines() if all(word in line for word in words)]


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, on a free port (the shared one is never touched)."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - the system's redis-server, our arguments
        [shutil.which("redis-server"), "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        end = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        stop(server)


@pytest.fixture
def portal_queues(own_redis):
    """The portal's Celery app, not eager, sending to the test's Redis with its real routing."""
    conf = klimop_app.conf
    before = {"task_always_eager": conf.task_always_eager, "broker_url": conf.broker_url}
    conf.update(task_always_eager=False, broker_url=own_redis)
    forget_broker_connections()
    yield own_redis
    conf.update(**before)
    forget_broker_connections()


def forget_broker_connections() -> None:
    """The app caches its connection pool and, apart from it, its producer pool: both must go,
    or a task is sent to the broker an earlier test in this process used."""
    klimop_app._pool = None
    klimop_app.amqp._producer_pool = None


def celery(
    tmp_path: Path, name: str, arguments: list[str], broker: str, **env_extra: str
) -> tuple[subprocess.Popen, Path]:
    """``celery -A klimop <arguments>`` with the local settings on the test database and
    ``broker``, in a session of its own (``kill`` takes its pool along); its log in ``tmp_path``."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "klimop.settings.local",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        **env_extra,
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    log = tmp_path / f"{name}.log"
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "celery", "-A", "klimop", *arguments],
        cwd=ROOT,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process, log


def worker(
    tmp_path: Path, name: str, queue: str, broker: str, **env_extra: str
) -> tuple[subprocess.Popen, Path]:
    """A worker for one queue, as production runs them (prefork, late acks), one process."""
    return celery(
        tmp_path,
        name,
        [
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=info",
            "-Q",
            queue,
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        broker,
        **env_extra,
    )


# --- a PostgreSQL of the test's own -----------------------------------------------------------


def _postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's programs (Debian keeps them per version)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


POSTGRES_BIN = _postgres_bin()
WAIT = ("-w", "-t", "60")  # pg_ctl waits until the server is up (or down), at most a minute


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder, on a free port of 127.0.0.1, that a test may
    stop and start (the shared one is never touched). initdb refuses to run as root: as root,
    the server runs as the ``postgres`` user (``runuser``)."""

    def __init__(self) -> None:
        assert POSTGRES_BIN is not None
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="klimop-pg-"))
        self.data, self.log = self.folder / "data", self.folder / "postgres.log"
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def _run(self, program: str, *arguments: str) -> None:
        subprocess.run(  # noqa: S603 - the installed PostgreSQL's programs, our arguments
            [*self.as_owner, str(POSTGRES_BIN / program), *arguments],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create(self) -> PrivatePostgres:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        self.start()
        return self

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "start", *WAIT, "-D", str(self.data), "-l", str(self.log), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """``fast``: as a restart by the operator (sessions ended, clean shutdown)."""
        self._run("pg_ctl", "stop", *WAIT, "-D", str(self.data), "-m", mode)

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
