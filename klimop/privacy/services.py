"""Writes of the privacy preferences: parents decide, withdraw; the school asks again.

Every change writes the decision row and an append-only ``ConsentEvent`` in one
transaction; the child's teachers hear of a change of the child's effective consent
after commit (a task by ids, which calls ``notify`` — that respects their working time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from klimop import access, worktime
from klimop import selectors as directory
from klimop.models import Guardian, GuardianRelation, Pupil, School, SchoolYear, User
from klimop.queue import enqueue_on_commit

from . import selectors as consent_read
from .models import ConsentDecision, ConsentEvent, ConsentPurpose, PrivacySettings


def consent_set_many(*, actor: User, pupil: Pupil, choices: Mapping[str, bool]) -> list[ConsentEvent]:
    """Record the actor's choices for one child (purpose → yes/no) for the current school year.

    Preconditions: the actor is a parent with gezag and full access of the pupil
    (``access.can_set_consent_for``), else ``PermissionDenied``; purposes must be known,
    else ``ValidationError``. A choice equal to the actor's counting one changes nothing.
    Side effects: one ``ConsentEvent`` per change; if the child's effective consent for
    any purpose changed, the child's teachers are notified after commit.
    """
    if not access.can_set_consent_for(actor, pupil):
        raise PermissionDenied
    unknown = set(choices) - set(ConsentPurpose.values)
    if unknown:
        raise ValidationError(
            _("Unknown purpose: %(purpose)s"), params={"purpose": ", ".join(sorted(unknown))}
        )
    guardian = access.guardian_for(actor, pupil)  # the record of the school of this child
    if guardian is None:  # can_set_consent_for holds only for a guardian of the child
        raise PermissionDenied
    now = timezone.now()
    year = consent_read.school_year_on(pupil.school, consent_read.local_date(now))
    if year is None:
        raise ValidationError(_("The school has no school year yet; please try again later."))
    renew = consent_read.privacy_settings_for(pupil.school).renew_consent_each_year
    events: list[ConsentEvent] = []
    with transaction.atomic():
        # Lock the child's decider relations: two parents deciding at once then compute
        # the effective consent before/after in turn, so no teacher misses a change.
        list(GuardianRelation.objects.select_for_update().filter(pupil=pupil))
        before = consent_read.consent_for_pupils([pupil], on=now)[pupil.pk]
        mine = before.choices.get(guardian.pk, {})
        for purpose, granted in choices.items():
            granted = bool(granted)
            if mine.get(purpose) is granted:
                existing_this_year = ConsentDecision.objects.filter(
                    pupil=pupil, guardian=guardian, purpose=purpose, school_year=year
                ).exists()
                # Re-confirming last year's choice in a renewal year is a decision too.
                if existing_this_year or not renew:
                    continue
            decision, created = ConsentDecision.objects.select_for_update().get_or_create(
                pupil=pupil,
                guardian=guardian,
                purpose=purpose,
                school_year=year,
                defaults={"granted": granted, "decided_at": now, "decided_by": actor},
            )
            if not created:
                decision.granted, decision.decided_at, decision.decided_by = granted, now, actor
                decision.full_clean()
                decision.save(update_fields=["granted", "decided_at", "decided_by"])
            events.append(
                ConsentEvent(
                    pupil=pupil,
                    guardian=guardian,
                    purpose=purpose,
                    school_year=year,
                    old_granted=mine.get(purpose),
                    new_granted=granted,
                    actor=actor,
                    at=now,
                )
            )
        if not events:
            return []
        for event in events:
            event.full_clean()
            event.save()
        after = consent_read.consent_for_pupils([pupil], on=now)[pupil.pk]
        if after.effective != before.effective:
            enqueue_on_commit(
                "klimop.privacy.tasks.notify_teachers_of_consent_change", pupil.pk, events[-1].pk
            )
    return events


def consent_set(*, actor: User, pupil: Pupil, purpose: str, granted: bool) -> list[ConsentEvent]:
    """One purpose; see ``consent_set_many``."""
    return consent_set_many(actor=actor, pupil=pupil, choices={purpose: granted})


def consent_withdraw_all(*, actor: User) -> int:
    """Withdraw every consent for every child the actor decides for; returns the changes."""
    changes = 0
    with transaction.atomic():
        for pupil in consent_read.consent_pupils_for(actor).select_related("school"):
            changes += len(
                consent_set_many(
                    actor=actor, pupil=pupil, choices=dict.fromkeys(ConsentPurpose.values, False)
                )
            )
    return changes


@dataclass(frozen=True)
class ConsentForm:
    """One parent's choices for one child (purpose → yes/no), as the consent page sends them."""

    parent: User
    pupil: Pupil
    choices: Mapping[str, bool]


