"""Writes to the school directory and accounts. Acting user first, validated, atomic."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import access, national_calendar, worktime
from . import selectors as directory
from .models import (
    Group,
    Guardian,
    GuardianRelation,
    NonSchoolDay,
    OfficeHours,
    Pupil,
    School,
    SchoolYear,
    StaffMember,
    User,
)

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


def school_delete(*, actor: User | None, school: School) -> dict[str, int]:
    """An administrator deletes a school with everything of it: school years, groups, pupils,
    staff records and every feature's rows (``ProtectedError`` where something must stay).
    Its guardians and logins are people, who may be known elsewhere: ``guardians_delete``,
    ``logins_delete``. Returns the deleted rows per model label.
    """
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only an administrator can remove a school."))
    with transaction.atomic():
        return school.delete()[1]


def guardians_delete(*, actor: User | None, guardians: QuerySet[Guardian]) -> int:
    """An administrator deletes guardian records with their relations; returns how many."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only an administrator can remove these guardians."))
    with transaction.atomic():
        return guardians.delete()[1].get("klimop.Guardian", 0)


def logins_delete(*, actor: User | None, users: QuerySet[User]) -> int:
    """An administrator deletes logins (their staff records, notifications and the like go
    with them; guardian records stay, without a login); returns how many."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only an administrator can remove logins."))
    with transaction.atomic():
        return users.delete()[1].get("klimop.User", 0)


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
            message="school_year.unknown",
            params={"name": name},
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
            message="school_year.entered",
            params={
                "name": name,
                "region": school.region,
                "first": year.starts_on,
                "last": year.ends_on,
                "days": directory.national_day_rows(school=school, start=year.starts_on, end=year.ends_on),
            },
            url=reverse("admin:klimop_schoolyear_change", args=[year.pk]),
        )
    return 1


def study_day_add(*, actor: User | None, school: School, date: dt.date, name: str) -> NonSchoolDay:
    """The school adds a study day of its own: the team trains, the children are free.

    A weekday inside one of the school's school years that is not a day without school
    already, else ``ValidationError``; only the school's managers (``PermissionDenied``).
    """
    _require_manager(actor, school)
    day = NonSchoolDay(school=school, date=date, kind=NonSchoolDay.Kind.STUDY_DAY, name=name.strip())
    if date.weekday() >= 5:
        raise ValidationError({"date": _("A study day falls on a weekday.")})
    if not SchoolYear.objects.filter(school=school, starts_on__lte=date, ends_on__gte=date).exists():
        raise ValidationError({"date": _("This date is not in one of the school's school years.")})
    day.full_clean()
    day.save()
    return day


# --- a school's first fill: many pupils and guardians at once ---------------------------------


@dataclass(frozen=True)
class PupilRow:
    """One pupil, with the columns of the pupils import (docs/import/README.md)."""

    external_id: str
    first_name: str
    last_name: str
    group: str  # the group's name or external id in the school year
    date_of_birth: dt.date | None = None


@dataclass(frozen=True)
class GuardianRow:
    """One guardian and one of their children, with the columns of the guardians import."""

    guardian_external_id: str
    first_name: str
    last_name: str
    pupil_external_id: str
    kind: str
    access: str
    email: str = ""
    phone: str = ""


def _row_errors(errors: list[str]) -> ValidationError:
    shown = errors[:10]
    if len(errors) > len(shown):
        shown.append(_("… and %(n)s more.") % {"n": len(errors) - len(shown)})
    return ValidationError(shown)


def _checked(instance, row: int, errors: list[str], exclude: list[str]) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors += [_("Row %(row)s: %(error)s") % {"row": row, "error": m} for m in exc.messages]


def pupils_add(
    *, actor: User | None, school: School, school_year: SchoolYear, pupils: Iterable[PupilRow]
) -> int:
    """Add many new pupils to a school at once; returns how many.

    The bulk twin of the pupils import for a school's first fill (the demo school; a link
    with a pupil administration): every row is checked as the import checks it, the
    external ids must be new to the school and the groups those of ``school_year``, and all
    rows are written in one go, or none (``ValidationError`` naming the rows). Changing
    pupils the school has is the import's, which matches them on their external ids.
    """
    _require_manager(actor, school)
    if school_year.school_id != school.pk:
        raise PermissionDenied(_("You cannot manage this school."))
    rows = list(pupils)
    groups: dict[str, Group] = {}
    for each in Group.objects.filter(school_year=school_year):
        groups[each.name.lower()] = groups[each.external_id.lower()] = each
    taken = set(Pupil.objects.filter(school=school).values_list("external_id", flat=True))
    errors: list[str] = []
    seen: set[str] = set()
    new = []
    for n, row in enumerate(rows, start=1):
        group = groups.get(row.group.strip().lower())
        if group is None:
            errors.append(_("Row %(row)s: unknown group “%(group)s”.") % {"row": n, "group": row.group})
        external_id = row.external_id.strip()
        if not external_id or external_id in taken or external_id in seen:
            errors.append(_("Row %(row)s: the external id must be new and filled in.") % {"row": n})
        seen.add(external_id)
        pupil = Pupil(
            school=school,
            group=group,
            external_id=external_id,
            first_name=row.first_name.strip(),
            last_name=row.last_name.strip(),
            date_of_birth=row.date_of_birth,
        )
        _checked(pupil, n, errors, exclude=["school", "group"])
        new.append(pupil)
    if errors:
        raise _row_errors(errors)
    Pupil.objects.bulk_create(new, batch_size=500)
    return len(new)


def guardians_add(*, actor: User | None, school: School, guardians: Iterable[GuardianRow]) -> int:
    """Add many new guardians and their relations to the school's pupils at once.

    The bulk twin of the guardians import for a school's first fill: one row per guardian
    and child, as in the import's file; the rows of one guardian must agree on the name and
    contact details; guardian external ids must be new (they are unique across schools),
    the pupils the school's. Checked like the import, written in one go or not at all
    (``ValidationError`` naming the rows). Returns the number of guardians added. Guardians
    get a login when invited (``guardian_invite``, ``guardians_invite_bulk``).
    """
    _require_manager(actor, school)
    rows = list(guardians)
    pupils = dict(Pupil.objects.filter(school=school).values_list("external_id", "pk"))
    ids = {row.guardian_external_id.strip() for row in rows}
    taken = set(Guardian.objects.filter(external_id__in=ids).values_list("external_id", flat=True))
    errors: list[str] = []
    records: dict[str, tuple[Guardian, tuple[str, ...], int]] = {}
    relations: list[tuple[str, GuardianRelation]] = []
    pairs: set[tuple[str, str]] = set()
    for n, row in enumerate(rows, start=1):
        external_id = row.guardian_external_id.strip()
        details = (
            row.first_name.strip(),
            row.last_name.strip(),
            row.email.strip().lower(),
            row.phone.strip(),
        )
        if not external_id or external_id in taken:
            errors.append(
                _("Row %(row)s: the guardian's external id must be new and filled in.") % {"row": n}
            )
        if external_id not in records:
            guardian = Guardian(
                external_id=external_id,
                first_name=details[0],
                last_name=details[1],
                email=details[2],
                phone=details[3],
            )
            _checked(guardian, n, errors, exclude=["user"])
            records[external_id] = (guardian, details, n)
        elif records[external_id][1] != details:
            errors.append(
                _("Guardian “%(id)s” has other names or contact details here than in row %(row)s.")
                % {"id": external_id, "row": records[external_id][2]}
            )
        pupil_id = pupils.get(row.pupil_external_id.strip())
        if pupil_id is None:
            errors.append(
                _("Row %(row)s: unknown pupil “%(pupil)s”.") % {"row": n, "pupil": row.pupil_external_id}
            )
        if (external_id, row.pupil_external_id) in pairs:
            errors.append(_("Row %(row)s: this guardian and child are in the file twice.") % {"row": n})
        pairs.add((external_id, row.pupil_external_id))
        relation = GuardianRelation(kind=row.kind, access=row.access)
        _checked(relation, n, errors, exclude=["pupil", "guardian"])
        if pupil_id is not None:
            relation.pupil_id = pupil_id
            relations.append((external_id, relation))
    if errors:
        raise _row_errors(errors)
    with transaction.atomic():
        Guardian.objects.bulk_create([guardian for guardian, _d, _n in records.values()], batch_size=500)
        saved = dict(Guardian.objects.filter(external_id__in=records).values_list("external_id", "pk"))
        for external_id, relation in relations:
            relation.guardian_id = saved[external_id]
        GuardianRelation.objects.bulk_create([r for _id, r in relations], batch_size=500)
    return len(records)


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
    _email(user.email, subject, body, purpose="added_to_school")


def _email(to: str, subject: str, body: str, *, purpose: str) -> None:
    """Into the outbox: the e-mail sweep sends it after commit and retries it; never inside
    the request that caused it."""
    from klimop.notifications.services import email_queue

    email_queue(to=to, subject=f"[Klimop] {subject}", body=body, purpose=purpose)


def _send_invitation(user_id: int, school_name: str) -> None:
    """Queue the invitation e-mail in the invitee's language. Runs after commit."""
    _send_invitations([(user_id, school_name)])


