"""Reads of the privacy preferences: effective consent, and the pages that show it.

The rule (AVG art. 8; docs/agreements.md, "Photo consent"): a child's consent for a purpose
holds only if EVERY parent with gezag and full access has a counting "yes" for it — the
stricter choice holds, silence is no consent, and a child without such a parent has none.
Which decision counts: where the school renews consent each school year, the parent's
decision in the current school year, or (during the grace period after the year starts,
while they have not decided again) last school year's; otherwise their latest decision.

Everything is computed for many pupils at once in a fixed number of queries, so the
teacher's group page does not grow in queries with the number of pupils.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from klimop import access, worktime
from klimop import selectors as directory
from klimop.models import Group, GuardianRelation, Pupil, School, SchoolYear, StaffMember

from .models import ConsentDecision, ConsentEvent, ConsentPurpose, PrivacySettings

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # a label: translated lazily

PURPOSES: tuple[str, ...] = tuple(ConsentPurpose.values)


# --- school years and settings ------------------------------------------------------------


def local_date(on: dt.date | dt.datetime | None = None) -> dt.date:
    """The school's calendar date (Europe/Amsterdam) of ``on`` (default: now)."""
    if on is None:
        return worktime.local_date(timezone.now())
    if isinstance(on, dt.datetime):
        return worktime.local_date(on)
    return on


def school_year_on(school: School | int, on: dt.date) -> SchoolYear | None:
    """The school year a consent decision made on ``on`` is for.

    The year running on ``on``. Between two years (the summer holiday) the coming one,
    when it is entered: a choice made in the summer is meant for the year ahead and must
    not lapse after the new year's grace period. Without a coming year, the last one
    that started; before the first year, the first one (so early choices are kept).
    """
    school_id = school if isinstance(school, int) else school.pk
    years = SchoolYear.objects.filter(school_id=school_id)
    running = years.filter(starts_on__lte=on, ends_on__gte=on).first()
    if running is not None:
        return running
    coming = years.filter(starts_on__gt=on).order_by("starts_on").first()
    started = years.filter(starts_on__lte=on).order_by("-starts_on").first()
    if coming is not None and started is not None:
        return coming
    return started or coming


def previous_school_year(year: SchoolYear) -> SchoolYear | None:
    return (
        SchoolYear.objects.filter(school_id=year.school_id, starts_on__lt=year.starts_on)
        .order_by("-starts_on")
        .first()
    )


def privacy_settings_for(school: School) -> PrivacySettings:
    """The school's privacy settings; an unsaved default when none were made yet."""
    return directory.school_settings(school, PrivacySettings)


@dataclass(frozen=True)
class _Rule:
    """Which school years' decisions count for one school on one date."""

    renew: bool
    current: SchoolYear | None
    previous: SchoolYear | None  # still counting (within grace), or None

    def year_ids(self) -> list[int] | None:
        """School years whose decisions may count (None: all of them)."""
        if not self.renew:
            return None
        return [y.pk for y in (self.current, self.previous) if y is not None]


def _rule_for(school: School, on: dt.date) -> _Rule:
    current = school_year_on(school, on)
    if not privacy_settings_for(school).renew_consent_each_year:
        return _Rule(renew=False, current=current, previous=None)
    previous = None
    if current is not None:
        grace = privacy_settings_for(school).grace_days
        if on < current.starts_on + dt.timedelta(days=grace):
            previous = previous_school_year(current)
    return _Rule(renew=True, current=current, previous=previous)


def _counting(rule: _Rule, decisions: list[ConsentDecision]) -> ConsentDecision | None:
    """The one decision of one parent for one purpose that counts, if any."""
    if not decisions:
        return None
    if not rule.renew:
        return max(decisions, key=lambda d: d.decided_at)
    by_year = {d.school_year_id: d for d in decisions}
    if rule.current is not None and rule.current.pk in by_year:
        return by_year[rule.current.pk]
    if rule.previous is not None:
        return by_year.get(rule.previous.pk)
    return None


# --- the consent of many pupils at once ----------------------------------------------------


@dataclass
class PupilConsent:
    """A pupil's consent per purpose, and (for a parent's page) each decider's own choice."""

    pupil: Pupil
    deciders: list[int] = field(default_factory=list)  # guardian ids
    effective: dict[str, bool] = field(default_factory=dict)
    choices: dict[int, dict[str, bool | None]] = field(default_factory=dict)

    @property
    def refused(self) -> list[str]:
        return [p for p in PURPOSES if not self.effective.get(p)]

    def status(self) -> list[tuple[str, StrOrPromise, bool]]:
        """(purpose, label, granted) in the fixed order of the purposes."""
        return [(p, ConsentPurpose(p).label, self.effective.get(p, False)) for p in PURPOSES]


