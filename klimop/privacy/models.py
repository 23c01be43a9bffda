"""Privacy preferences (AVG): photo/video consent per child, purpose, parent and school year.

AVG art. 8 and the Dutch supervisory authority's guidance on school photos: consent for
a child under 16 comes from the parents with gezag, is specific per purpose, demonstrable
and withdrawable at any time; silence is no consent. Hence one decision row per
(pupil, guardian, purpose, school year) — constrained in the database — and an
append-only history row for every change, with who made it and when.

Imported at the bottom of ``klimop/models.py`` so Django finds the models in the app.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["ConsentDecision", "ConsentEvent", "ConsentPurpose", "PrivacySettings"]


class ConsentPurpose(models.TextChoices):
    GROUP_PAGE = "group_page", _("Photos on the group page")
    WEBSITE = "website", _("School website")
    SOCIAL_MEDIA = "social_media", _("Social media")
    SCHOOL_GUIDE = "school_guide", _("School guide")
    NEWSLETTER = "newsletter", _("Newsletter")
    VIDEO = "video", _("Video")


class PrivacySettings(models.Model):
    """A school's privacy settings beside ``School`` (created on demand with the defaults)."""

    school = models.OneToOneField(
        "klimop.School",
        on_delete=models.CASCADE,
        related_name="privacy_settings",
        verbose_name=_("school"),
    )
    renew_consent_each_year = models.BooleanField(
        _("ask for photo consent again each school year"), default=True
    )
    grace_days = models.PositiveSmallIntegerField(
        _("last year's consent still counts for (days)"),
        default=30,
        validators=[MaxValueValidator(365)],
        help_text=_(
            "When consent is asked again each school year, last year's choices keep counting "
            "for this many days after the new school year starts."
        ),
    )

    class Meta:
        verbose_name = _("privacy settings")
        verbose_name_plural = _("privacy settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(grace_days__lte=365),
                name="privacy_settings_grace_at_most_a_year",
                violation_error_message=_("The grace period can be at most 365 days."),
            ),
        ]

    def __str__(self) -> str:
        return str(_("Privacy settings of %(school)s") % {"school": self.school})


class ConsentDecision(models.Model):
    """One parent's current choice for one child, purpose and school year."""

    pupil = models.ForeignKey(
        "klimop.Pupil",
        on_delete=models.CASCADE,
        related_name="consent_decisions",
        verbose_name=_("pupil"),
    )
    guardian = models.ForeignKey(
        "klimop.Guardian",
        on_delete=models.CASCADE,
        related_name="consent_decisions",
        verbose_name=_("guardian"),
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    school_year = models.ForeignKey(
        "klimop.SchoolYear",
        on_delete=models.CASCADE,
        related_name="consent_decisions",
        verbose_name=_("school year"),
    )
    granted = models.BooleanField(_("consent given"))
    decided_at = models.DateTimeField(_("decided at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )

    class Meta:
        verbose_name = _("consent decision")
        verbose_name_plural = _("consent decisions")
        ordering = ["pupil", "purpose", "-decided_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "guardian", "purpose", "school_year"],
                name="consent_decision_once_per_year",
                violation_error_message=_("This parent already decided for this purpose this year."),
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=ConsentPurpose.values),
                name="consent_decision_known_purpose",
            ),
        ]
        indexes = [models.Index(fields=["pupil", "purpose"], name="consent_decision_pupil")]

    def __str__(self) -> str:
        answer = _("yes") if self.granted else _("no")
        return f"{self.pupil} · {self.get_purpose_display()} · {self.guardian}: {answer}"


class ConsentEvent(models.Model):
    """Append-only history: one row per change of a decision (AVG art. 7(1): demonstrable).

    Written only by ``privacy_services``; never updated or deleted by the application
    (the admin shows it read-only).
    """

    pupil = models.ForeignKey(
        "klimop.Pupil",
        on_delete=models.CASCADE,
        related_name="consent_events",
        verbose_name=_("pupil"),
    )
    guardian = models.ForeignKey(
        "klimop.Guardian",
        on_delete=models.CASCADE,
        related_name="consent_events",
        verbose_name=_("guardian"),
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    school_year = models.ForeignKey(
        "klimop.SchoolYear",
        on_delete=models.CASCADE,
        related_name="consent_events",
        verbose_name=_("school year"),
    )
    old_granted = models.BooleanField(_("before"), null=True, blank=True)
    new_granted = models.BooleanField(_("after"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    at = models.DateTimeField(_("changed at"), db_index=True)

    class Meta:
        verbose_name = _("consent change")
        verbose_name_plural = _("consent history")
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=ConsentPurpose.values),
                name="consent_event_known_purpose",
            ),
        ]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} {self.pupil} · {self.get_purpose_display()}"
