"""The quality card: the school's targets and the parent satisfaction survey.

The survey is anonymous by construction, not by a promise of the page: *that* a parent
answered (``SurveyParticipation``, one per user and survey — the database refuses a second)
and *what* was answered (``SurveyResponse``: a score and a comment, no user, a random
primary key and no timestamp) are stored apart, in the same transaction
(``services.survey_respond``). Nothing links a response back to its participation,
so no page, export or admin screen can show who answered what.

Imported at the bottom of ``klimop/models.py`` so Django finds the models in the app.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

__all__ = ["QualityTargets", "Survey", "SurveyParticipation", "SurveyResponse"]

SCORE_MIN, SCORE_MAX = 1, 5


def _percent(verbose_name, default: int, help_text=""):
    return models.PositiveSmallIntegerField(
        verbose_name,
        default=default,
        help_text=help_text,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )


class QualityTargets(models.Model):
    """A school's targets for the quality-card figures (created on demand with the defaults).

    The agreements themselves (answer times, cutoff, post quota) are ``School`` settings;
    these are the evaluation points: how often the school wants to keep them.
    """

    school = models.OneToOneField(
        "klimop.School",
        on_delete=models.CASCADE,
        related_name="quality_targets",
        verbose_name=_("school"),
    )
    satisfied_percent = _percent(
        _("parents satisfied (%)"),
        90,
        _("Share of survey answers 4 or 5 on a scale of 1 to 5."),
    )
    active_parents_percent = _percent(
        _("parents active (%)"),
        90,
        _("Share of parents with access who logged in during the period."),
    )
    post_weeks_percent = _percent(
        _("group weeks with enough atmosphere posts (%)"),
        90,
    )
    answered_in_time_percent = _percent(
        _("parent messages answered in time (%)"),
        90,
    )
    sick_reports_on_time_percent = _percent(
        _("sick reports before the cutoff (%)"),
        90,
    )

    class Meta:
        verbose_name = _("quality-card targets")
        verbose_name_plural = _("quality-card targets")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    satisfied_percent__lte=100,
                    active_parents_percent__lte=100,
                    post_weeks_percent__lte=100,
                    answered_in_time_percent__lte=100,
                    sick_reports_on_time_percent__lte=100,
                ),
                name="quality_targets_are_percentages",
                violation_error_message=_("A target is a percentage: at most 100."),
            ),
        ]

    def __str__(self) -> str:
        return str(_("Quality-card targets of %(school)s") % {"school": self.school})


class Survey(models.Model):
    """A parent satisfaction survey, open from ``opens_at`` until ``closes_at``."""

    school = models.ForeignKey(
        "klimop.School",
        on_delete=models.CASCADE,
        related_name="surveys",
        verbose_name=_("school"),
    )
    title = models.CharField(_("title"), max_length=140)
    question = models.CharField(
        _("question"),
        max_length=300,
        default=_("How satisfied are you with the communication between school and parents?"),
        help_text=_("Parents answer on a scale of 1 (very dissatisfied) to 5 (very satisfied)."),
    )
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["school", "-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")),
                name="survey_closes_after_opening",
                violation_error_message=_("A survey must close after it opens."),
            ),
        ]
        indexes = [models.Index(fields=["school", "opens_at", "closes_at"], name="survey_open")]

    def __str__(self) -> str:
        return self.title

    def is_open_at(self, moment) -> bool:
        return self.opens_at <= moment < self.closes_at


class SurveyParticipation(models.Model):
    """That one user answered one survey — and nothing about what they answered."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="survey_participations",
    )

    class Meta:
        verbose_name = _("survey participation")
        verbose_name_plural = _("survey participations")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "user"],
                name="survey_one_response_per_user",
                violation_error_message=_("You have already answered this survey."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} · {self.user_id}"


class SurveyResponse(models.Model):
    """One anonymous answer: a random key, no user and no time, so it cannot be traced back."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    score = models.PositiveSmallIntegerField(
        _("satisfaction"),
        validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)],
    )
    comment = models.TextField(_("comment"), blank=True, max_length=1000)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["survey", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=SCORE_MIN, score__lte=SCORE_MAX),
                name="survey_score_1_to_5",
                violation_error_message=_("Please choose a score from 1 to 5."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} · {self.score}"
