"""Notifications: at most once per user and cause, never to staff outside working time,
e-mailed through an idempotent outbox sweep that survives failures."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils.translation import gettext_lazy as _

from communication.models import Notification
from communication.selectors.notifications import notifications_for
from communication.services.notifications import notification_mark_read, notify, send_due_emails
from klimop import services as directory_services
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
        users=[parent.user, divorced_parent.user], cause="c:1",
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


def test_users_who_do_not_want_email_get_only_the_in_app_notification(parent):
    parent.user.notify_by_email = False
    parent.user.save()
    notify(users=[parent.user], cause="c:3", title="Nieuw")
    send_due_emails()
    assert mail.outbox == []
    assert notifications_for(viewer=parent.user).count() == 1


def test_a_failed_email_is_retried_by_a_later_sweep_and_not_lost(parent, monkeypatch):
    notify(users=[parent.user], cause="c:4", title="Nieuw")
    from communication.services import notifications as module

    def smtp_down(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(module, "send_mail", smtp_down)
    assert send_due_emails() == 0
    note = Notification.objects.get()
    assert (note.email_status, note.email_attempts) == (Notification.EmailStatus.PENDING, 1)
    monkeypatch.undo()
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
    assert 'class="nav-count"' in home
    page = client.get("/meldingen/").content.decode()
    assert "Er staat een nieuw bericht klaar" in page
    assert "Nieuw" in page
    assert not notifications_for(viewer=parent.user, unread_only=True).exists()
    assert 'class="nav-count"' not in client.get("/").content.decode()


def test_nobody_sees_another_users_notifications(client, parent, divorced_parent):
    notify(users=[divorced_parent.user], cause="c:8", title="Alleen voor de ander")
    client.force_login(parent.user)
    assert "Alleen voor de ander" not in client.get("/meldingen/").content.decode()
