"""/healthz: 200 with the database and the broker reachable, 503 otherwise."""

import pytest
from kombu.exceptions import OperationalError

from klimop import views

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_answers_503_when_the_broker_is_unreachable(client, monkeypatch):
    class DeadConnection:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def ensure_connection(self, **kwargs):
            raise OperationalError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    monkeypatch.setattr(views.celery_app, "connection_for_write", DeadConnection)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")
    assert response.json()["database"] == "ok"


def test_healthz_is_never_cached(client):
    assert "no-cache" in client.get("/healthz")["Cache-Control"]


def test_uploads_have_no_public_url(client):
    assert client.get("/__private-media__/anything.jpg").status_code == 404