def consent_for_pupils(pupils: Iterable[Pupil], on=None) -> dict[int, PupilConsent]:
    """Effective consent of these pupils (of any schools), in a few queries per school."""
    day = local_date(on)
    pupils = list(pupils)
    result = {p.pk: PupilConsent(pupil=p) for p in pupils}
    if not pupils:
        return result
    deciders: dict[int, list[int]] = defaultdict(list)
    for pupil_id, guardian_id in GuardianRelation.objects.filter(
        pupil__in=[p.pk for p in pupils],
        kind=access.Kind.PARENT_WITH_AUTHORITY,
        access=access.Access.FULL,
    ).values_list("pupil_id", "guardian_id"):
        deciders[pupil_id].append(guardian_id)

    by_school: dict[int, list[Pupil]] = defaultdict(list)
    for pupil in pupils:
        by_school[pupil.school_id].append(pupil)
    schools = School.objects.filter(pk__in=by_school).select_related("privacy_settings")
    for school in schools:
        rule = _rule_for(school, day)
        decisions = ConsentDecision.objects.filter(pupil__in=[p.pk for p in by_school[school.pk]])
        year_ids = rule.year_ids()
        if year_ids is not None:
            decisions = decisions.filter(school_year__in=year_ids)
        grouped: dict[tuple[int, int, str], list[ConsentDecision]] = defaultdict(list)
        for decision in decisions.only(
            "pupil_id", "guardian_id", "purpose", "school_year_id", "granted", "decided_at"
        ):
            grouped[(decision.pupil_id, decision.guardian_id, decision.purpose)].append(decision)
        for pupil in by_school[school.pk]:
            entry = result[pupil.pk]
            entry.deciders = deciders.get(pupil.pk, []) if pupil.left_on is None else []
            for guardian_id in entry.deciders:
                entry.choices[guardian_id] = {}
                for purpose in PURPOSES:
                    counted = _counting(rule, grouped.get((pupil.pk, guardian_id, purpose), []))
                    entry.choices[guardian_id][purpose] = counted.granted if counted else None
            for purpose in PURPOSES:
                entry.effective[purpose] = bool(entry.deciders) and all(
                    entry.choices[g][purpose] is True for g in entry.deciders
                )
    return result


def effective_consent(*, pupil: Pupil, purpose: str, on=None) -> bool:
    """Whether the pupil may be recognisable for ``purpose`` on ``on`` (default: now)."""
    return consent_for_pupils([pupil], on=on)[pupil.pk].effective.get(purpose, False)


def pupils_without_consent(*, group: Group, purpose: str, on=None) -> QuerySet[Pupil]:
    """The group's current pupils who must not be recognisable for ``purpose``."""
    pupils = Pupil.objects.filter(group=group, left_on__isnull=True)
    consent = consent_for_pupils(pupils, on=on)
    allowed = [pk for pk, entry in consent.items() if entry.effective.get(purpose)]
    return pupils.exclude(pk__in=allowed).order_by("first_name", "last_name")


# --- what a parent sees --------------------------------------------------------------------


def consent_pupils_for(viewer) -> QuerySet[Pupil]:
    """The children the viewer may decide for (access.can_set_consent_for, as a queryset)."""
    if not access.is_guardian(viewer):
        return Pupil.objects.none()
    return Pupil.objects.filter(
        guardian_relations__guardian__user=viewer,
        guardian_relations__kind=access.Kind.PARENT_WITH_AUTHORITY,
        guardian_relations__access=access.Access.FULL,
        left_on__isnull=True,
    ).distinct()


def consent_pupil_get_for(*, viewer, pk: int) -> Pupil:
    """A child the viewer may decide for, or 404 for missing, not yours and no gezag alike."""
    try:
        return consent_pupils_for(viewer).select_related("school", "group").get(pk=pk)
    except Pupil.DoesNotExist:
        raise Http404 from None


@dataclass(frozen=True)
class PurposeRow:
    purpose: str
    label: StrOrPromise
    mine: bool | None
    effective: bool

    @property
    def stricter_elsewhere(self) -> bool:
        """I said yes, yet there is no consent: another parent's stricter choice holds."""
        return self.mine is True and not self.effective


@dataclass(frozen=True)
class ChildConsent:
    pupil: Pupil
    rows: list[PurposeRow]
    several_deciders: bool


def consent_children_for(*, viewer, on=None) -> list[ChildConsent]:
    """The parent's page: each child they may decide for, with their own and the effective choice.

    Reveals nothing of another parent beyond "the stricter choice applies".
    """
    records = {g.pk for g in access.guardian_records_of(viewer)}
    if not records:
        return []
    pupils = list(consent_pupils_for(viewer).select_related("group").order_by("date_of_birth", "first_name"))
    consent = consent_for_pupils(pupils, on=on)
    children = []
    for pupil in pupils:
        entry = consent[pupil.pk]
        # The viewer decides through their record at this child's school.
        mine = next((entry.choices[g] for g in entry.choices if g in records), {})
        rows = [
            PurposeRow(
                purpose=p,
                label=ConsentPurpose(p).label,
                mine=mine.get(p),
                effective=entry.effective.get(p, False),
            )
            for p in PURPOSES
        ]
        children.append(ChildConsent(pupil=pupil, rows=rows, several_deciders=len(entry.deciders) > 1))
    return children


