"""The agenda: school and group events, and the private iCalendar feed tokens.

Holidays and study days are *not* copied in here: they live in the directory
(``klimop.NonSchoolDay``) and the agenda selector merges them in, so a change
there shows up in the agenda and every feed at once.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from klimop.models import Group, School, StaffMember

#: Important events remind parents this many days before, unless the author chose otherwise.
DEFAULT_REMIND_DAYS_BEFORE = 14


class Event(models.Model):
    """Something on the calendar of one group, or of the whole school (``group`` empty).

    Every event has local dates (``starts_on``/``ends_on``) so month and week views
    filter on indexed dates; a timed event also has aware ``starts_at``/``ends_at``
    whose local dates the service copies into the date fields.
    """

    class Kind(models.TextChoices):
        ACTIVITY = "activity", _("Activity")
        TEST = "test", _("Test")
        COFFEE_HOUR = "coffee_hour", _("Coffee hour")
        MR_MEETING = "mr_meeting", _("Participation council (MR) meeting")
        TRIP = "trip", _("Trip")
        PARENT_EVENING = "parent_evening", _("Parents' evening")
        OTHER = "other", _("Other")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="events")
    group = models.ForeignKey(
        Group,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("group"),
        help_text=_("Leave empty for the whole school."),
    )
    title = models.CharField(_("title"), max_length=140)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ACTIVITY)
    all_day = models.BooleanField(_("all day"), default=False)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=140, blank=True)
    bring = models.CharField(
        _("please bring"),
        max_length=300,
        blank=True,
        help_text=_("Something the children should bring, e.g. gym clothes or a packed lunch."),
    )
    important = models.BooleanField(
        _("important"),
        default=False,
        help_text=_("Parents get a reminder some days before."),
    )
    remind_days_before = models.PositiveSmallIntegerField(
        _("remind parents (days before)"),
        default=DEFAULT_REMIND_DAYS_BEFORE,
    )
    created_by = models.ForeignKey(
        StaffMember,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events_created",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed at"), auto_now=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["starts_on", "starts_at", "pk"]
        indexes = [
            models.Index(fields=["school", "starts_on"], name="event_school_start"),
            models.Index(fields=["important", "starts_on"], name="event_important_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="event_ends_on_after_start",
                violation_error_message=_("The event cannot end before it starts."),
            ),
            models.CheckConstraint(
                # All-day events have dates only; timed events have both moments, in order.
                condition=(
                    Q(all_day=True, starts_at__isnull=True, ends_at__isnull=True)
                    | Q(
                        all_day=False,
                        starts_at__isnull=False,
                        ends_at__isnull=False,
                        ends_at__gte=F("starts_at"),
                    )
                ),
                name="event_times_consistent",
                violation_error_message=_("The event cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(remind_days_before__lte=90),
                name="event_remind_within_90_days",
                violation_error_message=_("Reminders can be sent at most 90 days before."),
            ),
        ]

    def __str__(self) -> str:
        return self.title


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class FeedToken(models.Model):
    """The secret in a user's private agenda feed URL. Whoever has it sees that user's agenda.

    A revoked token stays (revoked_at set) so the history is kept; a user has at most
    one active token, enforced by the database.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_tokens")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("agenda feed link")
        verbose_name_plural = _("agenda feed links")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True),
                name="feed_token_one_active_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({'revoked' if self.revoked_at else 'active'})"
