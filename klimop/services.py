"""Writes to the school directory and accounts. Acting user first, validated, atomic."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import access, national_calendar, worktime
from . import selectors as directory
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
    on the Friday before the next one, from the national school-holiday calendar
    (``national_calendar.school_year_bounds``). ``ValidationError`` when that calendar
    does not know both summer holidays yet.
    """
    bounds = national_calendar.school_year_bounds(region, start_year)
    if bounds is None:
        raise ValidationError(_("No holiday calendar is known for that school year."))
    return bounds


def school_year_create(
    *,
    actor: User | None,
    school: School,
    start_year: int,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
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

    Good Friday and Liberation Day follow the school's choice (``closed_on_good_friday``,
    ``closed_on_liberation_day``), see ``national_calendar.days_without_school``.
    Only weekdays are stored (weekends are never school days). Days the school
    already entered itself (e.g. a study day) are kept. Returns the number added.
    Trusts its caller for access.
    """
    days = national_calendar.days_without_school(
        school.region,
        start,
        end,
        closed_on_good_friday=school.closed_on_good_friday,
        closed_on_liberation_day=school.closed_on_liberation_day,
    )
    existing = set(
        NonSchoolDay.objects.filter(school=school, date__range=(start, end)).values_list("date", flat=True)
    )
    rows = [
        NonSchoolDay(school=school, date=day, kind=kind, name=name, from_calendar=True)
        for day, (kind, name) in sorted(days.items())
        if start <= day <= end and day.weekday() < 5 and day not in existing
    ]
    NonSchoolDay.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


#: From this day (month, day) of a school year on, the next school year is entered.
NEXT_SCHOOL_YEAR_FROM = (3, 1)


def school_years_prepare_due(*, now: dt.datetime | None = None) -> int:
    """Enter every school's coming school year from the national calendar, in good time.

    Beat (daily), the system. The year running today (in the summer: the coming one)
    and, from 1 March on, the next are entered when a school has not entered them
    itself: ``school_year_create`` with the region's holidays. The office and the
    director are then asked to add the study days and to check Good Friday and
    Liberation Day (a notification, cause ``school-year-entered:<year>``). A year the
    national calendar does not know yet is not entered; they are asked once to enter it
    themselves (cause ``school-year-unknown:<school>:<start year>``); until then the
    working time goes on with an estimate. Idempotent: an entered year is left alone,
    and each notification is made once. Returns the number of school years entered.
    """
    now = now or timezone.now()
    today = worktime.local_date(now)
    entered = 0
    for school in School.objects.all():
        current = national_calendar.school_year_start_of(school.region, today)
        due = current + 1 if today >= dt.date(current + 1, *NEXT_SCHOOL_YEAR_FROM) else current
        starts = [d.year for d in school.school_years.values_list("starts_on", flat=True)]
        first = max(current, max(starts, default=current - 1) + 1)
        for start_year in range(first, due + 1):
            entered += _school_year_prepare(school=school, start_year=start_year)
    return entered


def _school_year_prepare(*, school: School, start_year: int) -> int:
    """Private: the sweep's work for one school year of one school; trusts its caller."""
    from klimop.notifications.services import notify

    name = f"{start_year}/{start_year + 1}"
    managers = User.objects.filter(
        staff_members__school=school, staff_members__role__in=access.MANAGER_ROLES, is_active=True
    ).distinct()
    try:
        school_year_bounds(region=school.region, start_year=start_year)
    except ValidationError:
        notify(
            users=managers,
            cause=f"school-year-unknown:{school.pk}:{start_year}",
            title=_lazy_format(gettext_lazy("Please enter school year %(name)s"), name=name),
            body=_lazy_format(
                gettext_lazy(
                    "The national calendar in Klimop does not know the holidays of school year "
                    "%(name)s yet. Please enter the school year with its holidays and study days. "
                    "Until then Klimop counts on the school being closed in July and August and "
                    "on public holidays."
                ),
                name=name,
            ),
            url=reverse("admin:klimop_schoolyear_add"),
        )
        return 0
    with transaction.atomic():
        if SchoolYear.objects.filter(school=school, name=name).exists():
            return 0
        year = school_year_create(actor=None, school=school, start_year=start_year)
        notify(
            users=managers,
            cause=f"school-year-entered:{year.pk}",
            title=_lazy_format(gettext_lazy("School year %(name)s is ready: add your study days"), name=name),
            body=_SchoolYearEntered(school=school, year=year),
            url=reverse("admin:klimop_schoolyear_change", args=[year.pk]),
        )
    return 1