def consent_set_bulk(*, actor: User | None, forms: Iterable[ConsentForm]) -> list[ConsentEvent]:
    """System only: record many parents' forms at once, now, each as ``consent_set_many`` would.

    For choices made on the consent page that reach the database together: the demo
    school's first weeks. The same checks as ``consent_set_many`` for every form first
    (the parent decides for the child, ``PermissionDenied``; known purposes, one form per
    parent and child, ``ValidationError``), and nothing is recorded if one fails; the same
    decision and history rows; the child's teachers are told after commit when the child's
    effective consent changed (once per child). A fixed number of queries per school,
    whatever the number of forms. Any actor is refused: parents decide on their own page.
    """
    if actor is not None:
        raise PermissionDenied
    forms = list(forms)
    if not forms:
        return []
    unknown = set().union(*(form.choices for form in forms)) - set(ConsentPurpose.values)
    if unknown:
        raise ValidationError(
            _("Unknown purpose: %(purpose)s"), params={"purpose": ", ".join(sorted(unknown))}
        )
    pupils = {form.pupil.pk: form.pupil for form in forms}
    parents = {form.parent.pk for form in forms}
    # access.can_set_consent_for, for every form at once.
    may_decide = set(
        GuardianRelation.objects.filter(
            pupil__in=pupils,
            pupil__left_on__isnull=True,
            guardian__user__in=parents,
            kind=access.Kind.PARENT_WITH_AUTHORITY,
            access=access.Access.FULL,
        ).values_list("pupil_id", "guardian__user_id")
    )
    if any((form.pupil.pk, form.parent.pk) not in may_decide for form in forms):
        raise PermissionDenied
    # access.guardian_for: the parent's record related to the child with the lowest id.
    records: dict[tuple[int, int], int] = {}
    for user_id, pupil_id, guardian_id in (
        Guardian.objects.filter(user__in=parents, relations__pupil__in=pupils)
        .order_by("-pk")
        .values_list("user_id", "relations__pupil_id", "pk")
    ):
        records[(user_id, pupil_id)] = guardian_id
    keys = [(records[(form.parent.pk, form.pupil.pk)], form.pupil.pk) for form in forms]
    if len(set(keys)) < len(keys):
        raise ValidationError(_("One form per parent and child."))
    now = timezone.now()
    schools = {
        school.pk: school
        for school in School.objects.filter(pupils__in=pupils).select_related("privacy_settings").distinct()
    }
    years: dict[int, SchoolYear] = {}
    for school_id in schools:
        year = consent_read.school_year_on(school_id, consent_read.local_date(now))
        if year is None:
            raise ValidationError(_("The school has no school year yet; please try again later."))
        years[school_id] = year
    events: list[ConsentEvent] = []
    with transaction.atomic():
        # As in consent_set_many: lock the children's decider relations before reading.
        list(GuardianRelation.objects.select_for_update().filter(pupil__in=pupils))
        before = consent_read.consent_for_pupils(pupils.values(), on=now)
        existing = {
            (d.pupil_id, d.guardian_id, d.purpose): d
            for d in ConsentDecision.objects.select_for_update().filter(
                pupil__in=pupils, school_year__in=years.values()
            )
            if d.school_year_id == years[pupils[d.pupil_id].school_id].pk
        }
        new: list[ConsentDecision] = []
        changed: list[ConsentDecision] = []
        last_event: dict[int, ConsentEvent] = {}
        for form, (guardian_id, pupil_id) in zip(forms, keys, strict=True):
            school = schools[form.pupil.school_id]
            year = years[school.pk]
            mine = before[pupil_id].choices.get(guardian_id, {})
            for purpose, choice in form.choices.items():
                granted = bool(choice)
                decision = existing.get((pupil_id, guardian_id, purpose))
                # Re-confirming last year's choice in a renewal year is a decision too.
                if mine.get(purpose) is granted and (
                    decision is not None
                    or not consent_read.privacy_settings_for(school).renew_consent_each_year
                ):
                    continue
                if decision is None:
                    decision = ConsentDecision(
                        pupil_id=pupil_id, guardian_id=guardian_id, purpose=purpose, school_year=year
                    )
                    new.append(decision)
                else:
                    changed.append(decision)
                decision.granted, decision.decided_at, decision.decided_by = granted, now, form.parent
                event = ConsentEvent(
                    pupil_id=pupil_id,
                    guardian_id=guardian_id,
                    purpose=purpose,
                    school_year=year,
                    old_granted=mine.get(purpose),
                    new_granted=granted,
                    actor=form.parent,
                    at=now,
                )
                # The purposes were checked above, the related rows are the ones just read.
                event.full_clean(
                    exclude=["pupil", "guardian", "school_year", "actor"], validate_constraints=False
                )
                events.append(event)
                last_event[pupil_id] = event
        ConsentDecision.objects.bulk_create(new, batch_size=1000)
        ConsentDecision.objects.bulk_update(changed, ["granted", "decided_at", "decided_by"], batch_size=1000)
        ConsentEvent.objects.bulk_create(events, batch_size=1000)
        after = consent_read.consent_for_pupils(pupils.values(), on=now)
        for pupil_id, event in last_event.items():
            if after[pupil_id].effective != before[pupil_id].effective:
                enqueue_on_commit(
                    "klimop.privacy.tasks.notify_teachers_of_consent_change", pupil_id, event.pk
                )
    return events


