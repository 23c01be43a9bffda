"""`make bench`: time the main pages with the demo school loaded; not a test, a measurement.

Runs against DATABASE_URL when set (e.g. PostgreSQL), else a throw-away SQLite file.
Prints, per page and user: median and 95th-percentile response time, queries per
request and peak Python memory of one request. Numbers go into the issue notes.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klimop.settings.local")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from klimop.models import User  # noqa: E402

PAGES = [
    ("parent home", "ouder@klimop.example", "/"),
    ("notifications", "ouder@klimop.example", "/meldingen/"),
    ("teacher dashboard", "leerkracht@klimop.example", "/staff/"),
    ("director dashboard (16 groups)", "directeur@klimop.example", "/staff/"),
    ("admin pupil list", "directeur@klimop.example", "/admin/klimop/pupil/"),
    ("parent conversations (chats)", "ouder@klimop.example", "/gesprekken/"),
    ("teacher conversations (chats)", "leerkracht@klimop.example", "/gesprekken/"),
    ("absent today (whole school)", "administratie@klimop.example", "/afwezigheid/vandaag/"),
    ("absence register", "administratie@klimop.example", "/afwezigheid/register/"),
    ("parent planner", "ouder@klimop.example", "/oudergesprekken/"),
    (
        "admin leave requests (open)",
        "directeur@klimop.example",
        "/admin/absences/leaverequest/?status__exact=submitted",
    ),
    ("quality card (school year)", "directeur@klimop.example", "/kwaliteit/"),
    ("health check", None, "/healthz"),
]
RUNS = int(os.environ.get("BENCH_RUNS", "30"))


def main() -> None:
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    started = time.perf_counter()
    call_command("demo_school", "--reset", stdout=open(os.devnull, "w"))  # noqa: SIM115
    print(f"demo school built in {time.perf_counter() - started:.2f} s on {connection.vendor}")
    print(f"{'page':34} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'peak KiB':>9}")
    for name, email, path in PAGES:
        client = Client()
        if email:
            client.force_login(User.objects.get(email=email))
        client.get(path)  # warm up templates and caches
        timings = []
        for _ in range(RUNS):
            reset_queries()
            t0 = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            tracemalloc.start()
            client.get(path)
            peak = tracemalloc.get_traced_memory()[1] / 1024
            tracemalloc.stop()
        timings.sort()
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        print(f"{name:34} {statistics.median(timings):10.1f} {p95:8.1f} {len(queries):8d} {peak:9.0f}")


if __name__ == "__main__":
    main()
