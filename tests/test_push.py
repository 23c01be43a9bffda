"""Browser push: once per device, never to staff outside their working time, retried with
back-off, dropped browsers disabled, and one browser's on/off switch on the notifications page.

Only the outbound HTTP request of pywebpush is replaced (``requests.post``): payload
encryption and the VAPID signature are the real ones, and the fake push service below
decrypts what it receives with the browser's own keys, as the browser would.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import threading

import http_ece
import pytest
import requests
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from klimop import services as directory_services
from klimop.notifications.management.commands.webpush_keys import generate_vapid_keys
from klimop.notifications.models import Notification, PushSubscription
from klimop.notifications.services import (
    notify,
    push_subscription_save,
    send_due_pushes,
)
from klimop.worktime import AMSTERDAM

pytestmark = pytest.mark.django_db

MONDAY_EVENING = dt.datetime(2026, 11, 30, 20, 0, tzinfo=AMSTERDAM)
TUESDAY_OPENING = dt.datetime(2026, 12, 1, 8, 0, tzinfo=AMSTERDAM)
MONDAY_NOON = dt.datetime(2026, 11, 30, 12, 0, tzinfo=AMSTERDAM)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Browser:
    """A browser's side of a push subscription: its keys, and what it has shown."""

    def __init__(self, name: str):
        self.endpoint = f"https://push.example.test/{name}/{secrets.token_hex(8)}"
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.shown: list[dict] = []

    def to_json(self) -> dict:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": self.endpoint, "keys": {"p256dh": _b64(public), "auth": _b64(self.auth)}}

    def subscribe(self, user) -> PushSubscription:
        data = self.to_json()
        return push_subscription_save(actor=user, endpoint=data["endpoint"], **data["keys"])

    @property
    def titles(self) -> list[str]:
        return [message["title"] for message in self.shown]


class PushService:
    """Stands in for the push services' HTTP endpoints (the only thing mocked)."""

    def __init__(self, vapid_public_key: str):
        self.vapid_public_key = vapid_public_key
        self.browsers: dict[str, Browser] = {}
        self.answers: dict[str, int | Exception] = {}
        self.requests = 0

    def add(self, browser: Browser) -> Browser:
        self.browsers[browser.endpoint] = browser
        return browser

    def post(self, url, data=None, headers=None, timeout=None, **kwargs):
        self.requests += 1
        assert timeout, "a push must not wait forever"
        assert f"k={self.vapid_public_key}" in headers["Authorization"]
        answer = self.answers.get(url, 201)
        if isinstance(answer, Exception):
            raise answer
        response = requests.Response()
        response.status_code, response.reason, response._content = answer, "", b""
        if answer < 300:
            browser = self.browsers[url]
            plain = http_ece.decrypt(data, private_key=browser.key, auth_secret=browser.auth)
            browser.shown.append(json.loads(plain))
        return response


@pytest.fixture
def vapid(settings):
    public, private = generate_vapid_keys()
    settings.WEBPUSH_VAPID_PUBLIC_KEY = public
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private
    settings.WEBPUSH_VAPID_SUBJECT = "mailto:office@klimop.example"
    return public


@pytest.fixture
def push_service(vapid, monkeypatch):
    service = PushService(vapid)
    monkeypatch.setattr(requests, "post", service.post)
    return service


@pytest.fixture
def calendar(school, school_year):
    directory_services.non_school_days_fill(
        school=school, start=school_year.starts_on, end=school_year.ends_on
    )


def test_a_push_reaches_the_browser_once_even_when_the_sweep_runs_twice(parent, push_service):
    phone = push_service.add(Browser("phone"))
    phone.subscribe(parent.user)
    notify(users=[parent.user], cause="post:1", title="Nieuw bericht in groep 5a", url="/berichten/1/")
    assert send_due_pushes() == 1
    assert send_due_pushes() == 0
    assert phone.titles == ["Nieuw bericht in groep 5a"]
    assert phone.shown[0]["url"] == "/berichten/1/"
    note = Notification.objects.get()
    assert note.push_status == Notification.PushStatus.SENT
    assert note.pushed_at is not None


def test_each_of_a_users_browsers_gets_the_push(parent, push_service):
    phone, laptop = push_service.add(Browser("phone")), push_service.add(Browser("laptop"))
    phone.subscribe(parent.user)
    laptop.subscribe(parent.user)
    notify(users=[parent.user], cause="c:1", title="Hallo")
    send_due_pushes()
    assert phone.titles == laptop.titles == ["Hallo"]


