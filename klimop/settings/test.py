"""Tests: PostgreSQL and Redis when reachable (CI), SQLite and in-memory otherwise.

``make test`` (tests/services.py) decides and exports DATABASE_URL / REDIS_URL;
the suite never mocks the database.
"""

from .base import *  # noqa: F403
from .base import STATIC_ROOT, env

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES = {"default": env.db("DATABASE_URL", default="sqlite:///:memory:")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A test's commit need not wait for the disk: the test database is thrown away, and the
    # live-server tests commit every row they write (most of the browser tests' time in PostgreSQL).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Unit tests run tasks eagerly; tests that prove delivery through Redis start a
# real worker with their own app configuration (tests/test_celery.py).
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["*"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
