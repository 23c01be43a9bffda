"""Celery: tasks leave only after commit, and real workers run them through Redis and
through the embedded filesystem broker that `make run` uses."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import transaction

from klimop import tasks
from klimop.celery import app as klimop_app
from klimop.queue import enqueue_on_commit

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("KLIMOP_TEST_REDIS_URL")


def test_celery_is_configured_for_at_least_once_delivery():
    conf = klimop_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_serializer == "json"
    assert "klimop-heartbeat" in conf.beat_schedule
    assert "klimop.tasks.ping" in klimop_app.tasks


@pytest.mark.django_db
def test_a_task_is_enqueued_only_when_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        enqueue_on_commit(tasks.ping, "committed")
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_enqueues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                enqueue_on_commit(tasks.ping, "rolled-back")
                raise RuntimeError("the service failed")
        except RuntimeError:
            pass
    assert callbacks == []


@pytest.mark.django_db
def test_an_unreachable_broker_does_not_break_the_request(monkeypatch, caplog):
    """The enqueue is logged and left to the periodic sweep; the caller's commit stands."""

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.ping, "apply_async", broker_down)
    with transaction.atomic():
        enqueue_on_commit(tasks.ping, "lost?")
    # pytest-django's test transaction never commits; run the callbacks by hand.
    from django.db import connection

    for _, callback, _ in connection.run_on_commit:
        callback()
    assert "left for the periodic sweep" in caplog.text


def _start_worker(tmp_path: Path, env_extra: dict[str, str], queue: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "klimop.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        **env_extra,
    }
    log = (tmp_path / "worker.log").open("w")
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "klimop",
            "worker",
            "--pool=solo",
            "--loglevel=info",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _stop(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()


@pytest.mark.services
@pytest.mark.skipif(not REDIS_URL, reason="Redis not reachable (make test says so)")
def test_a_real_worker_runs_a_task_delivered_through_redis(tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = _start_worker(
        tmp_path, {"CELERY_BROKER_URL": REDIS_URL, "CELERY_RESULT_BACKEND": REDIS_URL}, queue
    )
    try:
        sender = Celery("sender", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
        token = uuid.uuid4().hex
        result = sender.send_task("klimop.tasks.ping", args=[token], queue=queue)
        assert result.get(timeout=60) == token
    finally:
        _stop(worker)
    assert "klimop.tasks.ping" in (tmp_path / "worker.log").read_text()


def test_the_embedded_filesystem_broker_delivers_to_a_real_worker(tmp_path):
    folder = tmp_path / "celery"
    results = tmp_path / "results"
    results.mkdir()
    backend = f"file://{results}"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = _start_worker(
        tmp_path,
        {
            "CELERY_BROKER_URL": "filesystem://",
            "CELERY_FILESYSTEM_DIR": str(folder),
            "CELERY_RESULT_BACKEND": backend,
        },
        queue,
    )
    try:
        # The worker's settings create the folders; the sender uses the same ones.
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        sender = Celery("sender", broker="filesystem://", backend=backend, set_as_current=False)
        sender.conf.broker_transport_options = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
        token = uuid.uuid4().hex
        result = sender.send_task("klimop.tasks.ping", args=[token], queue=queue)
        assert result.get(timeout=60) == token
    finally:
        _stop(worker)


def test_the_test_settings_run_tasks_eagerly():
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
    assert tasks.ping.delay("eager").get() == "eager"
