"""In-app notifications, optionally e-mailed and pushed to the user's browsers.

One row per recipient and cause (at most once); each channel keeps its own status,
attempt count and next attempt (exponential back-off, never given up on).
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import models
from django.db.models import Q
from django.dispatch import receiver
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .messages import render


class Notification(models.Model):
    """A notification for one user about one cause (e.g. ``post:42``).

    The unique (user, cause) constraint is what makes "sent at most once" true under
    retries and double task runs. ``deliver_at`` keeps staff notifications out of their
    non-working time: the row exists at once but is shown, e-mailed and pushed from
    then on (and a retry that falls outside their working time waits for the next
    opening too).

    E-mail and push are each an outbox: ``*_status`` is PENDING until the channel
    has delivered it; a failure counts an attempt and sets ``*_next_attempt_at``
    (1, 2, 4 … minutes, at most 6 hours apart) and the sweep tries again then,
    for as long as it takes. Only an address the mail server refuses permanently
    ends as FAILED; the in-app notification is there either way.
    """

    class EmailStatus(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        NOT_WANTED = "not_wanted", _("Not wanted")

    class PushStatus(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        NOT_WANTED = "not_wanted", _("No device")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    cause = models.CharField(_("cause"), max_length=120)
    # What happened, rendered when read in the reader's language (klimop.notifications.messages);
    # empty for a free text. ``title``/``body`` keep the text as rendered at creation in the
    # recipient's language then: the admin's list, and the fallback for a message id that is
    # no longer registered (and for rows made before messages had ids).
    message = models.CharField(_("message"), max_length=80, blank=True, default="")
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    deliver_at = models.DateTimeField(_("delivered from"), db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email_status = models.CharField(
        _("e-mail"), max_length=12, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)
    # NOT_WANTED by default: only notify() asks for a push, for users with a device then.
    push_status = models.CharField(
        _("push"), max_length=12, choices=PushStatus.choices, default=PushStatus.NOT_WANTED
    )
    push_attempts = models.PositiveSmallIntegerField(default=0)
    push_next_attempt_at = models.DateTimeField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    # Ids of the PushSubscriptions that accepted this notification: a retry after one
    # device failed goes only to the devices that have not had it yet.
    push_sent_to = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-deliver_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "cause"], name="notification_once_per_cause"),
        ]
        # The sweeps only look at pending rows: small partial indexes, whatever the history.
        indexes = [
            models.Index(
                fields=["deliver_at", "email_next_attempt_at"],
                name="notification_email_due",
                condition=Q(email_status="pending"),
            ),
            models.Index(
                fields=["deliver_at", "push_next_attempt_at"],
                name="notification_push_due",
                condition=Q(push_status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.title}"

    def rendered(self) -> tuple[str, str]:
        """(title, body) in the active language: the message rendered now, or the stored text."""
        cache = self.__dict__.setdefault("_rendered", {})
        language = translation.get_language()
        if language not in cache:
            text = render(self.message, self.params) if self.message else None
            cache[language] = text or (self.title, self.body)
        return cache[language]

    @property
    def display_title(self) -> str:
        return self.rendered()[0][:200]

    @property
    def display_body(self) -> str:
        return self.rendered()[1]


class PushSubscription(models.Model):
    """One browser's Web Push subscription (the user allowed notifications there).

    The endpoint identifies the browser, so it is unique: when someone else logs in
    on the same browser and turns push on, the subscription moves to them. A push
    service answering 404/410 means the browser dropped it: it is disabled, never
    used again. Logging out removes the subscriptions made in that session, so a
    shared computer does not keep showing the previous user's notifications.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(_("endpoint"), max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_success_at = models.DateTimeField(_("last delivered"), null=True, blank=True)
    failure_count = models.PositiveIntegerField(_("failures in a row"), default=0)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")
        indexes = [models.Index(fields=["user", "disabled_at"], name="pushsubscription_user_active")]

    def __str__(self) -> str:
        return f"{self.user} · {self.user_agent[:40] or self.endpoint[:40]}"

    @property
    def info(self) -> dict:
        """The subscription as pywebpush (and the browser's toJSON()) spell it."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


SESSION_PUSH_KEY = "klimop_push_subscriptions"


@receiver(user_logged_out, dispatch_uid="notifications.push.forget_on_logout")
def _forget_push_subscriptions_on_logout(sender, request, user, **kwargs):
    """Logging out of a browser stops its pushes (the session still exists at this point)."""
    session = getattr(request, "session", None)
    ids = session.get(SESSION_PUSH_KEY, []) if session is not None else []
    if user is not None and ids:
        PushSubscription.objects.filter(user=user, pk__in=ids).delete()


class OutgoingEmail(models.Model):
    """An e-mail that is not a notification: an invitation, a password reset, an address to
    verify, a "you were added to a school" notice.

    Nothing is sent inside a web request: the service or allauth's adapter stores the
    rendered message here (in the recipient's language) and the e-mail sweep sends it
    after commit, with the same back-off as a notification's e-mail, until it goes
    through. Only a permanent refusal of the address (5xx) ends as FAILED.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    to = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    from_email = models.CharField(_("from"), max_length=300, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # What it is (an allauth template prefix, "invitation" …): for the admin and the logs.
    purpose = models.CharField(_("purpose"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "created_at"],
                name="outgoingemail_due",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to} · {self.subject}"
