"""The embedded default behind ``make run``: SQLite and a Celery broker on the filesystem."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-do-not-use-in-production")
VAR_DIR.mkdir(exist_ok=True)
