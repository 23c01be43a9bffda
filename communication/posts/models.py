"""Group and school posts with photos and PDF attachments, and who read them.

A post carries its own ``publish_at``: everything that shows a post to parents
filters on it, so a post held for office hours or scheduled for later is
invisible until then whether or not a worker ran. ``notified_at`` is the outbox
mark of the publish sweep (docs/architecture.md, "How a notification flows").
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def _private_name(prefix: str, filename: str) -> str:
    # Random names under a private prefix: nothing here is served by MEDIA_URL, and the
    # serving view checks access anyway; random names keep them unguessable in backups too.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"private/posts/{prefix}/{uuid.uuid4().hex}.{ext}"


def photo_upload_to(instance, filename: str) -> str:
    return _private_name("photos", filename)


def thumbnail_upload_to(instance, filename: str) -> str:
    return _private_name("thumbnails", filename)


def attachment_upload_to(instance, filename: str) -> str:
    return _private_name("attachments", filename)


class PostSettings(models.Model):
    """A school's settings for posts (one row per school; a missing row means the defaults)."""

    school = models.OneToOneField(
        "klimop.School", on_delete=models.CASCADE, related_name="post_settings", verbose_name=_("school")
    )
    parents_may_thank = models.BooleanField(
        _("parents may say thank you for a post"),
        default=True,
        help_text=_(
            "A one-tap “Thank you” under each post. The author and the staff of the group "
            "see how many parents said it; other parents see no names."
        ),
    )

    class Meta:
        verbose_name = _("post settings")
        verbose_name_plural = _("post settings")

    def __str__(self) -> str:
        return str(self.school)  # the admin box reads "<settings>: <school>"


class Post(models.Model):
    class Kind(models.TextChoices):
        ATMOSPHERE = "atmosphere", _("Atmosphere post")
        FUNCTIONAL = "functional", _("Practical information")
        NEWSLETTER = "newsletter", _("Newsletter")

    school = models.ForeignKey(
        "klimop.School", on_delete=models.CASCADE, related_name="posts", verbose_name=_("school")
    )
    group = models.ForeignKey(
        "klimop.Group",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="posts",
        verbose_name=_("group"),
        help_text=_("Empty: the whole school."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="posts",
        verbose_name=_("author"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.ATMOSPHERE)
    title = models.CharField(_("title"), max_length=140)
    body = models.TextField(_("text"), help_text=_("Sanitised HTML."))
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)
    edited_at = models.DateTimeField(_("last edited at"), null=True, blank=True)
    publish_at = models.DateTimeField(_("published at"), db_index=True)
    held_for_office_hours = models.BooleanField(_("held until office hours"), default=False)
    notified_at = models.DateTimeField(_("parents notified at"), null=True, blank=True)
    consent_confirmed_at = models.DateTimeField(
        _("photo consent checked at"),
        null=True,
        blank=True,
        help_text=_("When the author confirmed that the photos respect the parents' choices."),
    )

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["-publish_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["atmosphere", "functional", "newsletter"]),
                name="post_kind_known",
            ),
            models.CheckConstraint(
                condition=Q(notified_at__isnull=True) | Q(notified_at__gte=models.F("publish_at")),
                name="post_notified_after_publication",
            ),
            models.CheckConstraint(
                condition=Q(edited_at__isnull=True) | Q(edited_at__gte=models.F("created_at")),
                name="post_edited_after_written",
            ),
        ]
        indexes = [
            models.Index(fields=["notified_at", "publish_at"], name="post_publish_due"),
            models.Index(fields=["group", "kind", "publish_at"], name="post_rhythm"),
        ]

    def __str__(self) -> str:
        return self.title


class PostPhoto(models.Model):
    """A re-encoded photo (metadata stripped) and its thumbnail; served only by a checking view."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("photo"), upload_to=photo_upload_to, max_length=200)
    thumbnail = models.FileField(_("thumbnail"), upload_to=thumbnail_upload_to, max_length=200)
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)
    alt_text = models.CharField(
        _("description"),
        max_length=250,
        blank=True,
        help_text=_("What the photo shows, for parents who use a screen reader. Empty: a default."),
    )

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["post", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(width__gt=0, height__gt=0), name="post_photo_has_size"),
            models.CheckConstraint(
                condition=Q(content_type__in=["image/jpeg", "image/png"]),
                name="post_photo_reencoded_type",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post} · {self.position + 1}"


class PostAttachment(models.Model):
    """A PDF attached to a post (checked by its signature, not its name)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=200)
    name = models.CharField(_("file name"), max_length=120)
    size = models.PositiveIntegerField(_("size in bytes"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["post", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="post_attachment_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class PostRead(models.Model):
    """That one user has seen one post (once: the unique constraint makes marking idempotent)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="post_reads")
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("post read")
        verbose_name_plural = _("posts read")
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="post_read_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.post_id}"


class PostThanks(models.Model):
    """One family member's "thank you" for a post (once: the unique constraint makes a double
    tap or a resent form harmless)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="thanks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="post_thanks")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("thank you")
        verbose_name_plural = _("thank-yous")
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="post_thanks_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.post_id}"


def pending_upload_to(instance, filename: str) -> str:
    # Not "pending": a post takes these files over as they are, under the same name.
    return _private_name("uploads", filename)


class PendingUpload(models.Model):
    """A photo or PDF chosen on the post form before the post exists, kept for its author.

    A form that comes back with an error (no consent ticked, a title missing) still has the
    files: they were checked and stored exactly as a post's photos and PDFs are (photos
    re-encoded without metadata, PDFs by their signature), and the form carries their ids.
    Only the owner can use them; publishing moves the stored files onto the post. What is
    left (a form abandoned) is deleted with its files by a periodic sweep after a day.
    """

    class Kind(models.TextChoices):
        PHOTO = "photo", _("photo")
        ATTACHMENT = "attachment", _("PDF file")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_post_uploads"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    file = models.FileField(upload_to=pending_upload_to, max_length=200)
    thumbnail = models.FileField(upload_to=pending_upload_to, max_length=200, blank=True)
    content_type = models.CharField(max_length=20)
    name = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    alt_text = models.CharField(max_length=250, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("upload not yet posted")
        verbose_name_plural = _("uploads not yet posted")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["photo", "attachment"]), name="pending_upload_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(kind="attachment", content_type="application/pdf")
                | Q(kind="photo", content_type__in=["image/jpeg", "image/png"], width__gt=0, height__gt=0),
                name="pending_upload_checked_type",
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="pending_upload_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_photo(self) -> bool:
        return self.kind == self.Kind.PHOTO
