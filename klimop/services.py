"""Writes to the school directory and accounts. Acting user first, validated, atomic."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import holidays
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import access
from .models import Guardian, NonSchoolDay, OfficeHours, School, SchoolYear, StaffMember, User

DEFAULT_OPENS = dt.time(8, 0)
DEFAULT_CLOSES = dt.time(16, 30)


def _require_manager(actor: User | None, school: School) -> None:
    """``actor=None`` is the system (a management command or task), said explicitly."""
    if actor is not None and not access.schools_managed_by(actor).filter(pk=school.pk).exists():
        raise PermissionDenied(_("You cannot manage this school."))


# --- schools and calendars -------------------------------------------------------------

def school_create(*, actor: User | None, name: str, slug: str, **settings_: object) -> School:
    """Create a school with the default office hours (Mon–Fri 08:00–16:30)."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only an administrator can add a school."))
    school = School(name=name, slug=slug, **settings_)
    school.full_clean()
    with transaction.atomic():
        school.save()
        office_hours_ensure_defaults(school=school)
    return school


def office_hours_ensure_defaults(*, school: School) -> None:
    """Give a school without office hours the default week. Trusts its caller."""
    if not school.office_hours.exists():
        OfficeHours.objects.bulk_create(
            OfficeHours(school=school, weekday=day, opens=DEFAULT_OPENS, closes=DEFAULT_CLOSES)
            for day in range(5)
        )


def school_year_bounds(*, region: str, start_year: int) -> tuple[dt.date, dt.date]:
    """First and last school day of the school year starting in ``start_year``.

    The year starts on the first Monday after the region's summer holiday and ends
    on the Friday before the next one, from the national school-holiday calendar.
    """
    summer = "Zomervakantie"
    cal = holidays.NL(
        subdiv=region.capitalize(), categories=("school",), language="nl",
        years=[start_year, start_year + 1],
    )
    this_summer = sorted(d for d, n in cal.items() if summer in n and d.year == start_year)
    next_summer = sorted(d for d, n in cal.items() if summer in n and d.year == start_year + 1)
    if not this_summer or not next_summer:
        raise ValidationError(_("No holiday calendar is known for that school year."))
    first = this_summer[-1] + dt.timedelta(days=1)
    while first.weekday() != 0:
        first += dt.timedelta(days=1)
    last = next_summer[0] - dt.timedelta(days=1)
    while last.weekday() != 4:
        last -= dt.timedelta(days=1)
    return first, last


def school_year_create(
    *, actor: User | None, school: School, start_year: int,
    starts_on: dt.date | None = None, ends_on: dt.date | None = None,
) -> SchoolYear:
    """Create a school year and fill in its holidays and public holidays.

    Dates default to the region's calendar; study days are added by the school.
    Idempotent: an existing year with the same name is returned unchanged.
    """
    _require_manager(actor, school)
    if starts_on is None or ends_on is None:
        starts_on, ends_on = school_year_bounds(region=school.region, start_year=start_year)
    name = f"{start_year}/{start_year + 1}"
    with transaction.atomic():
        year, created = SchoolYear.objects.get_or_create(
            school=school, name=name, defaults={"starts_on": starts_on, "ends_on": ends_on}
        )
        if created:
            year.full_clean()
            non_school_days_fill(school=school, start=starts_on, end=ends_on)
    return year


