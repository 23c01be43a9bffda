"""Nothing typed is lost (issue 13, point 4): when the database or the file storage fails, the
person gets a clear "try again" answer at once and what they wrote is still there.

- The database fails during a request: a 503 page in Dutch (English when chosen) with
  Retry-After, rendered without a single query; a form POST's typed text is on the page and
  can be sent again. Forced by making every query from a given moment on fail, as a database
  that went away does (the connection error Django raises), counted, never timed.
- The storage refuses a file: nothing of the post or message is kept (no row, no file written
  before the refusal), and the form comes back with its text and a message saying so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
import time_machine
from django.core.files.storage import InMemoryStorage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.urls import reverse
from PIL import Image

from communication.chats import services as chat_services
from communication.chats.models import Message
from communication.posts import services as post_services
from communication.posts.models import Post, PostAttachment, PostPhoto
from klimop.worktime import AMSTERDAM
from tests.csp import assert_no_inline_code, assert_strict_policy

ROOT = Path(__file__).resolve().parent.parent
TUESDAY_MORNING = dt.datetime(2026, 11, 24, 10, 0, tzinfo=AMSTERDAM)
TYPED = "Mag Noor morgen om 14:00 eerder weg?\nZe heeft een afspraak bij de tandarts."

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_work():
    with time_machine.travel(TUESDAY_MORNING, tick=False) as traveller:
        yield traveller


class DeadDatabase:
    """``down()`` makes every later query fail as a stopped database does (the connection error
    Django raises) and records each one tried; ``up()`` brings it back."""

    def __init__(self) -> None:
        self.tried: list[str] = []
        self._stack = contextlib.ExitStack()

    def _refuse(self, execute, sql, params, many, context):
        self.tried.append(sql)
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    def down(self) -> None:
        self._stack.enter_context(connection.execute_wrapper(self._refuse))

    def up(self) -> None:
        self._stack.close()


@pytest.fixture
def database():
    dead = DeadDatabase()
    yield dead
    dead.up()


def _client(user) -> Client:
    client = Client(raise_request_exception=False)  # answer as in production, not re-raise
    client.force_login(user)
    return client


def _conversation(parent, child):
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        return chat_services.conversation_start_direct(actor=parent.user, pupil=child, body="Goedemorgen")


class TestDatabaseDown:
    def test_a_chat_message_sent_while_the_database_is_down_answers_try_again_with_the_text(
        self, parent, teacher, child, database, monkeypatch
    ):
        conversation = _conversation(parent, child)
        client = _client(parent.user)
        real_send = chat_services.message_send

        def send_into_a_dead_database(**kwargs):
            database.down()
            return real_send(**kwargs)  # its first query meets the stopped database

        monkeypatch.setattr(chat_services, "message_send", send_into_a_dead_database)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            response = client.post(reverse("chats:chat_detail", args=[conversation.pk]), {"body": TYPED})

        html = response.content.decode()
        assert response.status_code == 503
        assert response["Retry-After"] == "15"
        assert "Probeer het opnieuw" in html
        assert "Wat u net verstuurde, is niet opgeslagen." in html
        # The typed text is on the page, visible and in a form that sends it again to the chat.
        assert "Mag Noor morgen om 14:00 eerder weg?<br>Ze heeft een afspraak" in html
        assert f'action="{reverse("chats:chat_detail", args=[conversation.pk])}"' in html
        assert 'name="body" value="Mag Noor morgen om 14:00 eerder weg?' in html
        assert "Opnieuw versturen" in html
        # One query met the stopped database; the page itself asked nothing more.
        assert len(database.tried) == 1
        database.up()
        assert not Message.objects.filter(body__contains="tandarts").exists()
        # The same strict policy as every page: no inline code, own static files only.
        assert_strict_policy(response, "503")
        assert_no_inline_code(html, "503")

    def test_what_the_page_sends_again_arrives_once_the_database_is_back(
        self, parent, teacher, child, database, monkeypatch
    ):
        conversation = _conversation(parent, child)
        client = _client(parent.user)
        real_send = chat_services.message_send

        def send_once_into_a_dead_database(**kwargs):
            monkeypatch.setattr(chat_services, "message_send", real_send)
            database.down()
            return real_send(**kwargs)

        monkeypatch.setattr(chat_services, "message_send", send_once_into_a_dead_database)
        url = reverse("chats:chat_detail", args=[conversation.pk])
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            page = client.post(url, {"body": TYPED})
            database.up()
            form = page.content.decode().split('<form class="card form" method="post"')[1]
            fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
            assert set(fields) == {"csrfmiddlewaretoken", "body"}
            again = client.post(url, {"body": unescape(fields["body"])})
        assert again.status_code == 302
        assert Message.objects.get(conversation=conversation, body__contains="tandarts")

    def test_a_page_whose_session_cannot_be_read_answers_try_again(self, parent, database):
        client = _client(parent.user)
        database.down()  # before the request: the session and the user are not read
        response = client.get(reverse("chats:chat_inbox"))

        html = response.content.decode()
        assert response.status_code == 503
        assert "Klimop kan even niet bij zijn database" in html
        assert "Wat u net verstuurde" not in html  # nothing was sent
        assert len(database.tried) == 1  # the session, once; then nothing
        assert "Set-Cookie" not in response or "sessionid" not in response.cookies

    def test_in_english_for_who_chose_english(self, parent, database):
        client = _client(parent.user)
        client.cookies["django_language"] = "en"
        database.down()
        response = client.get(reverse("chats:chat_inbox"))
        assert response.status_code == 503
        assert "Klimop cannot reach its database for a moment" in response.content.decode()

    def test_passwords_are_never_written_back_into_the_page(self, database):
        client = Client(raise_request_exception=False)
        database.down()
        response = client.post(
            reverse("account_login"), {"login": "ouder@example.org", "password": "geheim-wachtwoord-1"}
        )
        html = response.content.decode()
        assert response.status_code == 503
        assert "geheim-wachtwoord-1" not in html
        assert 'value="ouder@example.org"' in html

    def test_other_errors_stay_a_server_error(self, parent, teacher, child, monkeypatch):
        conversation = _conversation(parent, child)
        client = _client(parent.user)

        def broken(**kwargs):
            raise RuntimeError("a bug, not the database")

        monkeypatch.setattr(chat_services, "message_send", broken)
        response = client.post(reverse("chats:chat_detail", args=[conversation.pk]), {"body": TYPED})
        assert response.status_code == 500


def test_a_stopped_production_database_fails_within_two_seconds_not_the_os_default():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['OPTIONS']['connect_timeout'])"
    )
    environment = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_CONNECT_TIMEOUT"},
        "DJANGO_SETTINGS_MODULE": "klimop.settings.production",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "klimop.example",
        "DATABASE_URL": "postgres://klimop@db.example:5432/klimop",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "2"


# --- the storage refuses a file --------------------------------------------------------------


class RefusingStorage(InMemoryStorage):
    """Keeps the first ``accept`` files, then refuses as a folder that cannot be written does."""

    accept = 0

    def _save(self, name, content):
        if self.accept <= 0:
            raise PermissionError(13, "Permission denied", name)
        type(self).accept -= 1
        return super()._save(name, content)


def _stored_files(storage) -> list[str]:
    found, folders = [], [""]
    while folders:
        folder = folders.pop()
        subfolders, files = storage.listdir(folder)
        found += [f"{folder}/{name}".lstrip("/") for name in files]
        folders += [f"{folder}/{name}".lstrip("/") for name in subfolders]
    return found


@pytest.fixture
def refusing_storage():
    with override_settings(
        STORAGES={
            "default": {"BACKEND": f"{__name__}.RefusingStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ):
        RefusingStorage.accept = 0
        yield storages["default"]


def _jpeg(name="klas.jpg"):
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 120, 40)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def _pdf(name="brief.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n", content_type="application/pdf")


class TestStorageRefuses:
    def test_a_post_whose_photos_cannot_be_stored_keeps_nothing_and_comes_back_with_its_text(
        self, at_work, teacher, group, refusing_storage
    ):
        RefusingStorage.accept = 3  # the first photo and its thumbnail, the second photo; then no
        client = _client(teacher.user)
        response = client.post(
            reverse("posts:post_create"),
            {
                "audience": str(group.pk),
                "kind": "functional",
                "title": "Schoolreisje naar de Efteling",
                "body": "Neem morgen een lunchpakket mee.",
                "photos": [_jpeg("een.jpg"), _jpeg("twee.jpg")],
                "attachments": [_pdf()],
                "consent_confirmed": "on",
            },
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "De foto&#x27;s en bestanden konden niet worden opgeslagen, dus is er niets geplaatst." in html
        assert 'value="Schoolreisje naar de Efteling"' in html
        assert "Neem morgen een lunchpakket mee." in html
        kind = re.search(r'<input type="radio" name="kind" value="functional"[^>]*>', html)
        assert kind is not None
        assert "checked" in kind.group(0)  # the chosen kind stays chosen
        # Nothing half-saved: no post, no photo rows, and the three files written are gone.
        assert not Post.objects.exists()
        assert not PostPhoto.objects.exists()
        assert not PostAttachment.objects.exists()
        assert _stored_files(refusing_storage) == []

    def test_an_edit_whose_new_photo_cannot_be_stored_changes_nothing(
        self, at_work, teacher, group, refusing_storage
    ):
        post = post_services.post_create(
            actor=teacher.user, group=group, title="Gym", body="Gymles verplaatst."
        )
        client = _client(teacher.user)
        response = client.post(
            reverse("posts:post_edit", args=[post.pk]),
            {
                "kind": "atmosphere",
                "title": "Gym op vrijdag",
                "body": "De gymles is voortaan op vrijdag.",
                "photos": [_jpeg()],
                "consent_confirmed": "on",
            },
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "dus is er niets gewijzigd" in html
        assert "De gymles is voortaan op vrijdag." in html
        post.refresh_from_db()
        assert post.title == "Gym"
        assert not post.photos.exists()
        assert _stored_files(refusing_storage) == []

    def test_a_chat_photo_that_cannot_be_stored_sends_nothing_and_keeps_the_text(
        self, parent, teacher, child, refusing_storage
    ):
        conversation = _conversation(parent, child)
        client = _client(parent.user)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            response = client.post(
                reverse("chats:chat_detail", args=[conversation.pk]),
                {"body": "Hier is de foto van de uitnodiging.", "attachment": _jpeg()},
            )
        html = response.content.decode()
        assert response.status_code == 400
        assert "dus is uw bericht niet verstuurd" in html
        assert "Hier is de foto van de uitnodiging." in html
        assert not Message.objects.filter(body__contains="uitnodiging").exists()
        assert _stored_files(refusing_storage) == []

    def test_a_chat_file_stored_before_the_database_failed_is_removed(
        self, parent, teacher, child, refusing_storage, monkeypatch
    ):
        conversation = _conversation(parent, child)
        RefusingStorage.accept = 1

        def save_fails(self, *args, **kwargs):
            raise OperationalError("the database went away")

        monkeypatch.setattr(Message, "save", save_fails)
        with time_machine.travel(TUESDAY_MORNING, tick=False), pytest.raises(OperationalError):
            chat_services.message_send(
                actor=parent.user, conversation=conversation, body="Zie bijlage", attachment=_pdf()
            )
        assert _stored_files(refusing_storage) == []
