"""Create notifications (in bulk, at most once per user and cause), e-mail and push them.

Staff are never notified outside their own working time (docs/agreements.md): their
row gets ``deliver_at`` = their next opening, and a sweep that finds a staff
member's e-mail or push due outside their working time waits for the next
opening. Parents are notified at once.

E-mail and browser push are two outboxes on the notification row, each swept
every minute (and right after a notification is made):

* **at most once** — a row is locked (``skip_locked``: two workers never take the
  same one) and its status is saved in the same short transaction as the send,
  one notification per transaction; a crash resends at most the one in flight;
* **never lost** — a failed send counts an attempt and is tried again after
  1, 2, 4, 8 … minutes, at most :data:`RETRY_CAP` apart, for as long as it takes.
  Only an e-mail address the mail server refuses permanently (5xx) is given up
  (status FAILED, logged as an error); the in-app notification stays either way.
  A push service answering 404/410 means the browser dropped the subscription:
  that subscription is disabled, the other devices still get the push.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
from collections.abc import Callable, Iterable

import pywebpush
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from py_vapid import Vapid

from klimop import selectors as directory
from klimop import worktime
from klimop.models import StaffMember, User
from klimop.queue import enqueue_on_commit

from .models import Notification, PushSubscription

logger = logging.getLogger(__name__)

RETRY_FIRST = dt.timedelta(minutes=1)
RETRY_CAP = dt.timedelta(hours=6)
# Push services keep a message this long for a device that is offline.
PUSH_TTL_SECONDS = 24 * 3600
PUSH_TIMEOUT_SECONDS = 10
PUSH_BODY_MAX = 600  # the encrypted payload must stay under the services' 4 kB


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failure: 1, 2, 4, 8 … minutes, at most 6 hours."""
    if attempts < 1:
        return dt.timedelta(0)
    # 2**9 minutes is already past the cap; don't compute huge powers for old rows.
    return min(RETRY_FIRST * 2 ** min(attempts - 1, 16), RETRY_CAP)


def push_enabled() -> bool:
    """Browser push is on when the deployment has a VAPID key pair."""
    return bool(settings.WEBPUSH_VAPID_PUBLIC_KEY and settings.WEBPUSH_VAPID_PRIVATE_KEY)


def _staff_calendars(user: User, calendars: dict) -> list[worktime.WorkCalendar]:
    """The working time of each of the user's staff records (one per school); none for parents."""
    records = getattr(user, "_prefetched_objects_cache", {}).get("staff_members")
    if records is None:
        records = StaffMember.objects.filter(user=user).select_related("school")
    result = []
    for staff in records:
        if staff.school_id not in calendars:
            calendars[staff.school_id] = directory.school_calendar(staff.school)
        result.append(worktime.for_staff_weekdays(calendars[staff.school_id], staff.working_weekdays))
    return result


def _deliver_at_for(user: User, now: dt.datetime, calendars: dict) -> dt.datetime:
    """``now`` for parents; a staff member's next working moment (``now`` if at work).

    Someone on the staff of two schools is at work when either school's working
    time says so. A school's calendar goes on after its last entered school year
    (the national calendar), so a staff member is never told anything in the
    summer holiday just because next year is not entered yet.
    """
    openings = [worktime.next_opening(cal, now) for cal in _staff_calendars(user, calendars)]
    return min(openings, default=now)


def notify(
    *,
    users: Iterable[User],
    cause: str,
    title,
    body="",
    url: str = "",
    deliver_at: dt.datetime | None = None,
) -> int:
    """Notify each user once about ``cause``; returns how many new notifications were made.

    ``title`` and ``body`` may be lazy translations: they are rendered in each
    recipient's own language. Existing (user, cause) rows are left alone, so calling
    this twice for the same cause notifies nobody twice. E-mails and pushes go out
    after commit (and the periodic sweeps send whatever that enqueue missed). A push
    is asked for users who have turned push on in at least one browser.
    """
    now = timezone.now()
    # A queryset of recipients (a post's audience) is read once, as a subquery.
    ids = users.values("pk") if isinstance(users, QuerySet) else [u.pk for u in users]
    users = list(User.objects.filter(pk__in=ids, is_active=True).prefetch_related("staff_members__school"))
    pushable = set()
    if push_enabled() and users:
        pushable = set(
            PushSubscription.objects.filter(user__in=users, disabled_at__isnull=True).values_list(
                "user_id", flat=True
            )
        )
    calendars: dict = {}
    # Rendered once per language, not per recipient: a newsletter reaches hundreds of parents.
    rendered: dict[str, tuple[str, str]] = {}
    rows = []
    for user in users:
        if user.language not in rendered:
            with translation.override(user.language):
                rendered[user.language] = str(title), str(body)
        rendered_title, rendered_body = rendered[user.language]
        rows.append(
            Notification(
                user=user,
                cause=cause,
                title=rendered_title[:200],
                body=rendered_body,
                url=url,
                deliver_at=max(deliver_at or now, _deliver_at_for(user, now, calendars)),
                email_status=(
                    Notification.EmailStatus.PENDING
                    if user.notify_by_email
                    else Notification.EmailStatus.NOT_WANTED
                ),
                push_status=(
                    Notification.PushStatus.PENDING
                    if user.pk in pushable
                    else Notification.PushStatus.NOT_WANTED
                ),
            )
        )
    with transaction.atomic():
        before = Notification.objects.filter(cause=cause).count()
        Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        created = Notification.objects.filter(cause=cause).count() - before
        if created:
            enqueue_on_commit("klimop.notifications.tasks.send_due_notification_emails")
            if pushable:
                enqueue_on_commit("klimop.notifications.tasks.send_due_notification_pushes")
    return created