def test_users_without_a_browser_with_push_on_get_no_push(parent, divorced_parent, push_service):
    phone = push_service.add(Browser("phone"))
    phone.subscribe(parent.user)
    notify(users=[parent.user, divorced_parent.user], cause="c:2", title="Hallo")
    assert send_due_pushes() == 1
    other = Notification.objects.get(user=divorced_parent.user)
    assert other.push_status == Notification.PushStatus.NOT_WANTED
    assert push_service.requests == 1


def test_without_vapid_keys_push_is_off_and_nothing_is_pushed(parent, settings, monkeypatch):
    settings.WEBPUSH_VAPID_PUBLIC_KEY = settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    calls = []
    monkeypatch.setattr(requests, "post", lambda *a, **k: calls.append(a))
    Browser("phone").subscribe(parent.user)
    notify(users=[parent.user], cause="c:3", title="Hallo")
    assert send_due_pushes() == 0
    assert calls == []
    assert Notification.objects.get().push_status == Notification.PushStatus.NOT_WANTED


@time_machine.travel(MONDAY_EVENING, tick=False)
def test_a_staff_members_push_at_20_00_goes_out_at_their_next_opening(
    calendar, parent, teacher, push_service
):
    teachers_phone = push_service.add(Browser("teacher"))
    teachers_phone.subscribe(teacher.user)
    parents_phone = push_service.add(Browser("parent"))
    parents_phone.subscribe(parent.user)
    notify(users=[parent.user, teacher.user], cause="message:1", title="Nieuw chatbericht")
    send_due_pushes()
    assert parents_phone.titles == ["Nieuw chatbericht"]  # parents at once
    assert teachers_phone.titles == []
    with time_machine.travel(TUESDAY_OPENING - dt.timedelta(minutes=1), tick=False):
        assert send_due_pushes() == 0
        assert teachers_phone.titles == []
    with time_machine.travel(TUESDAY_OPENING, tick=False):
        assert send_due_pushes() == 1
        assert send_due_pushes() == 0
    assert teachers_phone.titles == ["Nieuw chatbericht"]
    assert parents_phone.titles == ["Nieuw chatbericht"]


def test_a_failed_push_is_retried_with_back_off_and_only_to_the_device_that_missed_it(parent, push_service):
    phone, laptop = push_service.add(Browser("phone")), push_service.add(Browser("laptop"))
    phone.subscribe(parent.user)
    laptop_subscription = laptop.subscribe(parent.user)
    push_service.answers[laptop.endpoint] = 503
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        notify(users=[parent.user], cause="c:4", title="Hallo")
        send_due_pushes()
        for minutes in (1, 2, 4, 8):
            note = Notification.objects.get()
            assert note.push_status == Notification.PushStatus.PENDING
            assert note.push_next_attempt_at == timezone.now() + dt.timedelta(minutes=minutes)
            clock.shift(dt.timedelta(minutes=minutes) - dt.timedelta(seconds=1))
            before = push_service.requests
            send_due_pushes()  # not due yet: the push service is left alone
            assert push_service.requests == before
            clock.shift(dt.timedelta(seconds=1))
            send_due_pushes()
            assert push_service.requests == before + 1
        laptop_subscription.refresh_from_db()
        assert laptop_subscription.failure_count == 5
        del push_service.answers[laptop.endpoint]  # the push service is back
        clock.shift(dt.timedelta(minutes=16))
        send_due_pushes()
        send_due_pushes()
    assert phone.titles == ["Hallo"]
    assert laptop.titles == ["Hallo"]
    note = Notification.objects.get()
    assert (note.push_status, note.push_attempts) == (Notification.PushStatus.SENT, 5)
    laptop_subscription.refresh_from_db()
    assert laptop_subscription.failure_count == 0
    assert laptop_subscription.last_success_at is not None


def test_a_network_error_is_retried_too(parent, push_service):
    phone = push_service.add(Browser("phone"))
    phone.subscribe(parent.user)
    push_service.answers[phone.endpoint] = requests.ConnectionError("no network")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        notify(users=[parent.user], cause="c:5", title="Hallo")
        assert send_due_pushes() == 0
        del push_service.answers[phone.endpoint]
        clock.shift(dt.timedelta(minutes=1))
        assert send_due_pushes() == 1
    assert phone.titles == ["Hallo"]


