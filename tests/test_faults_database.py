"""The database restarted under traffic (issue 13, point 5): while PostgreSQL is down a parent
gets the translated "try again" page (503, templates/503.html) at once, never an error page;
when it is back, the same gunicorn worker serves and stores writes again, without a restart.

Real processes: a PostgreSQL of the test's own (initdb into a temporary folder, a free port),
holding a copy of the test database with the test's rows; gunicorn with the production
settings (persistent connections checked before reuse: ``CONN_MAX_AGE``,
``CONN_HEALTH_CHECKS``; ``connect_timeout``) and one sync worker; a Redis of the test's own
for its cache and broker. A parent's browser asks for pages and sends chat messages in a
loop on its own thread the whole time; the database is stopped (``pg_ctl stop -m fast``, as
a restart by an operator ends every session) and started again under that traffic.

Every answer is counted: 200 or 302 (a message sent) or 503, never a 500; every message that
was answered "sent" is stored; of the ones answered 503 at most one is stored anyway (the one
whose COMMIT the database carried out as it went down, before its answer reached Django;
nothing can tell that apart from a commit that failed).
"""

import os
import pwd
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from communication.chats import services as chats
from tests.bench.client import Session
from tests.processes import (
    POSTGRES_BIN,
    ROOT,
    PrivatePostgres,
    free_port,
    log_lines,
    own_redis,
    services_missing,
    stop,
    wait,
)

__all__ = ["own_redis"]  # a fixture

HOST = "127.0.0.1"


def _cannot_run_postgres() -> bool:
    if POSTGRES_BIN is None:
        return True
    if os.geteuid() == 0:  # initdb refuses root: the server runs as the postgres user
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return True
        return shutil.which("runuser") is None
    return False


pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(services_missing(), reason="needs PostgreSQL, Redis and redis-server (make test)"),
    pytest.mark.skipif(_cannot_run_postgres(), reason="needs PostgreSQL's initdb (and runuser when root)"),
]


@pytest.fixture
def private_postgres():
    server = PrivatePostgres()
    try:
        server.create()
        yield server
    finally:
        server.remove()


