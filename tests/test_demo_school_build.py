"""``manage.py demo_school`` into a database without the demo, and ``--reset``'s files.

These tests cannot read the demo that tests/test_demo_school.py builds once for all its
tests: they need a database without it (``--reset`` with nothing to delete, the school year of
a summer day), and they delete its photo files, which live outside the database and so outside
the rollback that keeps the shared demo unchanged from one test to the next. A build takes
seconds: one test builds twice, the choice of the school year is checked without building.
"""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.apps import apps
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import models

from communication.posts.models import PostPhoto
from demo import school as demo
from klimop.models import School, SchoolYear
from tests.conftest import DEMO_BUILT_AT, DEMO_DAY

pytestmark = pytest.mark.django_db


def run_demo(*args: str, date: dt.date = DEMO_DAY) -> str:
    """The command for ``date``, on that day's clock at 10:00 (never the real clock)."""
    out = StringIO()
    with time_machine.travel(dt.datetime.combine(date, DEMO_BUILT_AT.timetz()), tick=False):
        call_command("demo_school", *args, date=date, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("today", "start_year"),
    [
        (dt.date(2026, 6, 1), 2025),  # before the summer: the current school year
        (dt.date(2026, 7, 17), 2025),  # the last school day in the region's calendar
        (dt.date(2026, 7, 18), 2026),  # the first day of the summer holidays: the coming one
        (dt.date(2026, 8, 1), 2026),
        (dt.date(2026, 11, 23), 2026),
        (dt.date(2027, 1, 4), 2026),
    ],
)
def test_the_demo_builds_the_school_year_of_the_day_and_in_the_summer_the_coming_one(today, start_year):
    assert demo.school_year_start_for(region=demo.REGION, today=today) == start_year


def test_reset_without_a_demo_school_builds_the_coming_year_in_the_summer_and_deletes_old_photos(
    django_capture_on_commit_callbacks,
):
    """One build in the summer holidays with ``--reset`` and nothing to delete, then a reset: the
    rebuild deletes the photo files of the school it replaces."""
    run_demo("--reset", date=dt.date(2026, 8, 1))
    assert School.objects.filter(slug=demo.SLUG).exists()
    assert SchoolYear.objects.get().name == "2026/2027"

    files = [n for pair in PostPhoto.objects.values_list("image", "thumbnail") for n in pair]
    assert files
    assert all(default_storage.exists(n) for n in files)
    with django_capture_on_commit_callbacks(execute=True):
        run_demo("--reset", date=dt.date(2026, 8, 1))
    assert not any(default_storage.exists(n) for n in files)
    assert SchoolYear.objects.get().name == "2026/2027"


#: Moments that may lie ahead: what is planned, due or scheduled, not what happened.
MAY_BE_AHEAD = {
    "deliver_at",
    "email_next_attempt_at",
    "push_next_attempt_at",
    "next_attempt_at",
    "answer_by",
    "remind_at",
    "escalate_at",
    "starts_at",
    "ends_at",
    "opens_at",
    "closes_at",
    "old_starts_at",
    "new_starts_at",
    "held_receipt_from",
}


def test_a_demo_built_early_in_the_morning_holds_nothing_that_happened_after_it_was_built():
    """Built on a school day at 06:30, before the sick reports of 07:12 and 08:41, the
    teachers' first working hour and the planner's opening at 08:00: no model holds a
    moment something was created, reported, sent, decided or read after 06:30."""
    built_at = dt.datetime.combine(DEMO_DAY, dt.time(6, 30), tzinfo=DEMO_BUILT_AT.tzinfo)
    with time_machine.travel(built_at, tick=False):
        call_command("demo_school", date=DEMO_DAY, stdout=StringIO())

    from absences.models import AbsenceReport

    ahead = []
    for model in apps.get_models():
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.DateTimeField) and f.name not in MAY_BE_AHEAD
        ]
        for name in fields:
            count = model._default_manager.filter(**{f"{name}__gt": built_at}).count()
            if count:
                ahead.append(f"{model._meta.label}.{name}: {count}")
    assert ahead == []
    # Today's reports are there, made before the build (none of them late at 06:30).
    today = AbsenceReport.objects.filter(starts_on__lte=DEMO_DAY, reported_at__date=DEMO_DAY)
    assert today.count() >= 3
    assert not today.filter(reported_late=True).exists()