def _send_invitations(invitations: list[tuple[int, str]]) -> None:
    """Queue the invitation e-mails (user id, school name), each in the invitee's language,
    in one insert: a whole school's parents at once. Runs after commit."""
    from klimop.notifications.models import OutgoingEmail
    from klimop.notifications.services import emails_queue

    users = User.objects.in_bulk([user_id for user_id, _school in invitations])
    emails = []
    for user_id, school_name in invitations:
        user = users[user_id]
        with translation.override(user.language):
            context = {"user": user, "url": _invitation_url(user), "school_name": school_name}
            subject = _("Your invitation to Klimop")
            body = render_to_string("account/email/invitation.txt", context)
        emails.append(
            OutgoingEmail(to=user.email, subject=f"[Klimop] {subject}", body=body, purpose="invitation")
        )
    emails_queue(emails)


def guardians_invite_bulk(*, actor: User | None, guardians: Iterable[Guardian]) -> int:
    """Invite many guardians at once, e.g. a whole school when it starts with Klimop.

    Each guardian with an e-mail address and no login is invited as ``guardian_invite``
    would: a login with that address (verified by following the link), the invitation
    e-mailed after commit. Addresses without a login yet, most of them at the start, are
    done together in a few queries; an address that has a login already takes
    ``guardian_invite``'s way (its record is linked, the person told). Checked first for
    the whole batch: ``PermissionDenied`` unless the actor manages a school of each
    guardian's children, and then nobody is invited. Returns how many were invited.
    """
    todo = [g for g in guardians if g.email and g.user_id is None]
    if not todo:
        return 0
    schools: dict[int, set[School]] = defaultdict(set)
    for relation in GuardianRelation.objects.filter(guardian__in=todo).select_related("pupil__school"):
        schools[relation.guardian_id].add(relation.pupil.school)
    if actor is not None:
        managed = set(access.schools_managed_by(actor))
        if any(not schools[g.pk] & managed for g in todo):
            raise PermissionDenied(_("You cannot invite this guardian."))
    addresses = {g.email.strip().lower() for g in todo}
    known = set(
        User.objects.annotate(address=Lower("email"))
        .filter(address__in=addresses)
        .values_list("address", flat=True)
    )
    known |= set(
        EmailAddress.objects.annotate(address=Lower("email"))
        .filter(address__in=addresses)
        .values_list("address", flat=True)
    )
    fresh: dict[str, Guardian] = {}
    careful = []
    for guardian in todo:
        address = guardian.email.strip().lower()
        if address in known or address in fresh:
            careful.append(guardian)
        else:
            fresh[address] = guardian
    with transaction.atomic():
        now = timezone.now()
        users = []
        for address, guardian in fresh.items():
            user = User(
                email=address, first_name=guardian.first_name, last_name=guardian.last_name, invited_at=now
            )
            user.set_unusable_password()
            users.append(user)
        User.objects.bulk_create(users, batch_size=500)
        by_address = dict(User.objects.filter(email__in=fresh).values_list("email", "pk"))
        EmailAddress.objects.bulk_create(
            (EmailAddress(user_id=by_address[a], email=a, primary=True, verified=True) for a in fresh),
            batch_size=500,
        )
        invitations = []
        for address, guardian in fresh.items():
            guardian.user_id = by_address[address]
            invitations.append((guardian.user_id, ", ".join(sorted(s.name for s in schools[guardian.pk]))))
        transaction.on_commit(partial(_send_invitations, invitations))
        Guardian.objects.bulk_update(fresh.values(), ["user"], batch_size=500)
        for guardian in careful:
            guardian_invite(actor=actor, guardian=guardian)
    return len(todo)


def logins_set_password(*, actor: User | None, users: Iterable[User], password: str) -> int:
    """System only: give these logins one password, hashed once.

    For the demo school's published logins: hashing is slow on purpose (PBKDF2), and
    eight logins hashed one by one would take seconds. Nobody sets a password for
    someone else, so any actor is refused, and so is a login that has been signed in with
    (its password is its owner's). Returns the number of logins changed.
    """
    if actor is not None:
        raise PermissionDenied(_("Nobody sets a password for someone else."))
    users = list(users)
    if any(u.last_login is not None for u in users):
        raise ValidationError(_("A login that has been used keeps its owner's password."))
    return User.objects.filter(pk__in=[u.pk for u in users]).update(password=make_password(password))


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
    _email(email, subject, body, purpose="confirm_contact_email")


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
