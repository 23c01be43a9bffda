"""``manage.py demo_school`` into a database without the demo, and ``--reset``'s files.

These tests cannot read the demo that tests/test_demo_school.py builds once for all its
tests: they need a database without it (the school year it picks, ``--reset`` with nothing to
delete), or they delete its photo files, which live outside the database and so outside the
rollback that keeps the shared demo unchanged from one test to the next. Each builds its own.
"""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import call_command

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


def test_in_the_summer_holidays_the_coming_school_year_is_built():
    run_demo(date=dt.date(2026, 8, 1))
    assert SchoolYear.objects.get().name == "2026/2027"


def test_before_the_summer_the_current_school_year_is_built():
    run_demo(date=dt.date(2026, 6, 1))
    assert SchoolYear.objects.get().name == "2025/2026"


def test_reset_deletes_the_old_photo_files(django_capture_on_commit_callbacks):
    run_demo()
    files = [n for pair in PostPhoto.objects.values_list("image", "thumbnail") for n in pair]
    assert files
    assert all(default_storage.exists(n) for n in files)
    with django_capture_on_commit_callbacks(execute=True):
        run_demo("--reset")
    assert not any(default_storage.exists(n) for n in files)


def test_reset_without_a_demo_school_just_builds_it():
    run_demo("--reset")
    assert School.objects.filter(slug=demo.SLUG).exists()