def privacy_settings_get_or_create(*, school: School) -> PrivacySettings:
    """The school's privacy settings, made with the defaults on first use."""
    settings, _created = PrivacySettings.objects.get_or_create(school=school)
    return settings


# --- system actions (actor=None: Celery) -----------------------------------------------------


def consent_change_notify_teachers(*, pupil_id: int, event_id: int) -> int:
    """Tell the child's teachers that the child's consent changed (at most once per change).

    System action: no actor. ``notify`` delays each teacher's row to their working time.
    """
    from klimop.notifications.services import notify

    pupil = Pupil.objects.filter(pk=pupil_id).select_related("group").first()
    if pupil is None or pupil.group is None:
        return 0
    teachers = [s.user for s in consent_read.teachers_of_pupil(pupil)]
    refused = consent_read.consent_for_pupils([pupil])[pupil.pk].refused
    return notify(
        users=teachers,
        cause=f"consent-change:{pupil.pk}:{event_id}",
        message="consent.changed",
        params={"name": pupil.full_name, "refused": list(refused)},
        url=reverse("privacy:privacy_group", args=[pupil.group_id]),
    )


def consent_renewal_sweep(*, now: dt.datetime | None = None) -> int:
    """At the start of a school year, ask the deciding parents again (renewing schools only).

    System action, idempotent: ``notify`` makes at most one row per parent and
    ``consent-renewal:<year>:<pupil>`` cause, and parents already notified or who already
    decided every purpose this year are skipped. Runs only within the school's office
    hours, and only during the grace period of the new year (after it, asking is moot:
    the page itself shows that there is no consent).
    """
    from klimop.notifications.models import Notification
    from klimop.notifications.services import notify

    now = now or timezone.now()
    today = consent_read.local_date(now)
    made = 0
    for school in School.objects.exclude(privacy_settings__renew_consent_each_year=False):
        if not worktime.is_working_time(directory.school_calendar(school), now):
            continue
        year = SchoolYear.objects.filter(school=school, starts_on__lte=today, ends_on__gte=today).first()
        if year is None:
            continue
        grace = consent_read.privacy_settings_for(school).grace_days
        if today >= year.starts_on + dt.timedelta(days=max(grace, 1)):
            continue
        made += _ask_again(school=school, year=year, notify=notify, notification=Notification)
    return made


def _ask_again(*, school: School, year: SchoolYear, notify, notification) -> int:
    """Private: the sweep's work for one school; trusts its caller."""
    prefix = f"consent-renewal:{year.pk}:"
    asked = set(notification.objects.filter(cause__startswith=prefix).values_list("user_id", "cause"))
    decided: dict[tuple[int, int], int] = {}
    for pupil_id, guardian_id in ConsentDecision.objects.filter(
        school_year=year, pupil__school=school
    ).values_list("pupil_id", "guardian_id"):
        decided[(pupil_id, guardian_id)] = decided.get((pupil_id, guardian_id), 0) + 1
    relations = GuardianRelation.objects.filter(
        pupil__school=school,
        pupil__left_on__isnull=True,
        guardian__user__isnull=False,
        kind=access.Kind.PARENT_WITH_AUTHORITY,
        access=access.Access.FULL,
        guardian__user__is_active=True,
    ).select_related("guardian__user", "pupil")
    made = 0
    for relation in relations:
        user = relation.guardian.user
        if user is None:  # excluded by guardian__user__is_active above
            continue
        cause = f"{prefix}{relation.pupil_id}"
        if (user.pk, cause) in asked:
            continue
        if decided.get((relation.pupil_id, relation.guardian_id), 0) >= len(ConsentPurpose.values):
            continue
        made += notify(
            users=[user],
            cause=cause,
            message="consent.renewal",
            params={"name": relation.pupil.first_name},
            url=reverse("privacy:privacy_home"),
        )
    return made
