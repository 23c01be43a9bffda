"""Notifications: at most once per user and cause, never to staff outside working time,
e-mailed through an idempotent outbox sweep that survives failures."""

import datetime as dt
import smtplib
import socket

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from klimop import services as directory_services
from klimop.notifications.models import Notification
from klimop.notifications.selectors import notifications_for
from klimop.notifications.services import (
    notification_emails_mark_sent,
    notification_mark_read,
    notify,
    send_due_emails,
)
from klimop.worktime import AMSTERDAM

pytestmark = pytest.mark.django_db
FRIDAY_EVENING = dt.datetime(2026, 11, 27, 20, 0, tzinfo=AMSTERDAM)


@pytest.fixture
def calendar(school, school_year):
    directory_services.non_school_days_fill(
        school=school, start=school_year.starts_on, end=school_year.ends_on
    )


def test_notifying_twice_about_the_same_cause_notifies_once(parent, divorced_parent):
    users = [parent.user, divorced_parent.user]
    assert notify(users=users, cause="post:1", title="Nieuw bericht") == 2
    assert notify(users=users, cause="post:1", title="Nieuw bericht") == 0
    assert Notification.objects.filter(cause="post:1").count() == 2


def test_a_later_notify_about_the_same_cause_reaches_only_those_who_had_none(parent, divorced_parent):
    assert notify(users=[parent.user], cause="post:2", title="Nieuw bericht") == 1
    assert notify(users=[parent.user, divorced_parent.user], cause="post:2", title="Nieuw bericht") == 1
    assert notify(users=[parent.user], cause="post:3", title="Nog een bericht") == 1
    assert sorted(Notification.objects.filter(user=parent.user).values_list("cause", flat=True)) == [
        "post:2",
        "post:3",
    ]
    assert Notification.objects.filter(cause="post:2").count() == 2


@time_machine.travel(FRIDAY_EVENING, tick=False)
def test_parents_are_notified_at_once_but_staff_at_their_next_working_time(
    calendar, parent, teacher, duo_teacher
):
    notify(users=[parent.user, teacher.user, duo_teacher.user], cause="x:1", title="Hallo")
    by_user = {n.user_id: n.deliver_at for n in Notification.objects.all()}
    assert by_user[parent.user.pk] == FRIDAY_EVENING
    # teacher works Mon-Wed, duo_teacher Thu-Fri: Monday 08:00 and Thursday 08:00.
    assert by_user[teacher.user.pk] == dt.datetime(2026, 11, 30, 8, 0, tzinfo=AMSTERDAM)
    assert by_user[duo_teacher.user.pk] == dt.datetime(2026, 12, 3, 8, 0, tzinfo=AMSTERDAM)
    # A held notification is neither shown nor e-mailed before then.
    assert not notifications_for(viewer=teacher.user).exists()
    send_due_emails()
    assert [m.to for m in mail.outbox] == [[parent.user.email]]


def test_titles_are_written_in_each_recipients_language(parent, divorced_parent):
    divorced_parent.user.language = "en"
    divorced_parent.user.save()
    notify(
        users=[parent.user, divorced_parent.user],
        cause="c:1",
        title=_("Your contact details have been saved."),
    )
    titles = {n.user_id: n.title for n in Notification.objects.all()}
    assert titles[divorced_parent.user.pk] == "Your contact details have been saved."
    assert titles[parent.user.pk] != titles[divorced_parent.user.pk]


def test_the_email_sweep_sends_each_notification_once_even_when_run_twice(parent):
    notify(users=[parent.user], cause="c:2", title="Nieuw", url="/")
    assert send_due_emails() == 1
    assert send_due_emails() == 0
    assert len(mail.outbox) == 1
    assert Notification.objects.get().email_status == Notification.EmailStatus.SENT