def _copy_test_database(server: PrivatePostgres) -> None:
    """The test database as it is now (its schema and the test's rows) into ``server``."""
    db = connection.settings_dict
    with psycopg.connect(server.url("postgres"), autocommit=True) as admin:
        admin.execute("CREATE DATABASE klimop")
    dump = subprocess.run(  # noqa: S603 - the installed PostgreSQL's programs, our arguments
        [
            str(POSTGRES_BIN / "pg_dump"),
            f"--dbname=postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
            "--no-owner",
            "--no-privileges",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    subprocess.run(  # noqa: S603
        [str(POSTGRES_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", server.url("klimop")],
        input=dump,
        check=True,
        capture_output=True,
        timeout=60,
    )


def _gunicorn(tmp_path: Path, database: str, redis: str) -> tuple[subprocess.Popen, Path, int]:
    """gunicorn as the image runs it, with the production settings, one sync worker."""
    port = free_port()
    site = f"https://{HOST}:{port}"
    redis_base = redis.rsplit("/", 1)[0]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.faults_settings",
        # The test's own key: the session the test made for the parent is valid here too.
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": database,
        "REDIS_URL": f"{redis_base}/1",
        "CELERY_BROKER_URL": f"{redis_base}/0",
        "ALLOWED_HOSTS": HOST,
        "SITE_URL": site,
        "CSRF_TRUSTED_ORIGINS": site,
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "klimop.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            "1",
            "--timeout",
            "60",
            "--access-logfile",
            "-",
            # The worker's pid, so the log says which process answered.
            "--access-logformat",
            "access pid=%(p)s %(m)s %(U)s %(s)s",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process, log, port


def _answers(port: int) -> bool:
    try:
        return Session(HOST, port, "10.0.0.9").get("/healthz").status == 200
    except OSError:
        return False


class Traffic(threading.Thread):
    """A parent's phone, on its own thread: the home page and a chat message, in turn, until
    stopped. Every answer is kept: (message text or None, status, seconds)."""

    def __init__(self, port: int, session_id: str, chat: str) -> None:
        super().__init__(daemon=True)
        self.browser = Session(HOST, port, "10.0.0.2")
        self.browser.cookies["sessionid"] = session_id
        self.chat, self.answers, self.errors = chat, [], []
        self.stopping = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stopping.is_set():
            n += 1
            text = f"Verkeer {n}" if n % 2 == 0 else None
            started = time.monotonic()
            try:
                response = self.browser.post(self.chat, {"body": text}) if text else self.browser.get("/")
            except Exception as exc:  # noqa: BLE001 - kept, and the test fails on it
                self.errors.append(repr(exc))
                return
            self.answers.append((text, response.status, time.monotonic() - started))
            self.stopping.wait(0.02)  # a person's pace, roughly; not a wait for anything

    def count(self, status: int, since: int = 0) -> int:
        return sum(answer[1] == status for answer in self.answers[since:])

    def stop(self) -> None:
        self.stopping.set()
        if self.ident is not None:  # started
            self.join(timeout=60)


def _stored_traffic(server: PrivatePostgres, conversation_id: int) -> set[str]:
    with psycopg.connect(server.url("klimop")) as db:
        bodies = db.execute(
            "SELECT body FROM chats_message WHERE conversation_id = %s", [conversation_id]
        ).fetchall()
    return {match.group(0) for (body,) in bodies if (match := re.search(r"Verkeer \d+", body))}


def test_the_database_restarted_under_traffic_answers_503_and_then_serves_the_same_process_again(
    tmp_path, own_redis, private_postgres, parent, child, teacher
):
    # gunicorn boots (it needs the database only for its first request) while the parent's
    # chat and session are written and copied into the private server.
    gunicorn, log, port = _gunicorn(tmp_path, private_postgres.url("klimop"), own_redis)
    traffic = None
    try:
        conversation = chats.conversation_start_direct(actor=parent.user, pupil=child, body="Eerste vraag")
        logged_in = Client()
        logged_in.force_login(parent.user)
        session_id = logged_in.cookies["sessionid"].value
        _copy_test_database(private_postgres)
        chat = reverse("chats:chat_detail", args=[conversation.pk])
        traffic = Traffic(port, session_id, chat)
        wait(lambda: _answers(port), "gunicorn to answer", [log])
        phone = Session(HOST, port, "10.0.0.1")
        phone.cookies["sessionid"] = session_id
        assert phone.get("/").status == 200
        assert phone.post(chat, {"body": "Voor de storing"}).status == 302
        traffic.start()
        wait(lambda: traffic.count(302) >= 3 or traffic.errors, "traffic", [log])

        # PostgreSQL goes down under that traffic.
        private_postgres.stop()
        down = len(traffic.answers)
        page = phone.get("/")
        assert page.status == 503
        assert "data-database-unavailable" in page.text
        assert page.headers["Retry-After"] == "15"
        sent = phone.post(chat, {"body": "Tijdens de storing"})
        assert sent.status == 503
        assert "Tijdens de storing" in sent.text  # offered to send again, nothing typed lost
        wait(lambda: traffic.count(503, since=down) >= 6 or traffic.errors, "503 answers", [log])

        # PostgreSQL is back: the very next requests are served, by the same worker.
        private_postgres.start()
        up = len(traffic.answers)
        assert phone.get("/").status == 200
        assert phone.post(chat, {"body": "Na de storing"}).status == 302
        wait(lambda: traffic.count(302, since=up) >= 3 or traffic.errors, "traffic after", [log])
    finally:
        if traffic is not None:
            traffic.stop()
        stop(gunicorn)

    assert traffic.errors == []
    statuses = [status for _text, status, _seconds in traffic.answers]
    assert set(statuses) == {200, 302, 503}, statuses  # never a 500, nor anything else
    outage = [seconds for _text, status, seconds in traffic.answers if status == 503]
    print(  # noqa: T201 - what was measured (pytest -s shows it)
        f"{len(statuses)} requests under traffic: {statuses.count(200)} pages, {statuses.count(302)} "
        f"messages sent, {len(outage)} answered 503 (the slowest in {max(outage):.2f} s)"
    )
    # At once: a stopped database refuses the connection, and Django answers without waiting
    # (a bound far above what was measured, far below a proxy's timeout or TCP's minutes).
    assert max(outage) < 5
    # Every message answered "sent" is stored; of those answered 503, one at most.
    stored = _stored_traffic(private_postgres, conversation.pk)
    answered_sent = {text for text, status, _ in traffic.answers if text and status == 302}
    answered_503 = {text for text, status, _ in traffic.answers if text and status == 503}
    assert answered_sent <= stored
    assert len(stored - answered_sent) <= 1
    assert stored - answered_sent <= answered_503
    with psycopg.connect(private_postgres.url("klimop")) as db:
        mine = db.execute(
            "SELECT body FROM chats_message WHERE conversation_id = %s AND body NOT LIKE %s ORDER BY id",
            [conversation.pk, "%Verkeer%"],
        ).fetchall()
    assert [body for (body,) in mine] == [
        "<p>Eerste vraag</p>",
        "<p>Voor de storing</p>",
        "<p>Na de storing</p>",
    ]
    # One worker answered everything; it was never replaced, nor was gunicorn restarted.
    pids = {line.split("pid=")[1].split()[0] for line in log_lines(log, "access pid=")}
    assert len(pids) == 1
    assert len(log_lines(log, "Booting worker")) == 1
    assert {line.rsplit(" ", 1)[1] for line in log_lines(log, "access pid=")} == {"200", "302", "503"}