class _SchoolYearEntered:
    """The body of the "school year entered" notification, in the language it is rendered in."""

    def __init__(self, *, school: School, year: SchoolYear):
        self.school, self.year = school, year

    def __str__(self) -> str:
        year = self.year
        lines = [
            _(
                "Klimop has entered school year %(name)s from the national calendar of region "
                "%(region)s: from %(first)s to %(last)s, with its school holidays and public "
                "holidays. Please add your study days and other days off."
            )
            % {
                "name": year.name,
                "region": self.school.get_region_display(),
                "first": formats.date_format(year.starts_on, "j F Y"),
                "last": formats.date_format(year.ends_on, "j F Y"),
            },
            _(
                "On Good Friday and Liberation Day the school decides whether it is open. "
                "Klimop has entered them as follows; change a day under Days without school."
            ),
        ]
        states = directory.national_day_states(school=self.school, start=year.starts_on, end=year.ends_on)
        lines += [f"{day}: {state}" for day, state in states]
        return "\n".join(lines)


def _lazy_format(message, **params):
    """A lazy translation with its parameters filled in only when rendered: ``notify``
    renders it in each recipient's own language."""
    return lazy(lambda: str(message) % params, str)()


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

    Sending again is allowed while the login has not been used (a lost e-mail);
    the link stays valid until used. A login is never reset for its owner: once
    the person has signed in, nobody sends them a password link.

    The guardian's address may already have a login (a teacher who is also a
    parent, a parent with a child at another school of the board): the school then
    adds its record to that login, and the person is told by e-mail instead of
    getting a password link once they have one.
    """
    pupils = guardian.pupils.select_related("school")
    schools = {p.school for p in pupils}
    if actor is not None and not any(access.is_school_manager(actor, s) for s in schools):
        raise PermissionDenied(_("You cannot invite this guardian."))
    if not guardian.email and guardian.user_id is None:
        raise ValidationError(_("This guardian has no e-mail address."))
    school_name = ", ".join(sorted(s.name for s in schools))
    with transaction.atomic():
        user = guardian.user
        if user is None:
            user = User.objects.filter(email__iexact=guardian.email.strip()).first()
            if user is not None:
                _link_existing_login(actor=actor, guardian=guardian, user=user)
                if not _may_invite(actor, user):
                    user_pk = user.pk
                    transaction.on_commit(lambda: _send_added_notice(user_pk, school_name, "guardian"))
                    return user
            else:
                user = _user_for(
                    email=guardian.email,
                    first_name=guardian.first_name,
                    last_name=guardian.last_name,
                )
            guardian.user = user
            guardian.save(update_fields=["user"])
        elif not _may_invite(actor, user):
            raise _no_invitation_needed(user)
        user.invited_at = timezone.now()
        user.save(update_fields=["invited_at"])
        transaction.on_commit(lambda: _send_invitation(user.pk, school_name))
    return user


def _may_invite(actor: User | None, user: User) -> bool:
    """Whether a manager may send this login a link to set its password.

    Only for a login nobody has used yet, that this manager may still prepare
    (``access.may_manage_login``: not known at another school). A login in use is
    never reset for its owner by someone else; its owner uses "Forgot your password?".
    """
    if user.last_login is not None:
        return False
    return actor is None or access.may_manage_login(actor, user)


def _no_invitation_needed(user: User) -> ValidationError:
    if user.last_login is not None:
        return ValidationError(
            _(
                "%(name)s has already signed in; an invitation is not needed. Forgotten "
                "password? They choose “Forgot your password?” on the login page."
            )
            % {"name": user.get_full_name() or user.email}
        )
    return ValidationError(
        _(
            "%(name)s already has a login, also known at another school; they have been told "
            "about your school. To set a password they choose “Forgot your password?” on the "
            "login page."
        )
        % {"name": user.get_full_name() or user.email}
    )


def _link_existing_login(*, actor: User | None, guardian: Guardian, user: User) -> None:
    """Add a school's guardian record to a login that exists already. Trusts its caller."""
    if user.is_superuser and not (actor is not None and actor.is_superuser):
        raise ValidationError(_("This e-mail address belongs to an administrator's login."))
    guardian.user = user
    guardian.save(update_fields=["user"])


def staff_invite(*, actor: User | None, staff: StaffMember) -> User:
    """E-mail a staff member a link to set their password, until they have signed in."""
    _require_manager(actor, staff.school)
    user = staff.user
    if not _may_invite(actor, user):
        raise _no_invitation_needed(user)
    with transaction.atomic():
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"primary": True, "verified": True}
        )
        user.invited_at = timezone.now()
        user.save(update_fields=["invited_at"])
        school_name = staff.school.name
        transaction.on_commit(lambda: _send_invitation(user.pk, school_name))
    return user


def login_added_notify(*, user: User, school: School, as_what: str) -> None:
    """Tell a person that a school added its record to their existing login (after commit).

    ``as_what`` is a staff role code, or "guardian".
    Trusts its caller: the record is made by a manager of ``school``.
    """
    name = school.name
    transaction.on_commit(lambda: _send_added_notice(user.pk, name, as_what))


