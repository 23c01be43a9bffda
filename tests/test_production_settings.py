"""The production settings keep database connections, checked before reuse (not a new
connection per request), and an operator can change how long."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _database_settings(**env: str) -> str:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "d = settings.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    environment = {
        **{k: v for k, v in os.environ.items() if k != "CONN_MAX_AGE"},
        "DJANGO_SETTINGS_MODULE": "klimop.settings.production",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "klimop.example",
        "DATABASE_URL": "sqlite:////tmp/klimop-production-settings.sqlite3",
        **env,
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_production_keeps_a_checked_connection_for_a_minute():
    assert _database_settings() == "60 True"


def test_the_operator_chooses_how_long():
    assert _database_settings(CONN_MAX_AGE="0") == "0 True"