@time_machine.travel(FRIDAY_EVENING, tick=False)
def test_history_is_recorded_as_emailed_when_due_and_never_sent(
    calendar, parent, divorced_parent, teacher, director
):
    divorced_parent.user.notify_by_email = False
    divorced_parent.user.save()
    notify(users=[parent.user, divorced_parent.user, teacher.user], cause="x:1", title="Toen")
    notify(users=[director.user], cause="x:2", title="Niet van de geschiedenis")
    with pytest.raises(PermissionDenied):
        notification_emails_mark_sent(actor=director.user, users=[parent.user])
    assert (
        notification_emails_mark_sent(actor=None, users=[parent.user, divorced_parent.user, teacher.user])
        == 2
    )
    assert send_due_emails() == 0  # only the director's is pending, and due on Monday
    assert mail.outbox == []
    rows = {n.user_id: n for n in Notification.objects.all()}
    assert (rows[parent.user.pk].email_status, rows[parent.user.pk].emailed_at) == ("sent", FRIDAY_EVENING)
    teachers = rows[teacher.user.pk]
    assert (teachers.email_status, teachers.emailed_at) == ("sent", teachers.deliver_at)
    assert rows[divorced_parent.user.pk].email_status == "not_wanted"
    assert rows[director.user.pk].email_status == "pending"


def test_users_who_do_not_want_email_get_only_the_in_app_notification(parent):
    parent.user.notify_by_email = False
    parent.user.save()
    notify(users=[parent.user], cause="c:3", title="Nieuw")
    send_due_emails()
    assert mail.outbox == []
    assert notifications_for(viewer=parent.user).count() == 1


class DownBackend(BaseEmailBackend):
    """A mail server that cannot be reached."""

    def open(self):
        raise OSError("SMTP down")

    def send_messages(self, messages):
        raise OSError("SMTP down")


def test_a_failed_email_is_retried_by_a_later_sweep_and_not_lost(parent, settings):
    with time_machine.travel(FRIDAY_EVENING, tick=False) as clock:
        notify(users=[parent.user], cause="c:4", title="Nieuw")
        settings.EMAIL_BACKEND = "tests.test_notifications.DownBackend"
        assert send_due_emails() == 0
        note = Notification.objects.get()
        assert (note.email_status, note.email_attempts) == (Notification.EmailStatus.PENDING, 1)
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        clock.shift(dt.timedelta(minutes=1))
        assert send_due_emails() == 1
    assert len(mail.outbox) == 1


def test_marking_read_only_touches_the_actors_own_notifications(parent, divorced_parent):
    notify(users=[parent.user, divorced_parent.user], cause="c:5", title="Nieuw")
    other = Notification.objects.get(user=divorced_parent.user)
    assert notification_mark_read(actor=parent.user, notification_ids=[other.pk]) == 0
    assert notification_mark_read(actor=parent.user) == 1
    assert not notifications_for(viewer=parent.user, unread_only=True).exists()
    assert notifications_for(viewer=divorced_parent.user, unread_only=True).count() == 1


def test_inactive_users_are_not_notified(parent):
    parent.user.is_active = False
    parent.user.save()
    assert notify(users=[parent.user], cause="c:6", title="Nieuw") == 0


def test_the_notifications_page_shows_new_ones_and_then_marks_them_read(client, parent):
    notify(users=[parent.user], cause="c:7", title="Er staat een nieuw bericht klaar", url="/")
    client.force_login(parent.user)
    home = client.get("/").content.decode()
    assert '<span class="nav-count" data-unread-notifications>1</span>' in home
    page = client.get("/meldingen/").content.decode()
    assert "Er staat een nieuw bericht klaar" in page
    assert "Nieuw" in page
    assert not notifications_for(viewer=parent.user, unread_only=True).exists()
    home = client.get("/").content.decode()
    assert '<span class="nav-count" data-unread-notifications hidden>0</span>' in home


def test_nobody_sees_another_users_notifications(client, parent, divorced_parent):
    notify(users=[divorced_parent.user], cause="c:8", title="Alleen voor de ander")
    client.force_login(parent.user)
    assert "Alleen voor de ander" not in client.get("/meldingen/").content.decode()


# --- retries with back-off -------------------------------------------------------------------


