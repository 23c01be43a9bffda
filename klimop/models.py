"""The school directory: schools, school years, calendars, groups, pupils, guardians, staff.

Invariants live in database constraints first; ``clean()`` repeats them with a
translated message for forms; writes that matter go through ``services.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    """Users log in with their e-mail address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A login. Whether it belongs to a guardian, a staff member or both is in the directory."""

    class Language(models.TextChoices):
        DUTCH = "nl", "Nederlands"
        ENGLISH = "en", "English"

    # Django's documented way to drop AbstractUser's field; the stubs type it as a str.
    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.DUTCH)
    invited_at = models.DateTimeField(_("invited at"), null=True, blank=True)
    notify_by_email = models.BooleanField(
        _("also send notifications by e-mail"),
        default=True,
        help_text=_("Notifications always appear in Klimop; this also sends them by e-mail."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # The e-mail manager replaces AbstractUser's username one (Django's documented pattern);
    # the stubs pin the base's manager to django.contrib.auth's own UserManager class.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class Region(models.TextChoices):
    """The three school-holiday regions of the Netherlands."""

    NORTH = "noord", _("North")
    MIDDLE = "midden", _("Middle")
    SOUTH = "zuid", _("South")


class School(models.Model):
    """A school: its own details and calendar choices, and the agreements of its quality card.

    Those agreements are the ones several parts of the portal read (answer times, the
    sick-report cutoff, the post rhythm). What only one feature needs lives in that
    feature's settings model, one row per school (docs/architecture.md).
    """

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), unique=True)
    region = models.CharField(
        _("holiday region"), max_length=6, choices=Region.choices, default=Region.MIDDLE
    )
    phone = models.CharField(_("phone number for urgent matters"), max_length=30, blank=True)
    email = models.EmailField(_("office e-mail address"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)

    # Communication agreements (defaults from the design brief).
    sick_report_cutoff = models.TimeField(_("sick reports before"), default=dt.time(8, 20))
    remind_after_working_days = models.PositiveSmallIntegerField(
        _("remind staff after (working days)"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )
    escalate_after_working_days = models.PositiveSmallIntegerField(
        _("escalate to the director after (working days)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    atmosphere_posts_per_week = models.PositiveSmallIntegerField(
        _("atmosphere posts per group per week"),
        default=1,
        validators=[MaxValueValidator(14)],
    )
    # Two national days on which the school itself decides whether it is open
    # (klimop.national_calendar); a day inside a school holiday is closed anyway.
    closed_on_good_friday = models.BooleanField(
        _("closed on Good Friday every year"),
        default=True,
        help_text=_(
            "Good Friday is a national holiday, but schools decide themselves whether they are "
            "open. Default: closed, as at most schools. Applies to the school years entered from "
            "now on; for a year already entered, add or delete the day under Days without school."
        ),
    )
    closed_on_liberation_day = models.BooleanField(
        _("closed on Liberation Day (5 May) every year"),
        default=True,
        help_text=_(
            "Liberation Day is a national holiday, but schools decide themselves whether they are "
            "open, also in the years it is a day off for many employers (every fifth year). "
            "Default: closed. When it falls in the May holiday the school is closed anyway. "
            "Applies to the school years entered from now on; for a year already entered, add "
            "or delete the day under Days without school."
        ),
    )

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(escalate_after_working_days__gte=models.F("remind_after_working_days")),
                name="school_escalate_after_remind",
                violation_error_message=_("Escalation cannot come before the reminder."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OfficeHours(models.Model):
    """When a school's staff communicate, per weekday. A missing weekday is closed."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="office_hours", verbose_name=_("school")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"), default=dt.time(8, 0))
    closes = models.TimeField(_("closes"), default=dt.time(16, 30))

    class Meta:
        verbose_name = _("office hours")
        verbose_name_plural = _("office hours")
        ordering = ["school", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["school", "weekday"], name="office_hours_one_per_day"),
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")),
                name="office_hours_close_after_open",
                violation_error_message=_("Closing time must be after opening time."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class SchoolYear(models.Model):
    """A school year (e.g. 2026/2027), from the first to the last school day."""

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="school_years", verbose_name=_("school")
    )
    name = models.CharField(_("name"), max_length=20)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))

    class Meta:
        verbose_name = _("school year")
        verbose_name_plural = _("school years")
        ordering = ["school", "-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="school_year_unique_name"),
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")),
                name="school_year_ends_after_start",
                violation_error_message=_("The last day must be after the first day."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class NonSchoolDay(models.Model):
    """A day without school: holiday, public holiday, study day or other day off."""

    class Kind(models.TextChoices):
        SCHOOL_HOLIDAY = "holiday", _("School holiday")
        PUBLIC_HOLIDAY = "public", _("Public holiday")
        STUDY_DAY = "study", _("Study day")
        DAY_OFF = "day_off", _("Day off")

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="non_school_days", verbose_name=_("school")
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    from_calendar = models.BooleanField(
        _("filled in from the national calendar"), default=False, editable=False
    )

    class Meta:
        verbose_name = _("day without school")
        verbose_name_plural = _("days without school")
        ordering = ["school", "date"]
        constraints = [
            models.UniqueConstraint(fields=["school", "date"], name="non_school_day_once_per_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d-%m-%Y} {self.name}"


class Group(models.Model):
    """One class in one school year, e.g. "groep 5b"."""

    school_year = models.ForeignKey(
        SchoolYear, on_delete=models.CASCADE, related_name="groups", verbose_name=_("school year")
    )
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="groups", verbose_name=_("school")
    )
    external_id = models.CharField(_("external id"), max_length=64)
    year = models.PositiveSmallIntegerField(
        _("year group"), validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    name = models.CharField(_("name"), max_length=40)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["year", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school_year", "name"], name="group_unique_name_per_year"),
            models.UniqueConstraint(fields=["school", "external_id"], name="group_unique_external_id"),
            models.CheckConstraint(
                condition=Q(year__gte=1, year__lte=8),
                name="group_year_1_to_8",
                violation_error_message=_("The year group must be between 1 and 8."),
            ),
        ]

    def __str__(self) -> str:
        return str(_("group %(name)s") % {"name": self.name})


class Pupil(models.Model):
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="pupils", verbose_name=_("school")
    )
    external_id = models.CharField(_("external id"), max_length=64)
    first_name = models.CharField(_("first name"), max_length=60)
    last_name = models.CharField(_("last name"), max_length=80)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    group = models.ForeignKey(
        Group,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pupils",
        verbose_name=_("group"),
    )
    left_on = models.DateField(_("left school on"), null=True, blank=True)
    guardians: models.ManyToManyField[Guardian, GuardianRelation] = models.ManyToManyField(
        "Guardian", through="GuardianRelation", related_name="pupils", verbose_name=_("guardians")
    )

    class Meta:
        verbose_name = _("pupil")
        verbose_name_plural = _("pupils")
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "external_id"], name="pupil_unique_external_id"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Guardian(models.Model):
    """A school's record of a parent or carer, independent of a login account (invited later)."""

    #: A school's record of a person; one login may have a record at each school of a board.
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="guardian_records",
        related_query_name="guardian",
        verbose_name=_("login"),
    )
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    first_name = models.CharField(_("first name"), max_length=60)
    last_name = models.CharField(_("last name"), max_length=80)
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone number"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class GuardianRelation(models.Model):
    """How a guardian relates to one pupil, and what the school lets them see.

    Kind is the legal relation (BW: gezag); access is what the school has recorded:
    a parent without gezag has information right on request, a step-parent only
    with the custodial parents' consent, a court order bars contact entirely.
    """

    class Kind(models.TextChoices):
        PARENT_WITH_AUTHORITY = "parent", _("Parent with parental authority")
        PARENT_WITHOUT_AUTHORITY = "parent_no_authority", _("Parent without parental authority")
        STEP_PARENT = "step_parent", _("Step-parent")
        CARER = "carer", _("Other carer")

    class Access(models.TextChoices):
        FULL = "full", _("Full")
        ON_REQUEST = "on_request", _("Information on request")
        NONE = "none", _("None")
        BARRED = "barred", _("Barred by court order")

    pupil = models.ForeignKey(
        Pupil, on_delete=models.CASCADE, related_name="guardian_relations", verbose_name=_("pupil")
    )
    guardian = models.ForeignKey(
        Guardian, on_delete=models.CASCADE, related_name="relations", verbose_name=_("guardian")
    )
    kind = models.CharField(_("relation"), max_length=20, choices=Kind.choices)
    access = models.CharField(_("access"), max_length=12, choices=Access.choices)

    class Meta:
        verbose_name = _("guardian of a pupil")
        verbose_name_plural = _("guardians of pupils")
        constraints = [
            models.UniqueConstraint(fields=["pupil", "guardian"], name="guardian_relation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.guardian} → {self.pupil} ({self.get_kind_display()})"


class StaffMember(models.Model):
    class Role(models.TextChoices):
        TEACHER = "teacher", _("Teacher")
        CARE_COORDINATOR = "ib", _("Care coordinator (IB)")
        DIRECTOR = "director", _("Director")
        OFFICE = "office", _("Office")

    #: One login, one record per school: a teacher at two schools of a board keeps one login.
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="staff_members", verbose_name=_("login")
    )
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="staff", verbose_name=_("school")
    )
    external_id = models.CharField(_("external id"), max_length=64)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.TEACHER)
    groups = models.ManyToManyField(
        Group, blank=True, related_name="teachers", verbose_name=_("groups taught")
    )
    works_monday = models.BooleanField(_("works on Monday"), default=True)
    works_tuesday = models.BooleanField(_("works on Tuesday"), default=True)
    works_wednesday = models.BooleanField(_("works on Wednesday"), default=True)
    works_thursday = models.BooleanField(_("works on Thursday"), default=True)
    works_friday = models.BooleanField(_("works on Friday"), default=True)

    WEEKDAY_FIELDS = (
        "works_monday",
        "works_tuesday",
        "works_wednesday",
        "works_thursday",
        "works_friday",
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["school", "user__last_name", "user__first_name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "external_id"], name="staff_unique_external_id"),
            models.UniqueConstraint(fields=["user", "school"], name="staff_one_record_per_school"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    @property
    def working_weekdays(self) -> frozenset[int]:
        return frozenset(i for i, f in enumerate(self.WEEKDAY_FIELDS) if getattr(self, f))

    @property
    def sees_whole_school(self) -> bool:
        """Directors, the office and the care coordinator work across all groups."""
        return self.role in {self.Role.DIRECTOR, self.Role.OFFICE, self.Role.CARE_COORDINATOR}


class Heartbeat(models.Model):
    """When a periodic job last ran, kept in the database so the health checks can read it
    while Redis is down. One row per name; beat's ``klimop.tasks.heartbeat`` (every minute,
    run by a worker) writes "beat", so its age says that beat, the broker and a worker all
    work (klimop/health.py)."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} · {self.at:%Y-%m-%d %H:%M:%S}"
