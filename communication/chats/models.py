"""Chats between parents and staff: conversations, who takes part, and their messages.

Delivery is decided by ``Message.deliver_at`` alone (docs/agreements.md, "Office
hours"): a staff member's message written outside their working time carries their
next opening, and every read filters on it, so it reaches parents at the right moment
whether or not a worker runs. A parent's message is delivered at once; the answer clock
(``answer_by``, ``remind_at``, ``escalate_at``) is computed in working time when it is
stored, and the periodic sweeps mark ``reminded_at`` / ``escalated_at`` once.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def chat_attachment_upload_to(instance, filename: str) -> str:
    # Private and unguessable, like post files: only the access-checked view serves them.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"private/chats/{uuid.uuid4().hex}.{ext}"


class ChatSettings(models.Model):
    """A school's settings for chats (one row per school; missing means the defaults)."""

    class AcknowledgementStops(models.TextChoices):
        NOTHING = "nothing", _("nothing: only an answer stops the clock")
        REMINDER = "reminder", _("the reminder (an overdue answer is still escalated)")
        BOTH = "both", _("the reminder and the escalation to the director")

    school = models.OneToOneField(
        "klimop.School", on_delete=models.CASCADE, related_name="chat_settings", verbose_name=_("school")
    )
    parents_may_start_chats = models.BooleanField(
        _("parents may start a chat with their child's teachers"), default=True
    )
    parent_to_parent_chats = models.BooleanField(
        _("parents may write to other parents of their child's group"), default=True
    )
    acknowledgement_stops = models.CharField(
        _("a staff member's \"read, I'll get back to you\" stops"),
        max_length=12,
        choices=AcknowledgementStops.choices,
        default=AcknowledgementStops.REMINDER,
    )

    class Meta:
        verbose_name = _("chat settings")
        verbose_name_plural = _("chat settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledgement_stops__in=["nothing", "reminder", "both"]),
                name="chat_settings_known_stops",
            ),
        ]

    def __str__(self) -> str:
        return str(self.school)  # the admin box reads "<settings>: <school>"