def non_school_days_fill(*, school: School, start: dt.date, end: dt.date) -> int:
    """Add the region's school holidays and the public holidays between two dates.

    Only weekdays are stored (weekends are never school days). Days the school
    already entered itself (e.g. a study day) are kept. Returns the number added.
    Trusts its caller for access.
    """
    years = list(range(start.year, end.year + 1))
    school_cal = holidays.NL(
        subdiv=school.region.capitalize(), categories=("school",), language="nl", years=years
    )
    public_cal = holidays.NL(language="nl", years=years)
    days: dict[dt.date, tuple[str, str]] = {}
    for day, name in school_cal.items():
        days[day] = (NonSchoolDay.Kind.SCHOOL_HOLIDAY, name)
    for day, name in public_cal.items():
        days[day] = (NonSchoolDay.Kind.PUBLIC_HOLIDAY, name)
    if school.closed_on_liberation_day:
        for year in years:
            days.setdefault(dt.date(year, 5, 5), (NonSchoolDay.Kind.PUBLIC_HOLIDAY, "Bevrijdingsdag"))
    existing = set(
        NonSchoolDay.objects.filter(school=school, date__range=(start, end)).values_list(
            "date", flat=True
        )
    )
    rows = [
        NonSchoolDay(school=school, date=day, kind=kind, name=name, from_calendar=True)
        for day, (kind, name) in sorted(days.items())
        if start <= day <= end and day.weekday() < 5 and day not in existing
    ]
    NonSchoolDay.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- accounts and invitations ------------------------------------------------------------

def _invitation_url(user: User) -> str:
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    return f"{settings.SITE_URL}{path}"


def _user_for(*, email: str, first_name: str, last_name: str) -> User:
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, first_name=first_name, last_name=last_name)
    # The invitation goes to this address, so following its link verifies it.
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"primary": True, "verified": True}
    )
    return user


def guardian_invite(*, actor: User | None, guardian: Guardian) -> User:
    """Give a guardian a login and e-mail them a link to set their password.

    Sending again is allowed (a lost e-mail); the link stays valid until used.
    """
    pupils = guardian.pupils.select_related("school")
    schools = {p.school for p in pupils}
    if actor is not None and not any(access.is_school_manager(actor, s) for s in schools):
        raise PermissionDenied(_("You cannot invite this guardian."))
    if not guardian.email:
        raise ValidationError(_("This guardian has no e-mail address."))
    with transaction.atomic():
        user = guardian.user or _user_for(
            email=guardian.email, first_name=guardian.first_name, last_name=guardian.last_name
        )
        if guardian.user_id is None:
            guardian.user = user
            guardian.save(update_fields=["user"])
        user.invited_at = timezone.now()
        user.save(update_fields=["invited_at"])
        school_name = ", ".join(sorted(s.name for s in schools))
        transaction.on_commit(lambda: _send_invitation(user.pk, school_name))
    return user


def staff_invite(*, actor: User | None, staff: StaffMember) -> User:
    _require_manager(actor, staff.school)
    with transaction.atomic():
        user = staff.user
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"primary": True, "verified": True}
        )
        user.invited_at = timezone.now()
        user.save(update_fields=["invited_at"])
        school_name = staff.school.name
        transaction.on_commit(lambda: _send_invitation(user.pk, school_name))
    return user


def _send_invitation(user_id: int, school_name: str) -> None:
    """Send the invitation e-mail in the invitee's language. Runs after commit."""
    user = User.objects.get(pk=user_id)
    with translation.override(user.language):
        context = {"user": user, "url": _invitation_url(user), "school_name": school_name}
        subject = _("Your invitation to Klimop")
        body = render_to_string("account/email/invitation.txt", context)
    send_mail(f"[Klimop] {subject}", body, None, [user.email])


def guardians_invite_bulk(*, actor: User | None, guardians: Iterable[Guardian]) -> int:
    count = 0
    for guardian in guardians:
        if guardian.email and guardian.user_id is None:
            guardian_invite(actor=actor, guardian=guardian)
            count += 1
    return count


def user_set_language(*, actor: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Unknown language."))
    actor.language = language
    actor.save(update_fields=["language"])


def guardian_update_contact(
    *, actor: User, guardian: Guardian, email: str, phone: str, notify_by_email: bool | None = None
) -> Guardian:
    """A guardian keeps their own contact details and e-mail preference current."""
    if guardian.user_id != actor.pk:
        raise PermissionDenied(_("You can only change your own details."))
    guardian.email = email.strip().lower()
    guardian.phone = phone.strip()
    guardian.full_clean()
    with transaction.atomic():
        guardian.save(update_fields=["email", "phone"])
        if notify_by_email is not None and actor.notify_by_email != notify_by_email:
            actor.notify_by_email = notify_by_email
            actor.save(update_fields=["notify_by_email"])
    return guardian
