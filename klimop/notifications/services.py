"""Create notifications (in bulk, at most once per user and cause), e-mail and push them.

Staff are never notified outside their own working time (docs/agreements.md): their
row gets ``deliver_at`` = their next opening, and a sweep that finds a staff
member's e-mail or push due outside their working time waits for the next
opening. Parents are notified at once.

E-mail and browser push are two outboxes on the notification row, each swept
every minute (and right after a notification is made). Other e-mails (invitations,
password resets, address verification) go through the same e-mail sweep as
:class:`OutgoingEmail` rows (:func:`email_queue`): no e-mail is sent inside a web
request. A sweep sends a batch over one SMTP connection and, when the batch was full,
the task queues the next batch at once; e-mail and push run on their own Celery queue
with time limits, so a hanging mail server never delays the in-app work.

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
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pywebpush
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from py_vapid import Vapid

from klimop import selectors as directory
from klimop import worktime
from klimop.models import StaffMember, User
from klimop.queue import enqueue_on_commit

from .messages import encode_params, render
from .models import Notification, OutgoingEmail, PushSubscription

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


def _staff_calendars(user: User, calendars: dict, records=None) -> list[worktime.WorkCalendar]:
    """The working time of each of the user's staff records (one per school); none for parents."""
    if records is None:
        records = getattr(user, "_prefetched_objects_cache", {}).get("staff_members")
    if records is None:
        records = StaffMember.objects.filter(user=user).select_related("school")
    result = []
    for staff in records:
        if staff.school_id not in calendars:
            calendars[staff.school_id] = directory.school_calendar(staff.school)
        result.append(worktime.for_staff_weekdays(calendars[staff.school_id], staff.working_weekdays))
    return result


def _deliver_at_for(user: User, now: dt.datetime, calendars: dict, records=None) -> dt.datetime:
    """``now`` for parents; a staff member's next working moment (``now`` if at work).

    Someone on the staff of two schools is at work when either school's working
    time says so. A school's calendar goes on after its last entered school year
    (the national calendar), so a staff member is never told anything in the
    summer holiday just because next year is not entered yet.
    """
    openings = [worktime.next_opening(cal, now) for cal in _staff_calendars(user, calendars, records)]
    return min(openings, default=now)