def _send_added_notice(user_id: int, school_name: str, as_what: str) -> None:
    user = User.objects.get(pk=user_id)
    with translation.override(user.language):
        roles = dict(StaffMember.Role.choices)
        what = str(roles[as_what]).lower() if as_what in roles else _("parent or guardian")
        context = {
            "user": user,
            "school_name": school_name,
            "as_what": what,
            "login_url": f"{settings.SITE_URL}{reverse('account_login')}",
        }
        subject = _("%(school)s has added you in Klimop") % {"school": school_name}
        body = render_to_string("account/email/added_to_school.txt", context)
    send_mail(f"[Klimop] {subject}", body, None, [user.email])


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


def user_update_name(*, actor: User, first_name: str, last_name: str) -> User:
    """A person changes the name on their own login (nobody else may: ``may_manage_login``)."""
    actor.first_name, actor.last_name = first_name.strip(), last_name.strip()
    actor.full_clean(exclude=["password"], validate_unique=False)
    actor.save(update_fields=["first_name", "last_name"])
    return actor


def user_set_language(*, actor: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Unknown language."))
    actor.language = language
    actor.save(update_fields=["language"])


CONTACT_EMAIL_SALT = "klimop.contact-email"
CONTACT_EMAIL_MAX_AGE = 3 * 24 * 3600  # three days to open the mail


def guardian_update_contact(
    *, actor: User, guardian: Guardian, email: str, phone: str, notify_by_email: bool | None = None
) -> bool:
    """A guardian keeps their own contact details and e-mail preference current.

    ``guardian`` is the record shown to them; a person known at several schools
    has a record at each, and their details are theirs at every school, so all
    their records follow. The phone number and the preference are saved at once.
    A new e-mail address is used only once the person confirms it from that
    mailbox: a link goes there (after commit) and ``guardian_confirm_contact_email``
    takes it. Returns whether an address waits for that confirmation.
    """
    if guardian.user_id != actor.pk:
        raise PermissionDenied(_("You can only change your own details."))
    new_email = email.strip().lower()
    validate_email(new_email)
    guardian.phone = phone.strip()
    guardian.full_clean()
    pending = new_email != (guardian.email or "").lower()
    with transaction.atomic():
        Guardian.objects.filter(user=actor).update(phone=guardian.phone)
        if notify_by_email is not None and actor.notify_by_email != notify_by_email:
            actor.notify_by_email = notify_by_email
            actor.save(update_fields=["notify_by_email"])
        if pending:
            token = signing.dumps(
                {"g": guardian.pk, "old": guardian.email.lower(), "new": new_email},
                salt=CONTACT_EMAIL_SALT,
            )
            transaction.on_commit(lambda: _send_contact_email_confirmation(actor.pk, new_email, token))
    return pending


def _send_contact_email_confirmation(user_id: int, email: str, token: str) -> None:
    user = User.objects.get(pk=user_id)
    with translation.override(user.language):
        url = settings.SITE_URL + reverse("contact_email_confirm", kwargs={"token": token})
        subject = _("Confirm your new e-mail address for the school")
        body = render_to_string(
            "klimop/email/confirm_contact_email.txt", {"user": user, "url": url, "email": email}
        )
    send_mail(f"[Klimop] {subject}", body, None, [email])


def guardian_contact_email_pending(*, token: str) -> str:
    """The address a confirmation link is for; ``ValidationError`` when it is not valid."""
    return _contact_email_token(token)["new"]


def _contact_email_token(token: str) -> dict:
    try:
        return signing.loads(token, salt=CONTACT_EMAIL_SALT, max_age=CONTACT_EMAIL_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError(
            _("This link has expired. Enter the new address again to get a new link."), code="expired"
        ) from None
    except signing.BadSignature:
        raise ValidationError(_("This link is not valid."), code="invalid") from None


def guardian_confirm_contact_email(*, actor: User, token: str) -> Guardian:
    """The person confirms a new contact address from its mailbox (signed in as themself).

    The link is only good for the guardian it was made for, and only while the
    address it replaces is still the current one (so an old link cannot undo a
    later change).
    """
    data = _contact_email_token(token)
    if data["g"] not in {g.pk for g in access.guardian_records_of(actor)}:
        raise PermissionDenied(_("This link is for another person's details."))
    with transaction.atomic():
        guardian = Guardian.objects.select_for_update().get(pk=data["g"])
        if (guardian.email or "").lower() != data["old"]:
            raise ValidationError(
                _("This link has already been used, or your address has changed since."), code="used"
            )
        Guardian.objects.filter(user=actor).update(email=data["new"])
        guardian.email = data["new"]
    return guardian
