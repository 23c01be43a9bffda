"""The conversation planner: rounds, teachers' availability, slots and bookings.

A *round* (e.g. report conversations in February) covers some groups of one school.
Teachers publish *availability* per day; the planner turns it into *slots* of the
group (duo-teachers share their group's slots). A guardian books one slot per child.

Invariants are database constraints first ("no slot is ever double booked, also under
concurrent clicks"):

* a slot has at most one booking (``booking_one_per_slot``);
* a pupil has at most one *joint* booking per round (``booking_one_joint_per_pupil``),
  shared by both custodial parents; only where the teacher allowed separate bookings
  does each guardian get their own (``booking_one_per_guardian``), never both kinds
  (the service decides the kind from ``SeparateBookings`` under a row lock);
* a slot ends after it starts; a teacher never has two slots starting at once.

Writes go through ``conversations.services``; reads through ``conversations.selectors``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from klimop.models import Group, Guardian, Pupil, School, StaffMember


def default_attending_years() -> list[int]:
    return [5, 6, 7, 8]


class PlannerSettings(models.Model):
    """A school's settings for the planner (one row per school; missing means the defaults).

    Read through ``services.planner_settings_for``, which returns an unsaved row with the
    defaults for a school that never saved them.
    """

    school = models.OneToOneField(
        School, on_delete=models.CASCADE, related_name="planner_settings", verbose_name=_("school")
    )
    planner_opens_days_before = models.PositiveSmallIntegerField(
        _("conversation planner opens (days before the round)"),
        default=14,
        validators=[MaxValueValidator(90)],
    )
    planner_siblings_head_start_days = models.PositiveSmallIntegerField(
        _("head start for families with several children (days)"),
        default=1,
        validators=[MaxValueValidator(14)],
    )
    child_attends_years = models.JSONField(
        _("year groups whose child attends conversations"),
        default=default_attending_years,
        blank=True,
    )
    conversations_end_by = models.TimeField(_("conversations end by"), default=dt.time(17, 0))

    class Meta:
        verbose_name = _("planner settings")
        verbose_name_plural = _("planner settings")

    def __str__(self) -> str:
        return str(self.school)  # the admin box reads "<settings>: <school>"


class Round(models.Model):
    """A conversation round of a school: which groups, which days, how slots are cut."""

    class Kind(models.TextChoices):
        START = "start", _("Start / expectations conversation")
        PROGRESS = "progress", _("Progress conversation")
        REPORT = "report", _("Report conversation")
        SECONDARY_ADVICE = "vo_advice", _("Secondary-school advice conversation")

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="conversation_rounds", verbose_name=_("school")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.REPORT)
    title = models.CharField(
        _("title"),
        max_length=120,
        blank=True,
        help_text=_("Leave empty to use the kind, e.g. “Report conversation”."),
    )
    groups = models.ManyToManyField(Group, related_name="conversation_rounds", verbose_name=_("groups"))
    first_date = models.DateField(_("first conversation day"))
    last_date = models.DateField(_("last conversation day"))
    slot_minutes = models.PositiveSmallIntegerField(
        _("conversation length (minutes)"),
        default=10,
        validators=[MinValueValidator(5), MaxValueValidator(120)],
    )
    gap_minutes = models.PositiveSmallIntegerField(
        _("time between conversations (minutes)"),
        default=5,
        validators=[MaxValueValidator(60)],
    )
    child_attends_years = models.JSONField(
        _("year groups whose child attends"),
        default=list,
        blank=True,
        help_text=_("Filled in from the school's setting when left empty."),
    )
    obligatory = models.BooleanField(_("obligatory"), default=False)
    opens_at = models.DateTimeField(
        _("booking opens"),
        blank=True,
        help_text=_(
            "Leave empty for the school's default (days before the first conversation day). "
            "Families with more than one child in this round may book earlier."
        ),
    )
    closes_at = models.DateTimeField(
        _("booking closes"),
        blank=True,
        help_text=_("Leave empty for noon on the day before the first conversation day."),
    )
    cancel_cutoff_hours = models.PositiveSmallIntegerField(
        _("parents may rebook or cancel until (hours before)"),
        default=24,
        validators=[MaxValueValidator(14 * 24)],
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("conversation round")
        verbose_name_plural = _("conversation rounds")
        ordering = ["-first_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_date__gte=models.F("first_date")),
                name="round_last_after_first",
                violation_error_message=_("The last day cannot be before the first day."),
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="round_closes_after_opening",
                violation_error_message=_("Booking must close after it opens."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.name)

    @property
    def name(self):
        """The title, or the kind's label (lazy: rendered in each reader's language)."""
        return self.title or self.Kind(self.kind).label

    def child_attends(self, pupil: Pupil) -> bool:
        group = pupil.group
        return bool(group and group.year in (self.child_attends_years or []))

    @property
    def step(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.slot_minutes + self.gap_minutes)


class Availability(models.Model):
    """A teacher's time on one day of a round, with breaks; its slots are generated from it."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="availabilities")
    staff = models.ForeignKey(
        StaffMember,
        on_delete=models.CASCADE,
        related_name="conversation_availabilities",
        verbose_name=_("teacher"),
    )
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+", verbose_name=_("group"))
    date = models.DateField(_("date"))
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))
    #: ``[["12:00", "12:30"], …]`` local wall-clock times; validated by the service.
    breaks = models.JSONField(_("breaks"), default=list, blank=True)
    location = models.CharField(_("room"), max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("availability")
        verbose_name_plural = _("availability")
        ordering = ["date", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__gt=models.F("starts")),
                name="availability_ends_after_start",
                violation_error_message=_("“Until” must be after “from”."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d-%m-%Y} {self.starts:%H:%M}–{self.ends:%H:%M}"


class Slot(models.Model):
    """One conversation time of a group, held by one teacher."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="slots")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="conversation_slots")
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="conversation_slots")
    availability = models.ForeignKey(Availability, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))

    # Not stored: set on the instances the planner's pages read (conversations.selectors).
    booking: Booking | None
    parents: list[Guardian]
    attends: bool

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"
            ),
            models.UniqueConstraint(fields=["staff", "starts_at"], name="slot_one_per_teacher_time"),
        ]
        indexes = [models.Index(fields=["round", "group", "starts_at"])]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.starts_at):%d-%m-%Y %H:%M}"


class SeparateBookings(models.Model):
    """The teacher allowed the parents of this pupil to book apart (by exception)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="separate_bookings")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="+")
    allowed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    allowed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("separate bookings")
        verbose_name_plural = _("separate bookings")
        constraints = [
            models.UniqueConstraint(fields=["round", "pupil"], name="separate_bookings_once"),
        ]

    def __str__(self) -> str:
        return f"{self.pupil_id} @ {self.round_id}"


