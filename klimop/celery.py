"""Klimop's Celery app: configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klimop.settings.local")

app = Celery("klimop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
