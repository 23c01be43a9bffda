"""The settings of the gunicorn that tests/test_faults_database.py starts: production's, except
that static files are served as they are, without the manifest ``collectstatic`` writes when
the image is built (seconds a test need not spend; the database's behaviour does not depend
on it)."""

from klimop.settings.production import *  # noqa: F403
from klimop.settings.production import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
