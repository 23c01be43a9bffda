"""`make bench`: build a school on PostgreSQL, serve it as in production, load it, report.

Order: a fresh database ``klimop_bench_<pid>`` (dropped at the end), migrate, the school
(``school.py``), static files; then Redis database 14 flushed, the SMTP sink, gunicorn
(production settings plus two baseline views, ``klimop.settings.bench``), Celery workers for
the default and the mail queue, and beat; then the parts: pages (every page at ``--users``
concurrent logged-in users for ``--seconds`` each, with the two baselines), post (a
school-wide post until every e-mail is at the mail server), rush (families booking at once).
Loopback only; everything started is stopped and the database dropped, also on Ctrl-C or an
error.

Options (or the environment: BENCH_SIZE, BENCH_USERS, BENCH_SECONDS, BENCH_PARTS,
BENCH_WORKERS, BENCH_RUSH_CLIENTS): see ``python -m tests.bench --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from .client import Job, Session, client_ip, run_load
from .smtp_sink import SmtpSink
from .stats import Load, Target, load_table, percentile, within

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
OUT = ROOT / "var" / "bench"
PG = {"host": os.environ.get("PGHOST", "127.0.0.1"), "port": int(os.environ.get("PGPORT", "5432"))}
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")  # the tests use /15
HOST = "127.0.0.1"

PARENT = Target(min_ratio=1 / 3, max_p95_ms=250)
DASHBOARD = Target(min_ratio=1 / 5)
POLL = Target(min_ratio=1 / 2)
POST_MAIL_SECONDS, RUSH_SECONDS, RUSH_P95_MS = 60.0, 10.0, 1000.0
#: What the booking page's script (static/js/planner.js) sends with a booking: the answer is
#: the booking part of the page when the slot was taken, an ``HX-Redirect`` when it was booked.
BOOKING_SCRIPT = {"HX-Request": "true"}


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def options(argv: list[str]) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=["demo", "1000"], default=env("BENCH_SIZE", "demo"))
    parser.add_argument("--users", type=int, default=int(env("BENCH_USERS", "20")))
    parser.add_argument("--seconds", type=float, default=float(env("BENCH_SECONDS", "10")))
    parser.add_argument("--parts", default=env("BENCH_PARTS", "pages,post,rush"), help="comma-separated")
    parser.add_argument("--workers", type=int, default=int(env("BENCH_WORKERS", "5")), help="gunicorn")
    parser.add_argument("--rush-clients", type=int, default=int(env("BENCH_RUSH_CLIENTS", "30")))
    parser.add_argument("--rush-families", type=int, default=300)
    parser.add_argument("--rush-slots", type=int, default=100)
    parser.add_argument("--post-wait", type=float, default=180.0, help="seconds to wait for the e-mails")
    args = parser.parse_args(argv)
    args.parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    return args


# --- processes and cleanup -----------------------------------------------------------------------


class Stack:
    """What the bench started, stopped in reverse order whatever happens."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.cleanups: list[tuple[str, Callable[[], object]]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(OUT / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(  # noqa: S603 - our own virtualenv's programs
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append((name, proc))
        return proc

    def check(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} stopped (exit {proc.returncode}); see var/bench/{name}.log")

    def stop(self) -> None:
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for _name, proc in reversed(self.procs):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.procs.clear()
        for name, cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except Exception as exc:  # noqa: BLE001 - report and go on cleaning
                say(f"bench: cleanup of {name} failed: {exc!r}")
        self.cleanups.clear()


def _postgres(sql: str) -> None:
    import psycopg

    with psycopg.connect(
        dbname="postgres", user="postgres", autocommit=True, connect_timeout=5, **PG
    ) as conn:
        conn.execute(sql)