class Conversation(models.Model):
    class Kind(models.TextChoices):
        DIRECT = "direct", _("Teacher and parent")
        CHILD = "child", _("Chat about a child")
        GROUP = "group", _("Group conversation")
        PARENTS = "parents", _("Parents among themselves")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    school = models.ForeignKey(
        "klimop.School",
        on_delete=models.CASCADE,
        related_name="conversations",
        verbose_name=_("school"),
    )
    pupil = models.ForeignKey(
        "klimop.Pupil",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("pupil"),
    )
    group = models.ForeignKey(
        "klimop.Group",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("group"),
    )
    title = models.CharField(_("title"), max_length=140, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
        help_text=_("Empty for the per-child chats the school year creates."),
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    closed_at = models.DateTimeField(
        _("closed at"),
        null=True,
        blank=True,
        help_text=_("A closed conversation can be read but not written in (e.g. the pupil left)."),
    )

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["direct", "child", "group", "parents"]),
                name="conversation_kind_known",
            ),
            # About a pupil: the direct chat and the per-child chat.
            models.CheckConstraint(
                condition=~Q(kind__in=["direct", "child"]) | Q(pupil__isnull=False),
                name="conversation_about_pupil_has_pupil",
            ),
            # Within a group: teacher-started group chats and parent-to-parent chats.
            models.CheckConstraint(
                condition=~Q(kind__in=["group", "parents"]) | Q(group__isnull=False),
                name="conversation_in_group_has_group",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("created_at")),
                name="conversation_closed_after_start",
            ),
            # One per-child chat per pupil: the yearly sync relies on it to be idempotent.
            models.UniqueConstraint(
                fields=["pupil"],
                condition=Q(kind="child"),
                name="conversation_one_child_chat",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class Participant(models.Model):
    """One user in one conversation.

    ``last_read_at`` is when the user last saw the conversation (their unread count).
    Others see a read receipt from ``receipt_at``: a parent's every read, a staff
    member's read in their working time. A staff member who reads outside it is shown
    as having read from their next opening on (``held_receipt_at``, shown from
    ``held_receipt_from``), like what they write: nobody learns that the teacher was
    reading at midnight, and nobody waits for an answer from someone off duty.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_participations"
    )
    is_staff = models.BooleanField(_("staff member"), default=False)
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    last_read_at = models.DateTimeField(_("last read at"), null=True, blank=True)
    receipt_at = models.DateTimeField(_("read as others see it"), null=True, blank=True)
    held_receipt_at = models.DateTimeField(_("read outside working time"), null=True, blank=True)
    held_receipt_from = models.DateTimeField(_("shown as read from"), null=True, blank=True)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="participant_once"),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=F("joined_at")),
                name="participant_left_after_joining",
            ),
        ]
        indexes = [models.Index(fields=["user", "left_at"], name="participant_of_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.conversation}"

    def receipt_as_of(self, now: dt.datetime) -> dt.datetime | None:
        """Up to when others see this participant as having read, at ``now``."""
        if (
            self.held_receipt_at is not None
            and self.held_receipt_from is not None
            and self.held_receipt_from <= now
        ):
            return max(self.receipt_at or self.held_receipt_at, self.held_receipt_at)
        return self.receipt_at


class Message(models.Model):
    class AttachmentKind(models.TextChoices):
        NONE = "", _("None")
        PDF = "pdf", _("PDF")
        IMAGE = "image", _("Image")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="chat_messages",
        verbose_name=_("sender"),
    )
    body = models.TextField(_("text"), help_text=_("Sanitised HTML."))
    created_at = models.DateTimeField(_("written at"))
    deliver_at = models.DateTimeField(_("delivered at"), db_index=True)
    needs_answer = models.BooleanField(_("needs an answer"), default=False)
    answer_by = models.DateTimeField(_("answer expected by"), null=True, blank=True)
    remind_at = models.DateTimeField(_("remind staff at"), null=True, blank=True)
    escalate_at = models.DateTimeField(_("escalate at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("removed by"),
    )
    attachment = models.FileField(
        _("attachment"), upload_to=chat_attachment_upload_to, max_length=200, blank=True
    )
    attachment_kind = models.CharField(
        max_length=5, choices=AttachmentKind.choices, default=AttachmentKind.NONE, blank=True
    )
    attachment_name = models.CharField(_("file name"), max_length=120, blank=True)
    attachment_content_type = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["deliver_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deliver_at__gte=F("created_at")), name="message_delivered_after_written"
            ),
            # Every message that needs an answer carries its whole answer clock.
            models.CheckConstraint(
                condition=Q(needs_answer=False)
                | Q(answer_by__isnull=False, remind_at__isnull=False, escalate_at__isnull=False),
                name="message_answer_clock_complete",
            ),
            models.CheckConstraint(
                condition=Q(answer_by__isnull=True) | Q(answer_by__gte=F("created_at")),
                name="message_answer_by_after_written",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(needs_answer=True),
                name="message_answered_only_if_asked",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False, needs_answer=True),
                name="message_acknowledged_with_who",
            ),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True, removed_by__isnull=True)
                | Q(removed_at__isnull=False, removed_by__isnull=False),
                name="message_removed_with_who",
            ),
            models.CheckConstraint(
                condition=Q(attachment_kind__in=["", "pdf", "image"]),
                name="message_attachment_kind_known",
            ),
            models.CheckConstraint(
                condition=Q(attachment="", attachment_kind="") | (~Q(attachment="") & ~Q(attachment_kind="")),
                name="message_attachment_has_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "deliver_at"], name="message_in_conversation"),
            models.Index(fields=["needs_answer", "answered_at"], name="message_open_answers"),
        ]

    def __str__(self) -> str:
        return f"{self.sender} · {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None