def test_a_browser_the_push_service_says_is_gone_is_disabled(parent, push_service):
    phone, old_laptop = push_service.add(Browser("phone")), push_service.add(Browser("old"))
    phone.subscribe(parent.user)
    gone = old_laptop.subscribe(parent.user)
    push_service.answers[old_laptop.endpoint] = 410
    notify(users=[parent.user], cause="c:6", title="Eerste")
    assert send_due_pushes() == 1
    gone.refresh_from_db()
    assert gone.disabled_at is not None
    assert Notification.objects.get().push_status == Notification.PushStatus.SENT
    requests_so_far = push_service.requests
    notify(users=[parent.user], cause="c:7", title="Tweede")
    send_due_pushes()
    assert push_service.requests == requests_so_far + 1  # the gone browser is not asked again
    assert phone.titles == ["Eerste", "Tweede"]


def test_when_the_only_browser_is_gone_the_push_is_not_retried(parent, push_service):
    phone = push_service.add(Browser("phone"))
    phone.subscribe(parent.user)
    push_service.answers[phone.endpoint] = 404
    notify(users=[parent.user], cause="c:8", title="Hallo")
    send_due_pushes()
    note = Notification.objects.get()
    assert note.push_status == Notification.PushStatus.NOT_WANTED
    assert note.push_next_attempt_at is None


def test_the_webpush_keys_command_prints_a_pair_that_pushes_work_with(parent, settings, monkeypatch, capsys):
    call_command("webpush_keys")
    printed = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    settings.WEBPUSH_VAPID_PUBLIC_KEY = printed["WEBPUSH_VAPID_PUBLIC_KEY"]
    settings.WEBPUSH_VAPID_PRIVATE_KEY = printed["WEBPUSH_VAPID_PRIVATE_KEY"]
    service = PushService(printed["WEBPUSH_VAPID_PUBLIC_KEY"])
    monkeypatch.setattr(requests, "post", service.post)
    phone = service.add(Browser("phone"))
    phone.subscribe(parent.user)
    notify(users=[parent.user], cause="c:9", title="Hallo")
    assert send_due_pushes() == 1
    assert phone.titles == ["Hallo"]


# --- the switch on the notifications page ------------------------------------------------------


def _post_json(client, url, data, **extra):
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post(url, body, content_type="application/json", **extra)


def test_the_notifications_page_offers_push_only_when_it_is_configured(client, parent, settings):
    client.force_login(parent.user)
    settings.WEBPUSH_VAPID_PUBLIC_KEY = settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    assert 'id="push-card"' not in client.get("/meldingen/").content.decode()
    public, private = generate_vapid_keys()
    settings.WEBPUSH_VAPID_PUBLIC_KEY, settings.WEBPUSH_VAPID_PRIVATE_KEY = public, private
    page = client.get("/meldingen/").content.decode()
    assert 'id="push-card"' in page
    assert "Meldingen op dit apparaat" in page
    assert f'data-public-key="{public}"' in page
    assert "js/push.js" in page


def test_a_parent_turns_push_on_for_a_browser_and_gets_pushes_there(client, parent, push_service):
    phone = push_service.add(Browser("phone"))
    client.force_login(parent.user)
    response = _post_json(
        client, "/meldingen/push/aan/", phone.to_json(), HTTP_USER_AGENT="Firefox on Android"
    )
    assert response.status_code == 201
    subscription = PushSubscription.objects.get(user=parent.user)
    assert subscription.user_agent == "Firefox on Android"
    # The page now knows this browser has push on (by a hash of its endpoint).
    page = client.get("/meldingen/").content.decode()
    assert hashlib.sha256(phone.endpoint.encode()).hexdigest() in page
    assert phone.endpoint not in page
    notify(users=[parent.user], cause="c:10", title="Hallo")
    send_due_pushes()
    assert phone.titles == ["Hallo"]


def test_turning_push_off_stops_the_pushes(client, parent, push_service):
    phone = push_service.add(Browser("phone"))
    client.force_login(parent.user)
    _post_json(client, "/meldingen/push/aan/", phone.to_json())
    assert _post_json(client, "/meldingen/push/uit/", {"endpoint": phone.endpoint}).status_code == 200
    notify(users=[parent.user], cause="c:11", title="Hallo")
    send_due_pushes()
    assert phone.titles == []
    assert push_service.requests == 0