def notification_mark_read(*, actor: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the actor's own notifications read (all delivered ones when no ids are given)."""
    qs = Notification.objects.filter(user=actor, read_at__isnull=True, deliver_at__lte=timezone.now())
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())


def notification_emails_mark_sent(*, actor: User | None, users: Iterable[User]) -> int:
    """System only: record the pending e-mails of these users' notifications as sent, each
    when it was due (``deliver_at``), without sending them; returns how many.

    For history that must not be mailed now: the demo school's past weeks, whose
    notifications the services made on the days they happened. Any actor is refused.
    """
    if actor is not None:
        raise PermissionDenied
    return Notification.objects.filter(user__in=users, email_status=Notification.EmailStatus.PENDING).update(
        email_status=Notification.EmailStatus.SENT,
        emailed_at=F("deliver_at"),
        email_next_attempt_at=None,
    )


# --- the outbox sweeps ------------------------------------------------------------------


def _sweep(*, channel: str, limit: int, deliver: Callable[[Notification, dt.datetime], bool]) -> int:
    """Run ``deliver`` once for each due, pending row of ``channel`` ("email" or "push").

    Each row is locked and saved in its own transaction (``deliver`` updates the row's
    fields; this saves them), so a slow or crashing send affects one row only. A
    staff member's row that comes due outside their working time is moved to their
    next opening without sending. Returns how many rows ``deliver`` reported as sent.
    """
    status, next_at = f"{channel}_status", f"{channel}_next_attempt_at"
    now = timezone.now()
    due = Q(**{status: "pending", "deliver_at__lte": now}) & (
        Q(**{f"{next_at}__isnull": True}) | Q(**{f"{next_at}__lte": now})
    )
    candidates = list(
        Notification.objects.filter(due).order_by("deliver_at", "pk").values_list("pk", flat=True)[:limit]
    )
    calendars: dict = {}
    sent = 0
    for pk in candidates:
        with transaction.atomic():
            note = (
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("user")
                .filter(due, pk=pk)
                .first()
            )
            if note is None:  # another worker has it, or sent it meanwhile
                continue
            moment = timezone.now()  # a long sweep may cross a staff member's closing time
            opening = _deliver_at_for(note.user, moment, calendars)
            if opening > moment:
                # A retry (or a late sweep) must not reach staff outside their working time.
                setattr(note, next_at, opening)
                note.save(update_fields=[next_at])
                continue
            if deliver(note, moment):
                sent += 1
            note.save(update_fields=_CHANNEL_FIELDS[channel])
    return sent


_CHANNEL_FIELDS = {
    "email": ["email_status", "email_attempts", "email_next_attempt_at", "emailed_at"],
    "push": ["push_status", "push_attempts", "push_next_attempt_at", "pushed_at", "push_sent_to"],
}


def _schedule_retry(note: Notification, channel: str, now: dt.datetime) -> None:
    attempts = getattr(note, f"{channel}_attempts") + 1
    setattr(note, f"{channel}_attempts", attempts)
    setattr(note, f"{channel}_next_attempt_at", now + retry_delay(attempts))
    level = logging.ERROR if retry_delay(attempts) >= RETRY_CAP else logging.WARNING
    logger.log(
        level,
        "%s for notification %s failed (attempt %s); next try at %s",
        channel,
        note.pk,
        attempts,
        getattr(note, f"{channel}_next_attempt_at"),
    )


def _permanently_refused(exc: Exception) -> bool:
    """The mail server refused every recipient with a permanent (5xx) answer."""
    if not isinstance(exc, smtplib.SMTPRecipientsRefused) or not exc.recipients:
        return False
    return all(500 <= code < 600 for code, _msg in exc.recipients.values())


def _deliver_email(note: Notification, now: dt.datetime) -> bool:
    if not note.user.email:
        note.email_status = Notification.EmailStatus.FAILED
        logger.error("Notification %s: user %s has no e-mail address", note.pk, note.user_id)
        return False
    link = f"{settings.SITE_URL}{note.url}" if note.url else settings.SITE_URL
    try:
        send_mail(f"[Klimop] {note.title}", f"{note.body}\n\n{link}\n".lstrip(), None, [note.user.email])
    except Exception as exc:
        if _permanently_refused(exc):
            note.email_attempts += 1
            note.email_status = Notification.EmailStatus.FAILED
            logger.error("E-mail for notification %s refused permanently: %s", note.pk, exc)
        else:
            _schedule_retry(note, "email", now)
            logger.debug("E-mail failure", exc_info=True)
        return False
    note.email_status = Notification.EmailStatus.SENT
    note.emailed_at = now
    note.email_next_attempt_at = None
    return True


