"""In-app notifications, optionally e-mailed: one row per recipient and cause (at most once)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A notification for one user about one cause (e.g. ``post:42``).

    The unique (user, cause) constraint is what makes "sent at most once" true under
    retries and double task runs. ``deliver_at`` keeps staff notifications out of their
    non-working time: the row exists at once but is shown and e-mailed from then on.
    """

    class EmailStatus(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        NOT_WANTED = "not_wanted", _("Not wanted")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    cause = models.CharField(_("cause"), max_length=120)
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

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-deliver_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "cause"], name="notification_once_per_cause"),
        ]
        indexes = [models.Index(fields=["email_status", "deliver_at"], name="notification_email_due")]

    def __str__(self) -> str:
        return f"{self.user} · {self.title}"
