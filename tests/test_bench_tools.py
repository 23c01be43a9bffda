"""The bench's tools work: its percentiles and verdicts, its mail server, its baseline views.

Not the bench itself (``make bench``): that runs gunicorn, Celery and a load for minutes.
"""

import smtplib
from email.message import EmailMessage

import pytest
from django.test import override_settings
from django.urls import Resolver404, resolve

from tests.bench.client import client_ip
from tests.bench.smtp_sink import SmtpSink
from tests.bench.stats import Load, Target, percentile, within


def test_percentiles_interpolate_between_ranks_like_numpy():
    values = [0.4, 0.1, 0.3, 0.2, 0.5]
    assert percentile(values, 50) == pytest.approx(0.3)
    assert percentile(values, 95) == pytest.approx(0.48)
    assert percentile(values, 0) == pytest.approx(0.1)
    assert percentile(values, 100) == pytest.approx(0.5)
    assert percentile([7.0], 95) == 7.0


def test_a_page_meeting_its_target_is_met_and_a_miss_says_by_how_much():
    target = Target(min_ratio=1 / 3, max_p95_ms=250)
    fast = Load("home", "parent", seconds=10, latencies=[0.1] * 400)  # 40 req/s, p95 100 ms
    assert target.verdict(fast, baseline_rate=100) == "met"
    slow = Load("home", "parent", seconds=10, latencies=[0.5] * 100)  # 10 req/s, p95 500 ms
    verdict = target.verdict(slow, baseline_rate=100)
    assert verdict.startswith("missed:")
    assert "throughput 0.10 of auth, 3.3× short" in verdict
    assert "p95 250 ms over" in verdict
    assert target.describe() == "≥ 1/3 auth, p95 < 250 ms"


def test_a_miss_says_why_from_the_pages_own_work_alone():
    target = Target(min_ratio=1 / 3, max_p95_ms=250)
    slow = Load("home", "parent", seconds=10, users=5, latencies=[0.5] * 100)  # 10 req/s, p95 500
    # 80 ms alone: two cores serve at most 25 a second, and a third of 300 is 100.
    why = target.why(slow, baseline_rate=300, alone_ms=80, cores=2)
    assert (
        "its own work: 80 ms alone, so 2 cores serve about 25 req/s of it at most; the target asks 100" in why
    )
    assert "p95 the queue: 5 users at 10 req/s wait about 500 ms per request" in why
    # 10 ms alone would allow 200 a second: the miss is the load, not the page.
    why = target.why(slow, baseline_rate=300, alone_ms=10, cores=2)
    assert why.startswith("the load, not its own work: 10 ms alone would allow 200 req/s on 2 cores")
    fast = Load("home", "parent", seconds=10, users=5, latencies=[0.1] * 400)
    assert target.why(fast, baseline_rate=100, alone_ms=80, cores=2) == ""


def test_errors_are_a_miss_even_when_fast():
    load = Load("poll", "parent", seconds=1, latencies=[0.01] * 100, errors=2)
    assert Target(min_ratio=0.5).verdict(load, baseline_rate=100) == "missed: 2 errors"


def test_done_within_a_limit():
    assert within(4.2, 10) == "met"
    assert within(15.0, 10) == "missed by 5.0 s (1.5× the target)"
    assert within(None, 10) == "missed: not done"


def test_each_virtual_user_has_its_own_client_address():
    addresses = {client_ip(n) for n in range(1, 2000)}
    assert len(addresses) == 1999
    assert all(a.startswith("10.") for a in addresses)


def test_the_mail_sink_counts_each_message_django_would_send():
    sink = SmtpSink().start()
    try:
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as smtp:
            for n in range(2):
                message = EmailMessage()
                message["From"] = "noreply@klimop.localhost"
                message["To"] = "ouder@klimop.example, tweede@klimop.example"
                message["Subject"] = f"Nieuw bericht {n}"
                message.set_content("Hallo\n.\nnog een regel")
                smtp.send_message(message)
        assert (sink.messages, sink.recipients) == (2, 4)
        sink.reset()
        assert sink.messages == 0
    finally:
        sink.stop()


def test_the_baseline_views_exist_only_in_the_bench_urlconf(client, parent):
    with pytest.raises(Resolver404):
        resolve("/__bench__/ok")
    with override_settings(ROOT_URLCONF="tests.bench.urls"):
        assert client.get("/__bench__/ok").content == b"ok"
        assert client.get("/__bench__/auth").status_code == 302  # to the login page
        client.force_login(parent.user)
        assert client.get("/__bench__/auth").content == str(parent.user.pk).encode()
        assert client.get("/").status_code == 200  # and every page of Klimop