def send_due_emails(*, limit: int = 200) -> int:
    """Send the e-mails of delivered, pending notifications whose (next) attempt is due.

    At most once each, retried with back-off until sent (see the module docstring).
    Returns how many e-mails went out.
    """
    return _sweep(channel="email", limit=limit, deliver=_deliver_email)


# --- browser push -------------------------------------------------------------------------


def _push_payload(note: Notification) -> str:
    body = note.body if len(note.body) <= PUSH_BODY_MAX else note.body[: PUSH_BODY_MAX - 1] + "…"
    return json.dumps(
        {
            "title": note.title,
            "body": body,
            "url": note.url or "/meldingen/",
            "tag": f"klimop-{note.pk}",
        }
    )


def _push_to(subscription: PushSubscription, payload: str, vapid: Vapid) -> None:
    """One Web Push request; raises pywebpush.WebPushException (or a network error) on failure."""
    pywebpush.webpush(
        subscription.info,
        data=payload,
        vapid_private_key=vapid,
        # A fresh dict each time: pywebpush writes the endpoint's "aud" into it.
        vapid_claims={"sub": settings.WEBPUSH_VAPID_SUBJECT},
        ttl=PUSH_TTL_SECONDS,
        timeout=PUSH_TIMEOUT_SECONDS,
        headers={"Urgency": "normal"},
    )


def _deliver_push(vapid: Vapid) -> Callable[[Notification, dt.datetime], bool]:
    def deliver(note: Notification, now: dt.datetime) -> bool:
        done = set(note.push_sent_to)
        devices = list(
            PushSubscription.objects.filter(user_id=note.user_id, disabled_at__isnull=True)
            .exclude(pk__in=done)
            .order_by("pk")
        )
        payload = _push_payload(note)
        failed = reached = False
        for device in devices:
            try:
                _push_to(device, payload, vapid)
            except Exception as exc:  # noqa: BLE001 - any failure of one browser is retried later
                code = getattr(getattr(exc, "response", None), "status_code", None)
                if code in (404, 410):
                    device.disabled_at = now
                    device.save(update_fields=["disabled_at"])
                    logger.info("Push subscription %s is gone (%s); disabled", device.pk, code)
                else:
                    failed = True
                    device.failure_count += 1
                    device.save(update_fields=["failure_count"])
                    logger.warning(
                        "Push of notification %s to subscription %s failed: %s", note.pk, device.pk, exc
                    )
            else:
                done.add(device.pk)
                reached = True
                device.last_success_at, device.failure_count = now, 0
                device.save(update_fields=["last_success_at", "failure_count"])
                if note.pushed_at is None:
                    note.pushed_at = now
        note.push_sent_to = sorted(done)
        if failed:
            _schedule_retry(note, "push", now)
            return reached
        note.push_next_attempt_at = None
        # Every device has it now, or none is left (all turned off or gone).
        note.push_status = Notification.PushStatus.SENT if done else Notification.PushStatus.NOT_WANTED
        return reached

    return deliver


def send_due_pushes(*, limit: int = 200) -> int:
    """Push delivered, pending notifications to their users' browsers; at most once per device.

    Same locking, back-off and working-time rules as :func:`send_due_emails`. Does
    nothing (and leaves the rows pending) while no VAPID keys are configured.
    Returns how many notifications reached at least one device in this run.
    """
    if not push_enabled():
        return 0
    try:
        vapid = Vapid.from_string(settings.WEBPUSH_VAPID_PRIVATE_KEY)
    except Exception:
        logger.exception("WEBPUSH_VAPID_PRIVATE_KEY cannot be read; pushes stay pending")
        return 0
    return _sweep(channel="push", limit=limit, deliver=_deliver_push(vapid))


# --- subscriptions ------------------------------------------------------------------------


def push_subscription_save(
    *, actor: User, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Turn push on for one browser of the actor (the endpoint identifies the browser).

    Validation of the keys is the caller's (the view's form); saving the same
    endpoint again refreshes it, and a browser that someone else used before is
    theirs no more.
    """
    with transaction.atomic():
        subscription, _created = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={
                "user": actor,
                "p256dh": p256dh,
                "auth": auth,
                "user_agent": user_agent[:300],
                "disabled_at": None,
                "failure_count": 0,
            },
        )
    return subscription


def push_subscription_delete(*, actor: User, endpoint: str) -> bool:
    """Turn push off for one of the actor's own browsers; False when it is not theirs."""
    deleted, _ = PushSubscription.objects.filter(user=actor, endpoint=endpoint).delete()
    return bool(deleted)
