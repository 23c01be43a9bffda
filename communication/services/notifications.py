"""Create notifications (in bulk, at most once per user and cause) and e-mail them.

Staff are never notified outside their own working time (DESIGN.md §5): their
row gets ``deliver_at`` = their next opening. Parents are notified at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation

from klimop import selectors as directory
from klimop import worktime
from klimop.models import StaffMember, User
from klimop.queue import enqueue_on_commit

from ..models import Notification

logger = logging.getLogger(__name__)
MAX_EMAIL_ATTEMPTS = 5


def _deliver_at_for(user: User, now: dt.datetime, calendars: dict) -> dt.datetime:
    staff = getattr(user, "_prefetched_staff", None)
    if staff is None:
        try:
            staff = user.staff_member
        except StaffMember.DoesNotExist:
            return now
    if staff.school_id not in calendars:
        calendars[staff.school_id] = directory.school_calendar(staff.school)
    cal = calendars[staff.school_id].for_weekdays(staff.working_weekdays)
    try:
        return worktime.next_opening(cal, now)
    except worktime.NoWorkingTime:
        return now


def notify(
    *, users: Iterable[User], cause: str, title, body="", url: str = "",
    deliver_at: dt.datetime | None = None,
) -> int:
    """Notify each user once about ``cause``; returns how many new notifications were made.

    ``title`` and ``body`` may be lazy translations: they are rendered in each
    recipient's own language. Existing (user, cause) rows are left alone, so calling
    this twice for the same cause notifies nobody twice. E-mails go out after commit
    (and the periodic sweep sends whatever that enqueue missed).
    """
    now = timezone.now()
    users = list(User.objects.filter(pk__in=[u.pk for u in users], is_active=True)
                 .select_related("staff_member__school"))
    calendars: dict = {}
    rows = []
    for user in users:
        with translation.override(user.language):
            rendered_title, rendered_body = str(title), str(body)
        rows.append(Notification(
            user=user, cause=cause, title=rendered_title[:200], body=rendered_body, url=url,
            deliver_at=max(deliver_at or now, _deliver_at_for(user, now, calendars)),
            email_status=(Notification.EmailStatus.PENDING if user.notify_by_email
                          else Notification.EmailStatus.NOT_WANTED),
        ))
    with transaction.atomic():
        before = Notification.objects.filter(cause=cause).count()
        Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        created = Notification.objects.filter(cause=cause).count() - before
        if created:
            from ..tasks.notifications import send_due_notification_emails

            enqueue_on_commit(send_due_notification_emails)
    return created


def notification_mark_read(*, actor: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the actor's own notifications read (all delivered ones when no ids are given)."""
    qs = Notification.objects.filter(user=actor, read_at__isnull=True, deliver_at__lte=timezone.now())
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())


def send_due_emails(*, limit: int = 200) -> int:
    """Send the e-mails of delivered, pending notifications; at most once each.

    Rows are locked (skip_locked) so two workers never send the same one; the status
    is set in the same transaction as the send, so a retry after a crash resends at
    most the one in flight. Failures are retried on later sweeps, up to a limit.
    """
    sent = 0
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(email_status=Notification.EmailStatus.PENDING, deliver_at__lte=now)
            .select_related("user")
            .order_by("deliver_at")[:limit]
        )
        for note in due:
            link = f"{settings.SITE_URL}{note.url}" if note.url else settings.SITE_URL
            try:
                send_mail(f"[Klimop] {note.title}", f"{note.body}\n\n{link}\n".lstrip(), None,
                          [note.user.email])
            except Exception:
                note.email_attempts += 1
                if note.email_attempts >= MAX_EMAIL_ATTEMPTS:
                    note.email_status = Notification.EmailStatus.FAILED
                logger.warning("E-mail for notification %s failed", note.pk, exc_info=True)
            else:
                note.email_status = Notification.EmailStatus.SENT
                note.emailed_at = now
                sent += 1
            note.save(update_fields=["email_status", "email_attempts", "emailed_at"])
    return sent