def _analyze() -> None:
    """Planner statistics for the school just built, as autovacuum would gather them.

    A freshly loaded database has none until autovacuum has analysed its tables (a minute or
    more after the load, and never where autovacuum is off, as on the development machines):
    without them PostgreSQL plans every table as if it were empty, and a parent's page scans all
    pupils once per row instead of starting from the parent's own children."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def _wait_healthy(port: int, stack: Stack, seconds: float = 90) -> None:
    session = Session(HOST, port, "10.255.0.1")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        stack.check()
        try:
            if session.get("/healthz").status == 200:
                return
        except OSError:
            session.close()
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer /healthz in time; see var/bench/gunicorn.log")


def machine() -> str:
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    model = ""
    with contextlib.suppress(OSError, StopIteration):
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return (
        f"{os.cpu_count()} cores ({model or platform.machine()}){memory}, Python {platform.python_version()}"
    )


# --- the parts -------------------------------------------------------------------------------------


def pages(args: argparse.Namespace, port: int, bench) -> tuple[list[Load], dict[str, Target], list[str]]:
    """Every page at ``args.users`` users, after the two baselines, in the same gunicorn."""
    notes: list[str] = []
    n = args.users
    parents = [bench.parents[i % len(bench.parents)] for i in range(n)]

    def sessions(emails: list[str], base: int) -> list[Session]:
        made = []
        for i, email in enumerate(emails):
            session = Session(HOST, port, client_ip(base + i))
            session.login(email, bench.password)
            made.append(session)
        return made

    say(f"bench: logging in {n} parents, {n} teacher and {n} director sessions through the login form")
    parent_s = sessions([p.email for p in parents], 1)
    teacher_s = sessions([bench.teachers[i % len(bench.teachers)] for i in range(n)], 101)
    director_s = sessions([bench.director] * n, 201)
    anon_s = [Session(HOST, port, client_ip(301 + i)) for i in range(n)]

    def get(path: str) -> Callable[[], tuple[str, str, None]]:
        return lambda: ("GET", path, None)

    def poll(chat: int) -> Callable[[], tuple[str, str, None]]:
        def make() -> tuple[str, str, None]:
            since = urllib.parse.quote(dt.datetime.now(dt.UTC).isoformat())
            return "GET", f"/gesprekken/{chat}/nieuwe-berichten/?since={since}", None

        return make

    def attempt(session: Session, pupil: int, slot: int) -> Callable[[], tuple[str, str, dict[str, str]]]:
        return lambda: (
            "POST",
            f"/oudergesprekken/{bench.attempt_round_id}/",
            {"csrfmiddlewaretoken": session.cookies.get("csrftoken", ""), f"slot_{pupil}": str(slot)},
        )

    def each(
        ss: list[Session], make: Callable[[int], Callable], expect: int = 200, extra: dict | None = None
    ) -> list[Job]:
        return [Job(s, make(i), expect, extra) for i, s in enumerate(ss)]

    plan: list[tuple[str, str, list[Job], Target | None]] = [
        ("baseline: anonymous ok", "anonymous", each(anon_s, lambda i: get("/__bench__/ok")), None),
        ("baseline: session user", "parent", each(parent_s, lambda i: get("/__bench__/auth")), None),
        ("home", "parent", each(parent_s, lambda i: get("/")), PARENT),
        ("notifications", "parent", each(parent_s, lambda i: get("/meldingen/")), PARENT),
        ("posts", "parent", each(parent_s, lambda i: get("/berichten/")), PARENT),
        (
            "a post (newsletter)",
            "parent",
            each(parent_s, lambda i: get(f"/berichten/{bench.post_id}/")),
            PARENT,
        ),
        ("chats", "parent", each(parent_s, lambda i: get("/gesprekken/")), PARENT),
        (
            "a chat (child's)",
            "parent",
            each(parent_s, lambda i: get(f"/gesprekken/{parents[i].chat_id}/")),
            PARENT,
        ),
        ("chat poll, nothing new", "parent", each(parent_s, lambda i: poll(parents[i].chat_id), 204), POLL),
        ("agenda", "parent", each(parent_s, lambda i: get("/agenda/")), PARENT),
        ("absence report form", "parent", each(parent_s, lambda i: get("/afwezigheid/ziekmelden/")), PARENT),
        (
            "planner booking page",
            "parent",
            each(parent_s, lambda i: get(f"/oudergesprekken/{bench.attempt_round_id}/")),
            PARENT,
        ),
        ("privacy", "parent", each(parent_s, lambda i: get("/privacy/")), PARENT),
        (
            "iCal feed",
            "parent's calendar app",
            each(anon_s, lambda i: get(f"/agenda/feed/{parents[i].feed_token}.ics")),
            None,
        ),
        (
            "booking attempt, slot taken",
            "parent",
            each(
                parent_s,
                lambda i: attempt(parent_s[i], parents[i].pupil_id, parents[i].taken_slot_id),
                409,
                BOOKING_SCRIPT,
            ),
            None,
        ),
        ("staff dashboard", "teacher", each(teacher_s, lambda i: get("/staff/")), DASHBOARD),
        ("chats", "teacher", each(teacher_s, lambda i: get("/gesprekken/")), None),
        ("staff dashboard", "director", each(director_s, lambda i: get("/staff/")), DASHBOARD),
        ("quality card", "director", each(director_s, lambda i: get("/kwaliteit/")), None),
    ]
    loads: list[Load] = []
    targets: dict[str, Target] = {}
    for name, role, jobs, target in plan:
        load = run_load(name, role, jobs, args.seconds)
        load.name = f"{name}" if role in ("parent", "anonymous") else f"{name} ({role})"
        load.role = role
        loads.append(load)
        if target:
            targets[load.name] = target
        say(
            f"  {load.name:40} {load.rate:7.1f} req/s  p50 {load.p50_ms:6.0f} ms  p95 {load.p95_ms:6.0f} ms"
            f"  errors {load.errors}"
        )
        for sample in load.error_samples:
            notes.append(f"{load.name}: {sample}")
    return loads, targets, notes


def alone(bench, loads: list[Load]) -> dict[str, tuple[float, int, int]]:
    """Each page once more, alone, in this process (Django's test client): median time of 5,
    the number of queries and of Python function calls; says whether a slow page is slow by
    itself or only under load. The calls (counted by cProfile) are the same in every run of the
    same code and data, where times on a shared machine move by a third: compare those."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from klimop.models import User

    p = bench.parents[0]
    paths = {
        "baseline: session user": (p.email, "/__bench__/auth"),
        "home": (p.email, "/"),
        "notifications": (p.email, "/meldingen/"),
        "posts": (p.email, "/berichten/"),
        "a post (newsletter)": (p.email, f"/berichten/{bench.post_id}/"),
        "chats": (p.email, "/gesprekken/"),
        "a chat (child's)": (p.email, f"/gesprekken/{p.chat_id}/"),
        "agenda": (p.email, "/agenda/"),
        "absence report form": (p.email, "/afwezigheid/ziekmelden/"),
        "planner booking page": (p.email, f"/oudergesprekken/{bench.attempt_round_id}/"),
        "privacy": (p.email, "/privacy/"),
        "iCal feed": (None, f"/agenda/feed/{p.feed_token}.ics"),
        "staff dashboard (teacher)": (bench.teachers[0], "/staff/"),
        "chats (teacher)": (bench.teachers[0], "/gesprekken/"),
        "staff dashboard (director)": (bench.director, "/staff/"),
        "quality card (director)": (bench.director, "/kwaliteit/"),
    }
    found: dict[str, tuple[float, int, int]] = {}
    for name, (email, path) in paths.items():
        client = Client(HTTP_HOST=HOST)
        if email:
            client.force_login(User.objects.get(email=email))
        client.get(path, secure=True)
        times = []
        for _ in range(5):
            began = time.perf_counter()
            client.get(path, secure=True)
            times.append(time.perf_counter() - began)
        with CaptureQueriesContext(connection) as captured:
            client.get(path, secure=True)
        queries = len(captured)  # now: the next request empties the connection's query log
        profile = cProfile.Profile()
        profile.runcall(client.get, path, secure=True)
        found[name] = (statistics.median(times) * 1000, queries, pstats.Stats(profile).total_calls)
    return found


def school_post(args: argparse.Namespace, bench, sink: SmtpSink, stack: Stack) -> list[str]:
    """A school-wide post by the director: time until every guardian's notification exists and
    until every e-mail of it was handed to the mail server (the outbox marks it sent)."""
    from django.db import transaction
    from django.utils import timezone

    from communication.posts.models import Post
    from communication.posts.services import audience_users, post_create
    from klimop.models import School, User
    from klimop.notifications.models import Notification
    from klimop.queue import enqueue_on_commit

    school = School.objects.get(pk=bench.school_id)
    director = User.objects.get(email=bench.director)
    sink.reset()
    began = time.monotonic()
    post = post_create(
        actor=director,
        school=school,
        kind=Post.Kind.NEWSLETTER,
        title="Bench: nieuwsbrief",
        body="<p>Een bericht aan de hele school, om de bezorging te meten.</p>",
    )
    lines = []
    if post.publish_at > timezone.now():
        # The director's working time has not begun: the post waits for it. The bench lets the
        # opening come now (what the publication sweep does then) and times from there.
        lines += [
            f"The post was held for the director's working time "
            f"({post.publish_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC); the bench published it now.",
            "",
        ]
        with transaction.atomic():
            Post.objects.filter(pk=post.pk).update(publish_at=timezone.now(), held_for_office_hours=False)
            enqueue_on_commit("communication.posts.tasks.notify_post_published", post.pk)
        began = time.monotonic()
    audience = audience_users(post).count()
    cause = f"post:{post.pk}"
    notified_at = mailed_at = None
    wanted = sent = made = 0
    marks = [m for m in (5, 15, 30, 60, 90, 120, 150, 180, 240, 300) if m <= args.post_wait]
    progress: list[str] = []
    while time.monotonic() - began < args.post_wait:
        stack.check()
        notes = Notification.objects.filter(cause=cause)
        made = notes.count()
        if notified_at is None and made >= audience:
            notified_at = time.monotonic() - began
        if notified_at is not None:
            wanted = notes.exclude(email_status=Notification.EmailStatus.NOT_WANTED).count()
            sent = notes.filter(email_status=Notification.EmailStatus.SENT).count()
            while marks and time.monotonic() - began >= marks[0]:
                progress.append(f"{sent} after {marks.pop(0)} s")
            if sent >= wanted:
                mailed_at = time.monotonic() - began
                break
        time.sleep(0.25)
    failed = Notification.objects.filter(cause=cause, email_status=Notification.EmailStatus.FAILED).count()
    lines += [
        "| measure | result | target | verdict |",
        "|---|---|---|---|",
        f"| in-app notifications | {made} of {audience} guardians with a login, "
        + (
            f"all after {notified_at:.1f} s"
            if notified_at is not None
            else f"not all after {args.post_wait:.0f} s"
        )
        + " | - | - |",
        f"| e-mails handed to the mail server | {sent} of {wanted}"
        + (f", all after {mailed_at:.1f} s" if mailed_at is not None else f" after {args.post_wait:.0f} s")
        + f" (failed {failed}; the sink counted {sink.messages} messages in all)"
        + f" | all within {POST_MAIL_SECONDS:.0f} s | {within(mailed_at, POST_MAIL_SECONDS)} |",
        "| e-mails sent, over time | " + (", ".join(progress) or "-") + " | - | - |",
    ]
    for line in lines[-3:]:
        say("  " + line)
    return lines


def rush(args: argparse.Namespace, port: int, bench, stack: Stack) -> list[str]:
    """``len(rush_families)`` families with a child each book in the same round at the same
    moment, ``args.rush_clients`` at a time. A taken slot answers 409 with the free times, and
    the family tries one of those, until it has one or none is left."""
    import queue

    from conversations.models import Booking, Slot

    from .school import double_bookings

    families = bench.rush_families
    slots_total = Slot.objects.filter(round_id=bench.rush_round_id).count()
    todo: queue.Queue = queue.Queue()
    for n, family in enumerate(families):
        todo.put((n, family))
    latencies: list[float] = []
    outcome = {"booked": 0, "none left": 0, "taken (409)": 0, "errors": 0}
    samples: list[str] = []
    lock = threading.Lock()
    finished = [0.0]
    clients = min(args.rush_clients, len(families))
    start_at = [0.0]
    barrier = threading.Barrier(clients, action=lambda: start_at.__setitem__(0, time.monotonic()))
    path = f"/oudergesprekken/{bench.rush_round_id}/"

    def client() -> None:
        rng = random.Random()
        barrier.wait()
        while True:
            try:
                n, family = todo.get_nowait()
            except queue.Empty:
                return
            session = Session(HOST, port, client_ip(1000 + n))
            csrf = secrets.token_hex(16)
            session.cookies = {"sessionid": family.session_key, "csrftoken": csrf}
            choice = rng.choice(bench.rush_slots[family.group_id])
            result = "errors"
            for _ in range(30):
                began = time.monotonic()
                try:
                    answer = session.post(
                        path,
                        {f"slot_{family.pupil_id}": str(choice)} | {"csrfmiddlewaretoken": csrf},
                        BOOKING_SCRIPT,
                    )
                except OSError as exc:
                    with lock:
                        samples.append(repr(exc))
                    break
                with lock:
                    latencies.append(time.monotonic() - began)
                if answer.status == 200 and answer.headers.get("HX-Redirect"):
                    result = "booked"  # the script then opens the booking's page
                    break
                if answer.status != 409:
                    with lock:
                        samples.append(f"HTTP {answer.status}")
                    break
                with lock:
                    outcome["taken (409)"] += 1
                free = re.findall(rf'name="slot_{family.pupil_id}" value="(\d+)"', answer.text)
                if not free:
                    result = "none left"
                    break
                choice = int(rng.choice(free))
            session.close()
            with lock:
                outcome[result] += 1
                finished[0] = max(finished[0], time.monotonic())

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stack.check()
    settled = finished[0] - start_at[0]
    booked = Booking.objects.filter(round_id=bench.rush_round_id).count()
    twice_slots, twice_pupils = double_bookings(bench.rush_round_id)
    p50, p95 = percentile(latencies, 50) * 1000, percentile(latencies, 95) * 1000
    ok = outcome["errors"] == 0 and twice_slots == twice_pupils == 0
    settle_verdict = within(settled, RUSH_SECONDS) if ok else "missed: errors or double bookings"
    p95_verdict = "met" if p95 < RUSH_P95_MS else f"missed by {p95 - RUSH_P95_MS:.0f} ms"
    lines = [
        "| measure | result | target | verdict |",
        "|---|---|---|---|",
        f"| settled | {len(families)} families, {clients} clients at once, {slots_total} slots: "
        f"all answered after {settled:.1f} s | ≤ {RUSH_SECONDS:.0f} s | {settle_verdict} |",
        f"| booking attempt | {len(latencies)} attempts, p50 {p50:.0f} ms, p95 {p95:.0f} ms | "
        f"p95 < {RUSH_P95_MS:.0f} ms | {p95_verdict} |",
        f"| outcome | booked {outcome['booked']} (database: {booked} of {slots_total} slots), "
        f"refused as taken {outcome['taken (409)']} times, no time left for {outcome['none left']} "
        f"families, errors {outcome['errors']} | - | - |",
        f"| double bookings | {twice_slots} slots, {twice_pupils} pupils | 0 | "
        f"{'met' if twice_slots == twice_pupils == 0 else 'MISSED'} |",
    ]
    lines += [f"error: {s}" for s in samples[:3]]
    for line in lines[2:]:
        say("  " + line)
    return lines


# --- the run ----------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    args = options(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    stack = Stack()

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        return _run(args, stack)
    except KeyboardInterrupt:
        say("bench: interrupted; cleaning up")
        return 130
    finally:
        stack.stop()


def _run(args: argparse.Namespace, stack: Stack) -> int:
    started = time.monotonic()
    database = f"klimop_bench_{os.getpid()}"
    port, smtp_port = free_port(), free_port()
    _postgres(f'CREATE DATABASE "{database}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        _postgres(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    stack.cleanups.append(("database", drop))
    stack.cleanups.append(("redis db", _flush_redis))
    site = f"https://{HOST}:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "klimop.settings.bench",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"postgres://postgres@{PG['host']}:{PG['port']}/{database}",
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "SITE_URL": site,
        "CSRF_TRUSTED_ORIGINS": site,
        "EMAIL_URL": f"smtp://{HOST}:{smtp_port}",
        "EMAIL_TIMEOUT": "10",
        "STATIC_ROOT": str(OUT / "static"),
        "MEDIA_ROOT": str(OUT / f"media-{os.getpid()}"),
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    os.environ.update(env)
    import shutil

    stack.cleanups.append(("media", lambda: shutil.rmtree(env["MEDIA_ROOT"], ignore_errors=True)))

    import django

    django.setup()
    from django.core.management import call_command

    from . import school as bench_school

    say(f"bench: database {database}; migrating")
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    say(f"bench: building the {args.size} school")
    t0 = time.monotonic()
    built = bench_school.build(args.size)
    bench = bench_school.prepare(
        built,
        size=args.size,
        users=args.users,
        rush_families=args.rush_families,
        rush_slots=args.rush_slots,
    )
    _analyze()
    build_seconds = time.monotonic() - t0
    say(f"bench: school ready in {build_seconds:.0f} s: {bench.counts}")

    _flush_redis()  # the invitations the setup queued go nowhere
    sink = SmtpSink(HOST, smtp_port).start()
    stack.cleanups.append(("smtp sink", sink.stop))
    bin_ = str(VENV_BIN)
    stack.start(
        "gunicorn",
        [
            f"{bin_}/gunicorn",
            "klimop.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
        ],
        env,
    )
    stack.start(
        "celery-worker",
        [
            f"{bin_}/celery",
            "-A",
            "klimop",
            "worker",
            "--loglevel=warning",
            "--concurrency=2",
            "-Q",
            "celery",
            "-n",
            f"bench{os.getpid()}@%h",
        ],
        env,
    )
    # E-mail and push have a queue and a worker of their own, as in docker-compose.yml.
    stack.start(
        "celery-mail-worker",
        [
            f"{bin_}/celery",
            "-A",
            "klimop",
            "worker",
            "--loglevel=warning",
            "--concurrency=2",
            "-Q",
            "mail",
            "-n",
            f"benchmail{os.getpid()}@%h",
        ],
        env,
    )
    stack.start("celery-beat", [f"{bin_}/celery", "-A", "klimop", "beat", "--loglevel=warning"], env)
    _wait_healthy(port, stack)
    say(
        f"bench: gunicorn ({args.workers} sync workers) at {HOST}:{port}, Celery workers "
        f"(default and mail queue) and beat, mail sink :{smtp_port}"
    )

    report = [
        f"# make bench — {args.size} school",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {machine()}. "
        f"PostgreSQL (fresh database), Redis, gunicorn {args.workers} sync workers with "
        "`klimop.settings.bench` (production plus the two baseline views), two Celery workers "
        "(the default and the mail queue, 2 processes each) and beat, all on loopback with the "
        "load client on the same machine.",
        "",
        "School: "
        + ", ".join(f"{v} {k}" for k, v in bench.counts.items())
        + f" (built in {build_seconds:.0f} s).",
        "",
    ]
    if "pages" in args.parts:
        say(f"bench: pages, {args.users} users, {args.seconds:.0f} s each")
        loads, targets, notes = pages(args, port, bench)
        anon = next(load for load in loads if load.name.startswith("baseline: anonymous"))
        auth = next(load for load in loads if load.name.startswith("baseline: session"))
        solo = alone(bench, loads)
        report += [
            f"## Pages: {args.users} concurrent logged-in users, {args.seconds:.0f} s each, closed loop",
            "",
            load_table(
                loads,
                targets,
                anon.rate,
                auth.rate,
                alone_ms={name: ms for name, (ms, _q, _calls) in solo.items()},
                cores=os.cpu_count() or 1,
            ),
            "",
            "One request alone (in the bench's process, Django's test client; median of 5) and its "
            "queries — a page slow alone is slow by its own work, one fast alone but slow under "
            "load shares the two cores (gunicorn, PostgreSQL and the load client):",
            "",
            "| page | alone ms | queries | Python calls |",
            "|---|--:|--:|--:|",
            *(f"| {name} | {ms:.0f} | {q} | {calls:,} |" for name, (ms, q, calls) in solo.items()),
            "",
        ]
        if notes:
            report += ["Errors seen:", "", *(f"- {n}" for n in notes), ""]
    if "post" in args.parts:
        say("bench: school-wide post")
        report += [
            "## School-wide post (in-app notifications and e-mails)",
            "",
            *school_post(args, bench, sink, stack),
            "",
        ]
    if "rush" in args.parts:
        say(f"bench: booking rush, {len(bench.rush_families)} families")
        report += ["## Booking rush", "", *rush(args, port, bench, stack), ""]
    report.append(f"Whole bench: {time.monotonic() - started:.0f} s.")
    text = "\n".join(report) + "\n"
    (OUT / "last.md").write_text(text)
    (OUT / f"last-{args.size}.md").write_text(text)
    say("")
    say(text)
    say("bench: written to var/bench/last.md")
    return 0
