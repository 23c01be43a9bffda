"""E-mail through the outbox, against a real (local) SMTP server: a school-wide fan-out goes
out in chained batches, each over one connection, each e-mail once; a refused address fails
alone; a hanging mail server ends the batch and nothing is lost or doubled; and no e-mail is
ever sent inside a web request (login of an unverified address, password reset,
invitations), so a mail server that is down never turns a page into an error.

The tasks run eagerly here (tests/test_mail_faults.py has the real workers and queues).
"""

import datetime as dt

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.urls import reverse

from klimop import services as directory_services
from klimop.models import User
from klimop.notifications.models import Notification, OutgoingEmail
from klimop.notifications.services import (
    EMAIL_BATCH_SIZE,
    notify,
    send_due_emails,
    send_email_batch,
)
from klimop.worktime import AMSTERDAM
from tests import factories as f
from tests.smtp import SmtpServer, use_smtp

pytestmark = pytest.mark.django_db
FRIDAY_EVENING = dt.datetime(2026, 11, 27, 20, 0, tzinfo=AMSTERDAM)
PASSWORD = "test-password-123"


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    use_smtp(settings, server)
    yield server
    server.stop()


def _parents(count: int) -> list[User]:
    users = [
        User(email=f"ouder{i:04d}@example.test", first_name="Ouder", last_name=str(i)) for i in range(count)
    ]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users)
    return list(User.objects.filter(email__startswith="ouder").order_by("email"))


@time_machine.travel(FRIDAY_EVENING, tick=False)
def test_a_school_wide_fan_out_is_mailed_in_chained_batches_each_once(
    smtp, django_capture_on_commit_callbacks
):
    parents = _parents(6 * EMAIL_BATCH_SIZE)
    # Publishing notifies; the commit queues the sweep, and each full batch queues the next
    # at once: no beat needed.
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(users=parents, cause="post:1", title="Nieuwsbrief") == 600

    assert smtp.recipients() == {p.email: 1 for p in parents}
    # One connection per batch of 100 (the 7th batch finds nothing and connects to nobody).
    assert smtp.connections == 6
    assert Notification.objects.filter(email_status=Notification.EmailStatus.SENT).count() == 600
    assert send_due_emails() == 0
    assert len(smtp.messages) == 600


def test_a_batch_stops_starting_sends_at_its_time_limit_and_says_more_is_due(smtp):
    parents = _parents(3)
    notify(users=parents, cause="c:1", title="Nieuw")
    # With no time at all, a batch still sends one e-mail (so batches always make progress)
    # and asks for the next one.
    assert [(b.sent, b.more) for b in (send_email_batch(seconds=0) for _ in range(3))] == [
        (1, True),
        (1, True),
        (1, False),
    ]
    assert send_email_batch().sent == 0
    assert smtp.recipients() == {p.email: 1 for p in parents}


def test_an_address_the_server_refuses_fails_alone_and_the_others_are_sent(smtp):
    parents = _parents(5)
    smtp.refuse = {parents[2].email}
    with time_machine.travel(FRIDAY_EVENING, tick=False) as clock:
        notify(users=parents, cause="post:2", title="Nieuw bericht")
        assert send_due_emails() == 4
        clock.shift(dt.timedelta(days=1))
        assert send_due_emails() == 0  # a permanent refusal is not tried again
    assert smtp.connections == 1
    assert smtp.recipients() == {p.email: 1 for p in parents if p != parents[2]}
    statuses = dict(Notification.objects.values_list("user__email", "email_status"))
    assert statuses.pop(parents[2].email) == Notification.EmailStatus.FAILED
    assert set(statuses.values()) == {Notification.EmailStatus.SENT}


def test_a_temporary_refusal_is_retried_and_then_sent_once(smtp):
    parents = _parents(3)
    smtp.refuse, smtp.refuse_code = {parents[0].email}, 450
    with time_machine.travel(FRIDAY_EVENING, tick=False) as clock:
        notify(users=parents, cause="post:3", title="Nieuw bericht")
        assert send_due_emails() == 2
        note = Notification.objects.get(user=parents[0])
        assert (note.email_status, note.email_attempts) == (Notification.EmailStatus.PENDING, 1)
        smtp.refuse = set()
        clock.shift(dt.timedelta(minutes=1))
        assert send_due_emails() == 1
    assert smtp.recipients() == {p.email: 1 for p in parents}


def test_a_hanging_mail_server_ends_the_batch_and_nothing_is_sent_twice_or_lost(smtp):
    """The server stops answering after 3 messages, in the middle of the connection."""
    parents = _parents(8)
    smtp.hang_after = 3
    with time_machine.travel(FRIDAY_EVENING, tick=False) as clock:
        notify(users=parents, cause="post:4", title="Nieuw bericht")
        assert send_due_emails() == 3  # the 4th waits EMAIL_TIMEOUT, then the batch ends
        rows = Notification.objects.order_by("user__email")
        assert [n.email_status for n in rows] == ["sent"] * 3 + ["pending"] * 5
        assert [n.email_attempts for n in rows] == [0, 0, 0, 1, 0, 0, 0, 0]
        smtp.back()
        assert send_due_emails() == 4  # the untried ones go at once; the failed one at its retry
        clock.shift(dt.timedelta(minutes=1))
        assert send_due_emails() == 1
        assert send_due_emails() == 0
    assert smtp.recipients() == {p.email: 1 for p in parents}