class Booking(models.Model):
    """A booked conversation for one pupil.

    ``guardian`` is empty for the usual joint booking (both custodial parents see and
    change it) and set when the teacher allowed separate bookings.
    """

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="bookings")
    # RESTRICT, not PROTECT: a slot with a booking cannot be deleted on its own, but deleting
    # the school, round or pupil takes the booking with it.
    slot = models.ForeignKey(Slot, on_delete=models.RESTRICT, related_name="bookings")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="conversation_bookings")
    guardian = models.ForeignKey(
        Guardian, on_delete=models.CASCADE, null=True, blank=True, related_name="conversation_bookings"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            models.UniqueConstraint(
                fields=["slot"],
                name="booking_one_per_slot",
                violation_error_message=_("This time has just been taken."),
            ),
            models.UniqueConstraint(
                fields=["round", "pupil"],
                condition=Q(guardian__isnull=True),
                name="booking_one_joint_per_pupil",
            ),
            models.UniqueConstraint(
                fields=["round", "pupil", "guardian"],
                condition=Q(guardian__isnull=False),
                name="booking_one_per_guardian",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pupil} · {self.slot}"


class BookingEvent(models.Model):
    """The timeline of a pupil's bookings in a round: who booked, moved or cancelled, when.

    Kept when a booking is cancelled (no foreign key to it), for disputes
    ("I did book!") and a parent's data request.
    """

    class Action(models.TextChoices):
        BOOKED = "booked", _("booked")
        MOVED = "moved", _("moved")
        CANCELLED = "cancelled", _("cancelled")

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="events")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="+")
    guardian = models.ForeignKey(Guardian, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    booking_id_at_time = models.PositiveIntegerField(null=True)
    old_starts_at = models.DateTimeField(null=True, blank=True)
    new_starts_at = models.DateTimeField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at"]
        verbose_name = _("change to a booking")
        verbose_name_plural = _("changes to bookings")

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.pupil_id} {timezone.localtime(self.at):%Y-%m-%d %H:%M}"