@pytest.fixture
def smtp_down(settings):
    """The real SMTP backend, pointed at a port where no mail server listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    return settings


def _mail_server_back(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_a_failing_mail_server_is_retried_after_1_2_4_8_minutes_and_the_email_sent_once(parent, smtp_down):
    with time_machine.travel(FRIDAY_EVENING, tick=False) as clock:
        notify(users=[parent.user], cause="c:20", title="Nieuw bericht")
        assert send_due_emails() == 0
        for attempt, minutes in enumerate((1, 2, 4, 8), start=1):
            note = Notification.objects.get()
            assert note.email_attempts == attempt
            assert note.email_next_attempt_at == timezone.now() + dt.timedelta(minutes=minutes)
            clock.shift(dt.timedelta(minutes=minutes) - dt.timedelta(seconds=1))
            assert send_due_emails() == 0
            assert Notification.objects.get().email_attempts == attempt  # not tried before its time
            if minutes == 8:
                _mail_server_back(smtp_down)
            clock.shift(dt.timedelta(seconds=1))
            assert send_due_emails() == (1 if minutes == 8 else 0)
        assert send_due_emails() == 0
        clock.shift(dt.timedelta(hours=7))
        assert send_due_emails() == 0
    assert [m.subject for m in mail.outbox] == ["[Klimop] Nieuw bericht"]
    note = Notification.objects.get()
    assert (note.email_status, note.email_attempts) == (Notification.EmailStatus.SENT, 4)


def test_an_email_is_never_given_up_however_long_the_mail_server_is_down(parent, smtp_down):
    with time_machine.travel(FRIDAY_EVENING, tick=False) as clock:
        notify(users=[parent.user], cause="c:21", title="Nieuw bericht")
        send_due_emails()
        for _ in range(13):  # about two and a half days of failures
            clock.move_to(Notification.objects.get().email_next_attempt_at)
            send_due_emails()
        note = Notification.objects.get()
        assert note.email_status == Notification.EmailStatus.PENDING
        assert note.email_attempts == 14
        # The wait stops growing at six hours.
        assert note.email_next_attempt_at == timezone.now() + dt.timedelta(hours=6)
        _mail_server_back(smtp_down)
        clock.shift(dt.timedelta(hours=6) - dt.timedelta(seconds=1))
        assert send_due_emails() == 0  # not due yet
        clock.shift(dt.timedelta(seconds=1))
        assert send_due_emails() == 1
    assert len(mail.outbox) == 1


class RefusingBackend(BaseEmailBackend):
    """A mail server that answers "550 no such user" for every recipient."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused(
            {to: (550, b"5.1.1 No such user") for m in messages for to in m.to}
        )


def test_an_address_the_mail_server_refuses_is_given_up_but_the_notification_stays(parent, settings):
    settings.EMAIL_BACKEND = "tests.test_notifications.RefusingBackend"
    with time_machine.travel(FRIDAY_EVENING, tick=False) as clock:
        notify(users=[parent.user], cause="c:22", title="Nieuw bericht")
        assert send_due_emails() == 0
        note = Notification.objects.get()
        assert note.email_status == Notification.EmailStatus.FAILED
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        clock.shift(dt.timedelta(days=1))
        assert send_due_emails() == 0
    assert mail.outbox == []
    assert [n.title for n in notifications_for(viewer=parent.user)] == ["Nieuw bericht"]


def test_a_staff_members_retry_waits_for_their_next_working_time(calendar, teacher, smtp_down):
    monday_before_closing = dt.datetime(2026, 11, 30, 16, 29, 30, tzinfo=AMSTERDAM)
    tuesday_opening = dt.datetime(2026, 12, 1, 8, 0, tzinfo=AMSTERDAM)
    with time_machine.travel(monday_before_closing, tick=False) as clock:
        notify(users=[teacher.user], cause="c:23", title="Nieuw chatbericht")
        assert send_due_emails() == 0  # the mail server fails; next try at 16:30:30
        _mail_server_back(smtp_down)
        clock.shift(dt.timedelta(minutes=1))
        assert send_due_emails() == 0  # 16:30:30 is after the teacher's working time
        clock.move_to(tuesday_opening - dt.timedelta(seconds=1))
        assert send_due_emails() == 0
        assert mail.outbox == []
        clock.move_to(tuesday_opening)
        assert send_due_emails() == 1
        assert send_due_emails() == 0
    assert [m.to for m in mail.outbox] == [[teacher.user.email]]
