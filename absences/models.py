"""Absences: sick reports, appointments, late arrivals, unexplained absence, follow-ups, leave.

Invariants live in database constraints first (end after start, one open sickness per
pupil, one report per form submission, one follow-up per sickness spell, a decided
leave request states its reasons); ``services.py`` repeats them with a translated
message and is the only writer. Every state change that may matter in a dispute gets
a small event row (who, what, when).

Leerplichtwet 1969 references are in ``absences/statutory.py``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AbsenceSettings(models.Model):
    """A school's settings for absences (one row per school; missing means the defaults).

    What only this capability needs lives here: whether reports and leave requests come
    in through the portal, the follow-up after N school days, lesson times, the
    attendance officer and the leave guidance. The sick-report cutoff is the quality
    card's and stays on ``School``. Read through ``selectors.absence_settings_for``.
    """

    school = models.OneToOneField(
        "klimop.School",
        on_delete=models.CASCADE,
        related_name="absence_settings",
        verbose_name=_("school"),
    )
    sick_reports_via_portal = models.BooleanField(_("sick reports via the portal"), default=True)
    sickness_follow_up_school_days = models.PositiveSmallIntegerField(
        _("follow up sickness after (school days)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    leave_requests_via_portal = models.BooleanField(_("leave requests via the portal"), default=True)
    lessons_start = models.TimeField(
        _("lessons start"),
        default=dt.time(8, 30),
        help_text=_("A report made after this time (or after the cutoff) is marked late."),
    )
    lessons_end = models.TimeField(
        _("lessons end"),
        default=dt.time(14, 30),
        help_text=_("A whole day of unexplained absence counts as the hours from start to end."),
    )
    attendance_officer = models.CharField(
        _("attendance officer"),
        max_length=300,
        blank=True,
        help_text=_(
            "Name and address of the municipality's attendance officer "
            "(leerplichtambtenaar), named in leave decisions over 10 school days."
        ),
    )
    leave_guidance = models.TextField(
        _("guidance for leave for important circumstances"),
        blank=True,
        help_text=_(
            "The municipality's typical day counts (a wedding, a funeral, a move), "
            "shown to parents on the leave form and to the director."
        ),
    )

    class Meta:
        verbose_name = _("absence settings")
        verbose_name_plural = _("absence settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(lessons_end__gt=F("lessons_start")),
                name="absence_settings_lessons_order",
                violation_error_message=_("Lessons must end after they start."),
            ),
        ]

    def __str__(self) -> str:
        return str(_("Absence settings of %(school)s") % {"school": self.school})

    @property
    def lesson_hours(self) -> float:
        start = dt.datetime.combine(dt.date(2000, 1, 3), self.lessons_start)
        end = dt.datetime.combine(dt.date(2000, 1, 3), self.lessons_end)
        return (end - start).total_seconds() / 3600


class AbsenceReport(models.Model):
    """One pupil absent (or arriving late) on one day or from one day on.

    A sick report may stay open (``ends_on`` empty) until recovery is reported; the
    other kinds are single days. ``submission`` is the form's idempotency key: a
    double submit finds the rows of the first one (unique per pupil).
    """

    class Kind(models.TextChoices):
        SICK = "sick", _("Sick")
        APPOINTMENT = "appointment", _("Doctor, dentist or hospital")
        LATE = "late", _("Arrives later")
        UNEXPLAINED = "unexplained", _("Absent without a report")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Reported in Klimop")
        PHONE = "phone", _("Reported by phone")
        SCHOOL = "school", _("Noticed at school")

    school = models.ForeignKey(
        "klimop.School",
        on_delete=models.CASCADE,
        related_name="absence_reports",
        verbose_name=_("school"),
    )
    pupil = models.ForeignKey(
        "klimop.Pupil",
        on_delete=models.CASCADE,
        related_name="absence_reports",
        verbose_name=_("pupil"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"), null=True, blank=True)
    from_time = models.TimeField(_("from"), null=True, blank=True)
    until_time = models.TimeField(_("until"), null=True, blank=True)
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Hours missed on a single day (appointments, late arrival, unexplained)."),
    )
    note = models.TextField(_("note"), blank=True, max_length=500)
    caller = models.CharField(_("reported by (phone)"), max_length=120, blank=True)
    channel = models.CharField(_("reported"), max_length=8, choices=Channel.choices)
    reported_at = models.DateTimeField(_("reported at"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by"),
    )
    reported_late = models.BooleanField(_("reported late"), default=False)
    submission = models.UUIDField(_("form submission"), default=uuid.uuid4, editable=False)
    recovered_at = models.DateTimeField(_("recovery reported at"), null=True, blank=True)
    recovered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recovery reported by"),
    )
    cancelled_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )
    explained_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="explains",
        verbose_name=_("explained by"),
        help_text=_("An unexplained absence that a later report explained no longer counts."),
    )

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["-starts_on", "-reported_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="absence_report_ends_after_start",
                violation_error_message=_("The last day cannot be before the first day."),
            ),
            models.CheckConstraint(
                condition=Q(kind="sick") | Q(ends_on=F("starts_on")),
                name="absence_report_single_day_unless_sick",
            ),
            models.CheckConstraint(
                condition=~Q(kind="appointment") | Q(from_time__isnull=False, until_time__isnull=False),
                name="absence_report_appointment_has_times",
            ),
            models.CheckConstraint(
                condition=~Q(kind="late") | Q(until_time__isnull=False),
                name="absence_report_late_has_arrival",
            ),
            models.CheckConstraint(
                condition=Q(from_time__isnull=True)
                | Q(until_time__isnull=True)
                | Q(until_time__gt=F("from_time")),
                name="absence_report_until_after_from",
                violation_error_message=_("The end time must be after the start time."),
            ),
            # A double submit, or two parents reporting at once, never makes two open spells.
            models.UniqueConstraint(
                fields=["pupil"],
                condition=Q(kind="sick", ends_on__isnull=True, cancelled_at__isnull=True),
                name="absence_report_one_open_sickness",
                violation_error_message=_("This child is already reported sick."),
            ),
            models.UniqueConstraint(
                fields=["pupil", "submission"],
                name="absence_report_once_per_submission",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "starts_on"], name="absence_report_school_day"),
            models.Index(fields=["pupil", "starts_on"], name="absence_report_pupil_day"),
        ]

    def __str__(self) -> str:
        return f"{self.pupil} · {self.get_kind_display()} · {self.starts_on:%d-%m-%Y}"

    @property
    def is_open(self) -> bool:
        return self.kind == self.Kind.SICK and self.ends_on is None and self.cancelled_at is None

    @property
    def counts(self) -> bool:
        """Withdrawn reports and explained unexplained absences no longer count."""
        return self.cancelled_at is None and self.explained_by_id is None

    def covers(self, day: dt.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class ReportEvent(models.Model):
    """Append-only history of a report: made, recovered, withdrawn, explained."""

    class Action(models.TextChoices):
        CREATED = "created", _("Reported")
        RECOVERED = "recovered", _("Recovery reported")
        CANCELLED = "cancelled", _("Withdrawn")
        EXPLAINED = "explained", _("Explained by a report")

    report = models.ForeignKey(AbsenceReport, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"))
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("absence history")
        verbose_name_plural = _("absence history")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} {self.get_action_display()}"


class FollowUp(models.Model):
    """The teacher's task to contact the parents after N school days of sickness.

    One per sickness spell, however many reports make the spell (``statutory.sickness_spells``):
    it is made for the spell's first report (unique ``report``), and a spell with a task due
    on one of its days gets no second one, so the sweep may run as often as it likes and
    after a crash, and a report that extends the spell adds no task.
    """

    report = models.OneToOneField(
        AbsenceReport,
        on_delete=models.CASCADE,
        related_name="follow_up",
        verbose_name=_("sick report"),
    )
    school = models.ForeignKey(
        "klimop.School",
        on_delete=models.CASCADE,
        related_name="absence_follow_ups",
        verbose_name=_("school"),
    )
    pupil = models.ForeignKey(
        "klimop.Pupil",
        on_delete=models.CASCADE,
        related_name="absence_follow_ups",
        verbose_name=_("pupil"),
    )
    due_on = models.DateField(_("school day reached"))
    created_at = models.DateTimeField(_("created at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    note = models.TextField(_("note"), blank=True, max_length=1000)

    class Meta:
        verbose_name = _("sickness follow-up")
        verbose_name_plural = _("sickness follow-ups")
        ordering = ["done_at", "due_on"]

    def __str__(self) -> str:
        return f"{self.pupil} · {self.due_on:%d-%m-%Y}"


def leave_statement_path(instance: LeaveRequest, filename: str) -> str:
    # Never the parent's file name in the path: it may hold a name or an employer.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"private/leave/{uuid.uuid4().hex}.{ext}"


class LeaveRequest(models.Model):
    """A guardian's request for leave of absence for one or more of their children.

    The statutory checks (``statutory.check_leave``) run when it is made; hard rules
    refuse it, guidance is stored as ``warnings`` beside the parent's explanation.
    """

    class Kind(models.TextChoices):
        EXTRA_VACATION = "vacation", _("Extra vacation because of a parent's work (art. 13a)")
        IMPORTANT = "important", _("Important circumstances (art. 11 and 14)")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting the director's decision")
        GRANTED = "granted", _("Granted")
        REFUSED = "refused", _("Refused")
        FORWARDED = "forwarded", _("Forwarded to the attendance officer")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Warning(models.TextChoices):
        LATE = "late", _("Requested less than 8 weeks ahead")
        NO_STATEMENT = "no_statement", _("No employer's statement attached")

    DECIDED = (Status.GRANTED, Status.REFUSED, Status.FORWARDED)
    ACTIVE = (Status.SUBMITTED, Status.GRANTED, Status.FORWARDED)

    school = models.ForeignKey(
        "klimop.School",
        on_delete=models.CASCADE,
        related_name="leave_requests",
        verbose_name=_("school"),
    )
    school_year = models.ForeignKey(
        "klimop.SchoolYear",
        on_delete=models.CASCADE,
        related_name="leave_requests",
        verbose_name=_("school year"),
    )
    pupils = models.ManyToManyField(
        "klimop.Pupil",
        related_name="leave_requests",
        verbose_name=_("children"),
    )
    guardian = models.ForeignKey(
        "klimop.Guardian",
        on_delete=models.SET_NULL,
        null=True,
        related_name="leave_requests",
        verbose_name=_("guardian"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    kind = models.CharField(_("kind of leave"), max_length=10, choices=Kind.choices)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    school_days = models.PositiveSmallIntegerField(_("school days"))
    reason = models.TextField(_("reason"), max_length=2000)
    explanation = models.TextField(_("explanation"), blank=True, max_length=2000)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    for_attendance_officer = models.BooleanField(
        _("for the attendance officer"),
        default=False,
        help_text=_("Leave over 10 school days (not art. 13a): the attendance officer decides."),
    )
    statement = models.FileField(_("employer's statement"), upload_to=leave_statement_path, blank=True)
    statement_name = models.CharField(_("file name"), max_length=120, blank=True)
    statement_content_type = models.CharField(max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    submitted_at = models.DateTimeField(_("submitted at"))
    submission = models.UUIDField(_("form submission"), default=uuid.uuid4, editable=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_reasons = models.TextField(_("reasons for the decision"), blank=True, max_length=4000)
    announced_at = models.DateTimeField(
        _("decision sent to the family at"),
        null=True,
        blank=True,
        help_text=_(
            "A decision made outside the director's working time reaches the family at "
            "their next working moment, as posts and chat messages do."
        ),
    )

    class Meta:
        verbose_name = _("leave request")
        verbose_name_plural = _("leave requests")
        ordering = ["submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="leave_request_ends_after_start",
                violation_error_message=_("The last day cannot be before the first day."),
            ),
            # A decision is a formal decision (Awb art. 3:46): it states its reasons.
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "withdrawn"])
                | (Q(decided_at__isnull=False) & ~Q(decision_reasons="")),
                name="leave_request_decision_has_reasons",
            ),
            models.UniqueConstraint(
                fields=["requested_by", "submission"],
                name="leave_request_once_per_submission",
            ),
        ]
        indexes = [models.Index(fields=["school", "status", "submitted_at"], name="leave_request_open")]

    def __str__(self) -> str:
        return str(
            _("Leave %(first)s – %(last)s")
            % {
                "first": f"{self.starts_on:%d-%m-%Y}",
                "last": f"{self.ends_on:%d-%m-%Y}",
            }
        )

    #: Set by ``selectors.as_the_family_sees_it``: when a decision held from the family shows.
    decision_shown_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.SUBMITTED

    @property
    def is_decided(self) -> bool:
        return self.status in self.DECIDED

    def held_from_family(self, now: dt.datetime) -> bool:
        """Whether the decision has not reached the family yet (``announced_at`` after ``now``).

        Empty ``announced_at`` (decisions from before it was kept): sent when decided."""
        return self.is_decided and self.announced_at is not None and self.announced_at > now

    @property
    def warning_labels(self) -> list[str]:
        labels = dict(self.Warning.choices)
        return [str(labels.get(code, code)) for code in self.warnings]


class LeaveEvent(models.Model):
    """Append-only status history of a leave request (old → new, who, when, why)."""

    leave_request = models.ForeignKey(LeaveRequest, on_delete=models.CASCADE, related_name="events")
    old_status = models.CharField(_("before"), max_length=10, blank=True, choices=LeaveRequest.Status.choices)
    new_status = models.CharField(_("after"), max_length=10, choices=LeaveRequest.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("leave request history")
        verbose_name_plural = _("leave request history")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} {self.old_status} → {self.new_status}"