# --- what staff see ------------------------------------------------------------------------


def _staff_groups(viewer) -> QuerySet[Group]:
    """Groups whose consent list the viewer may see: taught by them, or (director, office,
    IB) any group of their school. Parents never: this is a staff page."""
    staff = access.staff_member_of(viewer)
    if staff is None:
        return Group.objects.none()
    mine = Q(school_id=staff.school_id) if staff.sees_whole_school else Q(teachers=staff)
    return access.groups_visible_to(viewer).filter(mine)


def consent_group_get_for(*, viewer, pk: int) -> Group:
    try:
        return _staff_groups(viewer).select_related("school_year", "school").get(pk=pk)
    except Group.DoesNotExist:
        raise Http404 from None


def group_consent(*, group: Group, on=None) -> list[PupilConsent]:
    """The group's pupils with their consent per purpose, in a fixed number of queries."""
    pupils = Pupil.objects.filter(group=group, left_on__isnull=True).order_by("first_name", "last_name")
    consent = consent_for_pupils(pupils, on=on)
    return list(consent.values())


def consent_overview_for(*, viewer, on=None) -> list[tuple[Group, list[PupilConsent]]]:
    """The office's overview: every group of their school this school year, with its pupils.

    Directors and the office only (access.is_school_manager); anybody else gets 404.
    """
    staff = access.staff_member_of(viewer)
    if staff is None or not access.is_school_manager(viewer):
        raise Http404
    year = school_year_on(staff.school, local_date(on))
    groups = list(
        Group.objects.filter(school_id=staff.school_id, school_year=year)
        .prefetch_related(
            Prefetch(
                "pupils",
                queryset=Pupil.objects.filter(left_on__isnull=True).order_by("first_name", "last_name"),
            )
        )
        .order_by("year", "name")
    )
    consent = consent_for_pupils([p for g in groups for p in g.pupils.all()], on=on)
    return [(g, [consent[p.pk] for p in g.pupils.all()]) for g in groups]


def teachers_of_pupil(pupil: Pupil) -> QuerySet[StaffMember]:
    if pupil.group_id is None:
        return StaffMember.objects.none()
    return StaffMember.objects.filter(groups=pupil.group_id).select_related("user")


# --- a parent's own data (AVG art. 15 and 20) ---------------------------------------------


def my_data_for(*, viewer) -> dict:
    """The guardian records (one per school), their relations and the consent history they took part in."""
    records = access.guardian_records_of(viewer)
    if not records:
        raise Http404
    guardian = records[0]
    relations = (
        GuardianRelation.objects.filter(guardian__user=viewer)
        .select_related("pupil__group")
        .order_by("pupil__first_name")
    )
    # Only the children the parent may see: a barred parent's export shows the relation
    # exists (it is their own record) but nothing about the child's group.
    visible = set(access.pupils_visible_to(viewer).values_list("pk", flat=True))
    decisions = (
        ConsentDecision.objects.filter(guardian__user=viewer)
        .select_related("pupil", "school_year")
        .order_by("pupil_id", "purpose", "school_year__starts_on")
    )
    events = (
        ConsentEvent.objects.filter(guardian__user=viewer)
        .select_related("pupil", "school_year", "actor")
        .order_by("at", "pk")
    )
    return {
        "exported_at": timezone.localtime().isoformat(),
        "user": {
            "email": viewer.email,
            "first_name": viewer.first_name,
            "last_name": viewer.last_name,
            "language": viewer.language,
        },
        "guardian": {
            "first_name": guardian.first_name,
            "last_name": guardian.last_name,
            "email": guardian.email,
            "phone": guardian.phone,
        },
        # A parent known at several schools has a record at each; all are theirs.
        "guardian_records": [
            {"first_name": g.first_name, "last_name": g.last_name, "email": g.email, "phone": g.phone}
            for g in records
        ],
        "relations": [
            {
                "child": r.pupil.full_name,
                "group": (r.pupil.group.name if r.pupil.group and r.pupil_id in visible else None),
                "relation": r.kind,
                "access": r.access,
            }
            for r in relations
        ],
        "consent_decisions": [
            {
                "child": d.pupil.full_name,
                "purpose": d.purpose,
                "school_year": d.school_year.name,
                "granted": d.granted,
                "decided_at": timezone.localtime(d.decided_at).isoformat(),
            }
            for d in decisions
        ],
        "consent_history": [
            {
                "child": e.pupil.full_name,
                "purpose": e.purpose,
                "school_year": e.school_year.name,
                "before": e.old_granted,
                "after": e.new_granted,
                "at": timezone.localtime(e.at).isoformat(),
                "by_me": e.actor_id == viewer.pk,
            }
            for e in events
        ],
    }