def notify(
    *,
    users: Iterable[User],
    cause: str,
    message: str = "",
    params: dict | None = None,
    title="",
    body="",
    url: str = "",
    deliver_at: dt.datetime | None = None,
) -> int:
    """Notify each user once about ``cause``; returns how many new notifications were made.

    ``message`` is a registered message id (:mod:`klimop.notifications.messages`) and
    ``params`` its parameters: the notification is rendered when it is read, in the
    reader's language of that moment (page, push, e-mail). Without a message, ``title``
    and ``body`` are the text (lazy translations are rendered in each recipient's language
    now, and stay so). Either way the text in the recipient's language at creation is
    stored too, rendered once per language, never per recipient. Existing (user, cause)
    rows are left alone, so calling this twice for the same cause notifies nobody twice.
    E-mails and pushes go out after commit (and the periodic sweeps send whatever that
    enqueue missed). A push is asked for users who have turned push on in at least one
    browser.
    """
    now = timezone.now()
    # A queryset of recipients (a post's audience) is read once, as a subquery.
    ids = users.values("pk") if isinstance(users, QuerySet) else [u.pk for u in users]
    # In a fixed order (the rows' ids, and so the e-mail order, follow the users'), never the
    # heap order PostgreSQL happens to return.
    users = list(
        User.objects.filter(pk__in=ids, is_active=True)
        .order_by("pk")
        .prefetch_related("staff_members__school")
    )
    pushable = set()
    if push_enabled() and users:
        pushable = set(
            PushSubscription.objects.filter(user__in=users, disabled_at__isnull=True).values_list(
                "user_id", flat=True
            )
        )
    calendars: dict = {}
    stored = encode_params(message, params or {}) if message else {}
    # Rendered once per language, not per recipient: a newsletter reaches hundreds of parents.
    rendered: dict[str, tuple[str, str]] = {}
    rows = []
    for user in users:
        if user.language not in rendered:
            with translation.override(user.language):
                text = render(message, stored, strict=True) if message else None
                rendered[user.language] = text or (str(title), str(body))
        rendered_title, rendered_body = rendered[user.language]
        rows.append(
            Notification(
                user=user,
                cause=cause,
                message=message,
                params=stored,
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
    if not rows:
        return 0
    # Who has one already, through the (user, cause) constraint's index: the rows for this
    # cause are never scanned. The constraint keeps it once per user should another notify for
    # the same cause run at the same moment (the count is then one too many, nothing more).
    had = set(
        Notification.objects.filter(user_id__in=[row.user_id for row in rows], cause=cause).values_list(
            "user_id", flat=True
        )
    )
    rows = [row for row in rows if row.user_id not in had]
    # One statement per 500 rows, all or none (bulk_create's own transaction).
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    if rows:
        enqueue_on_commit("klimop.notifications.tasks.send_due_notification_emails")
        if any(row.push_status == Notification.PushStatus.PENDING for row in rows):
            enqueue_on_commit("klimop.notifications.tasks.send_due_notification_pushes")
    return len(rows)


def notification_mark_read(*, actor: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the actor's own notifications read (all delivered ones when no ids are given)."""
    qs = Notification.objects.filter(user=actor, read_at__isnull=True, deliver_at__lte=timezone.now())
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())


def notification_emails_mark_sent(
    *, actor: User | None, users: Iterable[User], due_by: dt.datetime | None = None
) -> int:
    """System only: record the pending e-mails of these users' notifications as sent, each
    when it was due (``deliver_at``), without sending them; returns how many. With ``due_by``
    only those due by then: a later one has not been sent yet, and goes out when it is due.

    For history that must not be mailed now: the demo school's past weeks, whose
    notifications the services made on the days they happened. Any actor is refused.
    """
    if actor is not None:
        raise PermissionDenied
    pending = Notification.objects.filter(user__in=users, email_status=Notification.EmailStatus.PENDING)
    if due_by is not None:
        pending = pending.filter(deliver_at__lte=due_by)
    return pending.update(
        email_status=Notification.EmailStatus.SENT,
        emailed_at=F("deliver_at"),
        email_next_attempt_at=None,
    )


# --- the outbox sweeps ------------------------------------------------------------------

#: At most this many e-mails per sweep, all over one SMTP connection; a full batch
#: enqueues the next one at once, so a school-wide post is drained in seconds, not minutes.
EMAIL_BATCH_SIZE = 100
#: A batch (e-mail or push) starts no new send after this many seconds; the rest is the
#: next batch's. With EMAIL_TIMEOUT per attempt this keeps a batch well inside the tasks'
#: time limits (klimop.notifications.tasks).
BATCH_SECONDS = 40


@dataclass
class BatchResult:
    """What one sweep did: ``sent`` went out; ``more`` is True when the batch stopped while
    due rows may be left (it was full, or reached :data:`BATCH_SECONDS`) and the mail
    server was fine, so the next batch should follow at once."""

    sent: int = 0
    more: bool = False


def _due(prefix: str, now: dt.datetime) -> Q:
    status, next_at = f"{prefix}status", f"{prefix}next_attempt_at"
    return Q(**{status: "pending"}) & (Q(**{f"{next_at}__isnull": True}) | Q(**{f"{next_at}__lte": now}))


def _notification_due(channel: str, now: dt.datetime) -> Q:
    return _due(f"{channel}_", now) & Q(deliver_at__lte=now)


def _lock_notification(channel: str, pk: int) -> Notification | None:
    """The row, locked, if it is still due; None when another worker has it or it was sent."""
    return (
        Notification.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("user")
        .filter(_notification_due(channel, timezone.now()), pk=pk)
        .first()
    )


def _held_for_working_time(
    note: Notification, channel: str, moment: dt.datetime, calendars: dict, records=None
) -> bool:
    """A retry (or a late sweep) must not reach staff outside their working time: the row is
    moved to their next opening instead. True when that happened."""
    opening = _deliver_at_for(note.user, moment, calendars, records)
    if opening <= moment:
        return False
    next_at = f"{channel}_next_attempt_at"
    setattr(note, next_at, opening)
    note.save(update_fields=[next_at])
    return True


def _sweep(
    *, channel: str, limit: int, deliver: Callable[[Notification, dt.datetime], bool], seconds: float
) -> BatchResult:
    """Run ``deliver`` once for each due, pending row of ``channel`` ("push").

    Each row is locked and saved in its own transaction (``deliver`` updates the row's
    fields; this saves them), so a slow or crashing send affects one row only. A
    staff member's row that comes due outside their working time is moved to their
    next opening without sending. No new row is started after ``seconds``.
    """
    now = timezone.now()
    candidates = list(
        Notification.objects.filter(_notification_due(channel, now))
        .order_by("deliver_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    deadline = time.monotonic() + seconds
    calendars: dict = {}
    result = BatchResult(more=len(candidates) == limit)
    for index, pk in enumerate(candidates):
        if index and time.monotonic() > deadline:  # at least one row per batch
            result.more = True
            logger.warning(
                "%s batch stopped after %s s with %s rows left", channel, seconds, len(candidates) - index
            )
            break
        with transaction.atomic():
            note = _lock_notification(channel, pk)
            if note is None:  # another worker has it, or sent it meanwhile
                continue
            moment = timezone.now()  # a long sweep may cross a staff member's closing time
            if _held_for_working_time(note, channel, moment, calendars):
                continue
            if deliver(note, moment):
                result.sent += 1
            note.save(update_fields=_CHANNEL_FIELDS[channel])
    return result


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


def _connection_lost(exc: Exception) -> bool:
    """The failure is the mail server's, not this message's: it cannot be reached, stopped
    answering (timeout) or hung up. The rest of the batch would fail the same way."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    # smtplib's answers (refused recipient, rejected data …) are OSErrors too, but the
    # connection is still fine after them.
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


# --- e-mail: notifications and outgoing e-mails, one connection per batch ---------------


def email_queue(
    *, to: str, subject: str, body: str, html: str = "", from_email: str = "", headers=None, purpose: str = ""
) -> OutgoingEmail:
    """Store an e-mail to send (rendered already, in the recipient's language) and have the
    e-mail sweep send it after commit; never sends inside the caller's request.

    Retried with back-off until the mail server takes it, like a notification's e-mail;
    only a permanent refusal of the address gives up (FAILED). System only: the callers
    (allauth's adapter, the directory's invitations and notices) decided who gets it.
    """
    (email,) = emails_queue(
        [
            OutgoingEmail(
                to=to,
                subject=subject,
                body=body,
                html=html,
                from_email=from_email or "",
                headers=dict(headers or {}),
                purpose=purpose,
            )
        ]
    )
    return email


def emails_queue(emails: Iterable[OutgoingEmail]) -> list[OutgoingEmail]:
    """:func:`email_queue` for many unsaved rows at once (a school's invitations): one insert
    and one sweep queued after commit."""
    emails = list(emails)
    for email in emails:
        email.subject, email.purpose = email.subject[:300], email.purpose[:100]
    with transaction.atomic():
        created = OutgoingEmail.objects.bulk_create(emails, batch_size=500)
        if created:
            enqueue_on_commit(EMAIL_TASK)
    return created


EMAIL_TASK = "klimop.notifications.tasks.send_due_notification_emails"


def email_queue_message(message: EmailMessage, *, purpose: str = "") -> list[OutgoingEmail]:
    """:func:`email_queue` for a rendered Django message (allauth's); one row per recipient."""
    html = ""
    body = str(message.body)
    if isinstance(message, EmailMultiAlternatives):
        html = next(
            (str(content) for content, mimetype in message.alternatives if mimetype == "text/html"), ""
        )
    if message.content_subtype == "html":
        html, body = body, ""
    return [
        email_queue(
            to=to,
            subject=str(message.subject),
            body=body,
            html=html,
            from_email=message.from_email or "",
            headers=message.extra_headers,
            purpose=purpose,
        )
        for to in message.to
    ]


def _notification_message(note: Notification, connection) -> EmailMessage:
    """The e-mail in the recipient's language of the moment it is sent."""
    link = f"{settings.SITE_URL}{note.url}" if note.url else settings.SITE_URL
    with translation.override(note.user.language):
        title, text = note.rendered()
    body = f"{text}\n\n{link}\n".lstrip()
    return EmailMessage(f"[Klimop] {title}", body, None, [note.user.email], connection=connection)


def _outgoing_message(email: OutgoingEmail, connection) -> EmailMessage:
    if email.html and not email.body:
        message = EmailMessage(
            email.subject, email.html, email.from_email or None, [email.to], headers=email.headers
        )
        message.content_subtype = "html"
    else:
        message = EmailMultiAlternatives(
            email.subject, email.body, email.from_email or None, [email.to], headers=email.headers
        )
        if email.html:
            message.attach_alternative(email.html, "text/html")
    message.connection = connection
    return message


class _EmailRow:
    """One e-mail of a batch, a notification's or an outgoing one, with its bookkeeping."""

    def __init__(self, kind: str, pk: int):
        self.kind, self.pk = kind, pk

    def lock(self):
        if self.kind == "notification":
            return _lock_notification("email", self.pk)
        return (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(_due("", timezone.now()), pk=self.pk)
            .first()
        )


def _email_sent(row, now: dt.datetime) -> None:
    if isinstance(row, Notification):
        row.email_status, row.emailed_at, row.email_next_attempt_at = Notification.EmailStatus.SENT, now, None
        row.save(update_fields=_CHANNEL_FIELDS["email"])
    else:
        row.status, row.sent_at, row.next_attempt_at = OutgoingEmail.Status.SENT, now, None
        row.attempts += 1
        row.save(update_fields=["status", "sent_at", "next_attempt_at", "attempts"])


def _email_failed(row, now: dt.datetime, exc: Exception | None) -> None:
    """Permanently refused (or no address): given up. Otherwise: tried again later."""
    permanent = exc is None or _permanently_refused(exc)
    if isinstance(row, Notification):
        if permanent:
            row.email_attempts += exc is not None
            row.email_status = Notification.EmailStatus.FAILED
            logger.error("E-mail for notification %s refused permanently: %s", row.pk, exc or "no address")
        else:
            _schedule_retry(row, "email", now)
        row.save(update_fields=_CHANNEL_FIELDS["email"])
        return
    row.attempts += 1
    if permanent:
        row.status = OutgoingEmail.Status.FAILED
        logger.error("Outgoing e-mail %s (%s) refused permanently: %s", row.pk, row.purpose, exc)
    else:
        row.next_attempt_at = now + retry_delay(row.attempts)
        level = logging.ERROR if retry_delay(row.attempts) >= RETRY_CAP else logging.WARNING
        logger.log(
            level,
            "Outgoing e-mail %s failed (attempt %s); next try at %s",
            row.pk,
            row.attempts,
            row.next_attempt_at,
        )
    row.save(update_fields=["status", "attempts", "next_attempt_at"])


def _email_candidates(limit: int) -> list[_EmailRow]:
    """The due e-mails, oldest first: outgoing ones (a person waits for their link) before
    notifications."""
    now = timezone.now()
    outgoing = list(
        OutgoingEmail.objects.filter(_due("", now))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    notes = list(
        Notification.objects.filter(_notification_due("email", now))
        .order_by("deliver_at", "pk")
        .values_list("pk", flat=True)[: limit - len(outgoing)]
    )
    return [_EmailRow("outgoing", pk) for pk in outgoing] + [_EmailRow("notification", pk) for pk in notes]


def _staff_records(notification_ids: list[int]) -> dict[int, list[StaffMember]]:
    """The staff records of these notifications' users, in one query for the whole batch."""
    records: dict[int, list[StaffMember]] = {}
    for staff in StaffMember.objects.filter(user__notifications__pk__in=notification_ids).select_related(
        "school"
    ):
        records.setdefault(staff.user_id, []).append(staff)
    return records


def _retry_all(rows: list[_EmailRow], exc: Exception) -> None:
    """The mail server could not be reached: every row of the batch tries again later."""
    logger.warning("Mail server unreachable (%s); %s e-mails wait for their next attempt", exc, len(rows))
    for item in rows:
        with transaction.atomic():
            row = item.lock()
            if row is not None:
                _email_failed(row, timezone.now(), exc)


def send_email_batch(*, limit: int = EMAIL_BATCH_SIZE, seconds: float = BATCH_SECONDS) -> BatchResult:
    """Send up to ``limit`` due e-mails (outgoing ones, then notifications') over one SMTP
    connection; the e-mail sweep.

    Exactly once as far as the database can know: each row is locked (``skip_locked``:
    two workers never take the same one), sent and marked in its own transaction, so a
    crash or a time limit resends at most the one in flight. A refused address fails
    that row only; the connection goes on with the next. A mail server that cannot be
    reached, stops answering (``EMAIL_TIMEOUT``) or hangs up ends the batch: the rows
    not sent are tried again later (back-off), nothing is marked sent.
    """
    rows = _email_candidates(limit)
    if not rows:
        return BatchResult()
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:  # noqa: BLE001 - whatever the server did, the rows wait
        _retry_all(rows, exc)
        return BatchResult()
    deadline = time.monotonic() + seconds
    calendars: dict = {}
    staff = _staff_records([item.pk for item in rows if item.kind == "notification"])
    result = BatchResult(more=len(rows) == limit)
    try:
        for index, item in enumerate(rows):
            if index and time.monotonic() > deadline:  # at least one row per batch
                logger.warning("E-mail batch stopped after %s s with %s left", seconds, len(rows) - index)
                result.more = True
                break
            with transaction.atomic():
                row = item.lock()
                if row is None:  # another worker has it, or sent it meanwhile
                    continue
                moment = timezone.now()
                if isinstance(row, Notification):
                    if _held_for_working_time(row, "email", moment, calendars, staff.get(row.user_id, [])):
                        continue
                    if not row.user.email:
                        _email_failed(row, moment, None)
                        continue
                    message = _notification_message(row, connection)
                else:
                    message = _outgoing_message(row, connection)
                try:
                    message.send()
                except Exception as exc:  # noqa: BLE001 - recorded on the row, retried or given up
                    _email_failed(row, moment, exc)
                    if _connection_lost(exc):
                        # The rest would wait for the same timeout; the next sweep tries again.
                        logger.warning("Mail server lost during a batch: %s", exc)
                        result.more = False
                        break
                    continue
                _email_sent(row, moment)
                result.sent += 1
    finally:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a server that hung up cannot be told goodbye
            logger.debug("Closing the SMTP connection failed", exc_info=True)
    return result


def send_due_emails(*, limit: int = EMAIL_BATCH_SIZE) -> int:
    """Send the due e-mails (see :func:`send_email_batch`) until none is left or the mail
    server fails; returns how many went out. For tests and commands: the task chains
    batches through the queue instead."""
    sent = 0
    while True:
        result = send_email_batch(limit=limit)
        sent += result.sent
        if not result.more:
            return sent


# --- browser push -------------------------------------------------------------------------


def _push_payload(note: Notification) -> str:
    """The push in the recipient's language of the moment it is sent."""
    with translation.override(note.user.language):
        title, body = note.rendered()
    body = body if len(body) <= PUSH_BODY_MAX else body[: PUSH_BODY_MAX - 1] + "…"
    return json.dumps(
        {
            "title": title[:200],
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
    return send_push_batch(limit=limit).sent


def send_push_batch(
    *, limit: int = 200, vapid: Vapid | None = None, seconds: float = BATCH_SECONDS
) -> BatchResult:
    """One batch of :func:`send_due_pushes`; ``more`` asks for the next one at once."""
    if vapid is None:
        if not push_enabled():
            return BatchResult()
        try:
            vapid = Vapid.from_string(settings.WEBPUSH_VAPID_PRIVATE_KEY)
        except Exception:
            logger.exception("WEBPUSH_VAPID_PRIVATE_KEY cannot be read; pushes stay pending")
            return BatchResult()
    return _sweep(channel="push", limit=limit, deliver=_deliver_push(vapid), seconds=seconds)


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