def test_nobody_can_turn_off_another_users_browser(client, parent, divorced_parent, push_service):
    others_phone = push_service.add(Browser("other"))
    others_phone.subscribe(divorced_parent.user)
    client.force_login(parent.user)
    response = _post_json(client, "/meldingen/push/uit/", {"endpoint": others_phone.endpoint})
    assert response.status_code == 404
    notify(users=[divorced_parent.user], cause="c:12", title="Hallo")
    send_due_pushes()
    assert others_phone.titles == ["Hallo"]


BAD_SUBSCRIPTIONS = {
    "not JSON": lambda: "{not json",
    "not an object": lambda: "[]",
    "no keys": lambda: {"endpoint": "https://push.example.test/x"},
    "not https": lambda: {**Browser("x").to_json(), "endpoint": "http://push.example.test/x"},
    "keys that are no keys": lambda: {
        "endpoint": "https://push.example.test/x",
        "keys": {"p256dh": "AAAA", "auth": "AAAA"},
    },
}


@pytest.mark.parametrize("make_body", BAD_SUBSCRIPTIONS.values(), ids=BAD_SUBSCRIPTIONS.keys())
def test_a_bad_subscription_is_refused(client, parent, vapid, make_body):
    client.force_login(parent.user)
    response = _post_json(client, "/meldingen/push/aan/", make_body())
    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert not PushSubscription.objects.exists()


def test_turning_push_on_needs_a_login_a_post_and_the_csrf_token(parent, vapid):
    phone = Browser("phone")
    anonymous = Client()
    response = _post_json(anonymous, "/meldingen/push/aan/", phone.to_json())
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(parent.user)
    assert _post_json(strict, "/meldingen/push/aan/", phone.to_json()).status_code == 403
    assert strict.get("/meldingen/push/aan/").status_code == 405
    assert not PushSubscription.objects.exists()


def test_a_browser_used_by_someone_else_moves_to_the_new_user(client, parent, divorced_parent, push_service):
    shared = push_service.add(Browser("shared"))
    shared.subscribe(parent.user)
    client.force_login(divorced_parent.user)
    assert _post_json(client, "/meldingen/push/aan/", shared.to_json()).status_code == 201
    notify(users=[parent.user, divorced_parent.user], cause="c:13", title="Hallo")
    send_due_pushes()
    assert shared.titles == ["Hallo"]  # once, for the user who has it now
    assert PushSubscription.objects.get().user == divorced_parent.user


def test_logging_out_stops_the_pushes_to_that_browser(client, parent, push_service):
    phone = push_service.add(Browser("phone"))
    client.force_login(parent.user)
    _post_json(client, "/meldingen/push/aan/", phone.to_json())
    client.post("/accounts/logout/")
    assert not PushSubscription.objects.exists()
    notify(users=[parent.user], cause="c:14", title="Hallo")
    send_due_pushes()
    assert phone.titles == []


def test_the_service_worker_is_served_from_the_site_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    script = response.content.decode()
    assert 'addEventListener("push"' in script
    assert 'addEventListener("notificationclick"' in script


def test_the_push_goes_out_right_after_the_notification_is_made(
    parent, push_service, django_capture_on_commit_callbacks
):
    phone = push_service.add(Browser("phone"))
    phone.subscribe(parent.user)
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[parent.user], cause="c:15", title="Hallo")
    assert phone.titles == ["Hallo"]  # no need to wait for the minute sweep
    assert send_due_pushes() == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_the_same_moment_push_once(parent, push_service, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT … FOR UPDATE SKIP LOCKED) need PostgreSQL")
    from klimop.notifications import tasks as notification_tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    # With the broker down after commit, the minute sweeps of two workers find the push.
    monkeypatch.setattr(notification_tasks.send_due_notification_pushes, "apply_async", broker_down)
    phone = push_service.add(Browser("phone"))
    phone.subscribe(parent.user)
    notify(users=[parent.user], cause="c:16", title="Hallo")
    assert phone.titles == []
    in_flight, release = threading.Event(), threading.Event()
    deliver = push_service.post

    def slow_push_service(*args, **kwargs):
        in_flight.set()
        release.wait(10)
        return deliver(*args, **kwargs)

    monkeypatch.setattr(requests, "post", slow_push_service)
    results = {}

    def first_worker():
        try:
            results["first"] = send_due_pushes()
        finally:
            connection.close()

    worker = threading.Thread(target=first_worker)
    worker.start()
    try:
        assert in_flight.wait(10)
        results["second"] = send_due_pushes()  # the row is locked by the first worker: skipped
    finally:
        release.set()
        worker.join(10)
    assert results == {"first": 1, "second": 0}
    assert phone.titles == ["Hallo"]