def test_a_mail_server_that_never_answers_leaves_every_email_pending_for_later(smtp):
    parents = _parents(4)
    smtp.mode = "hang"
    with time_machine.travel(FRIDAY_EVENING, tick=False) as clock:
        notify(users=parents, cause="post:5", title="Nieuw bericht")
        assert send_due_emails() == 0
        assert smtp.connections == 1  # one attempt for the whole batch, not one per e-mail
        rows = list(Notification.objects.all())
        assert {(n.email_status, n.email_attempts) for n in rows} == {("pending", 1)}
        assert {n.email_next_attempt_at for n in rows} == {FRIDAY_EVENING + dt.timedelta(minutes=1)}
        smtp.back()
        clock.shift(dt.timedelta(minutes=1))
        assert send_due_emails() == 4
        assert send_due_emails() == 0
    assert smtp.recipients() == {p.email: 1 for p in parents}


# --- no e-mail inside a web request -------------------------------------------------------


def _unverified(user: User) -> User:
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    return user


def test_logging_in_with_an_unverified_address_answers_normally_while_the_mail_server_hangs(
    client, smtp, django_capture_on_commit_callbacks
):
    user = _unverified(f.UserFactory(email="nieuw@example.test"))
    smtp.mode = "hang"
    with time_machine.travel(FRIDAY_EVENING, tick=False) as clock:
        with django_capture_on_commit_callbacks() as queued:
            response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
        assert response.status_code == 302
        assert response["Location"] == reverse("account_email_verification_sent")
        # The request stored the mail and queued the sweep for after its commit; it did not
        # talk to the mail server.
        assert smtp.connections == 0
        assert len(queued) == 1
        (email,) = OutgoingEmail.objects.all()
        assert (email.to, email.status) == (user.email, OutgoingEmail.Status.PENDING)

        assert send_due_emails() == 0  # the server hangs: tried again in a minute
        email.refresh_from_db()
        assert (email.status, email.attempts) == (OutgoingEmail.Status.PENDING, 1)
        smtp.back()
        clock.shift(dt.timedelta(minutes=1))
        assert send_due_emails() == 1
        assert send_due_emails() == 0
    (message,) = smtp.messages
    assert message[1] == [user.email]
    assert "/accounts/confirm-email/" in message[2]


def test_a_password_reset_while_the_mail_server_is_down_is_mailed_once_it_is_back(
    client, smtp, parent, django_capture_on_commit_callbacks
):
    smtp.mode = "hang"
    with time_machine.travel(FRIDAY_EVENING, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            # Eager tasks run the sweep at the commit; in production the worker does.
            response = client.post(reverse("account_reset_password"), {"email": parent.user.email})
        assert response.status_code == 302
        email = OutgoingEmail.objects.get()
        assert (email.status, email.attempts) == (OutgoingEmail.Status.PENDING, 1)
        smtp.back()
        clock.shift(dt.timedelta(minutes=1))
        assert send_due_emails() == 1
        assert send_due_emails() == 0
    (message,) = smtp.messages
    assert message[1] == [parent.user.email]
    assert "/accounts/password/reset/key/" in message[2]
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.SENT


def test_invitations_are_queued_in_one_insert_and_mailed_by_the_sweep(
    smtp, office, child, django_capture_on_commit_callbacks
):
    guardians = [
        f.GuardianRelationFactory(
            pupil=child,
            guardian__user=None,
            guardian__email=f"g{i}@example.test",
            guardian__first_name="Ouder",
            guardian__last_name=str(i),
        ).guardian
        for i in range(3)
    ]
    smtp.mode = "hang"
    with time_machine.travel(FRIDAY_EVENING, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            assert directory_services.guardians_invite_bulk(actor=office.user, guardians=guardians) == 3
        assert OutgoingEmail.objects.filter(purpose="invitation", attempts=1).count() == 3
        assert smtp.connections == 1
        smtp.back()
        clock.shift(dt.timedelta(minutes=1))
        assert send_due_emails() == 3
    assert smtp.recipients() == {f"g{i}@example.test": 1 for i in range(3)}
    assert all("Klimop" in data for _sender, _to, data in smtp.messages)


def test_the_sweep_sends_outgoing_emails_and_notifications_over_one_connection(smtp, parent):
    from klimop.notifications.services import email_queue

    email_queue(to="iemand@example.test", subject="[Klimop] Welkom", body="Hallo", purpose="test")
    notify(users=[parent.user], cause="c:9", title="Nieuw")
    assert send_due_emails() == 2
    assert smtp.connections == 1
    assert smtp.recipients() == {"iemand@example.test": 1, parent.user.email: 1}
