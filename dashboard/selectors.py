"""Reads of a parent's home and of the staff dashboard that do not grow with the school.

A parent's home starts with one-tap quick actions (:func:`quick_actions_for`: report sick,
leave, the conversation planner, privacy), each only when the parent may use it, and tells a
parent who sees no child why, truthfully and without naming one (:func:`no_children_reason`).

A teacher's dashboard shows their own groups with every pupil
(``klimop.selectors.groups_for_staff``). The whole school (director, office, care
coordinator) sees each group as a summary: its teachers and how many pupils it has, in
a fixed number of queries whatever the number of pupils; the pupils of one group come on
demand (:func:`group_pupils_for`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from absences import rules as absence_rules
from absences import selectors as absence_selectors
from conversations import selectors as planner_selectors
from klimop import access
from klimop.models import Group, GuardianRelation, Pupil, StaffMember
from klimop.privacy import selectors as privacy_selectors


@dataclass(frozen=True)
class QuickAction:
    """One tile in the row of quick actions on a parent's home."""

    key: str
    url: str
    label: str | Promise
    detail: str | Promise
    icon: str


def quick_actions_for(*, viewer, now: dt.datetime | None = None) -> list[QuickAction]:
    """What a parent does most, one tap from home, each only when they may:

    - report sick and request leave: children they act for (``absences.rules``), at a school
      that takes them through the portal;
    - plan a parent conversation: a round of their children's groups that is open or coming
      (``conversations.selectors.rounds_for_parent``);
    - privacy: children whose photo consent they decide (``privacy.selectors``).
    """
    now = now or timezone.now()
    actions: list[QuickAction] = []
    pupils = list(
        absence_rules.children_reportable_by(viewer)
        .select_related("school", "school__absence_settings")
        .order_by("pk")
    )
    schools = {p.school_id: p.school for p in pupils}
    settings = [absence_selectors.absence_settings_for(school) for school in schools.values()]
    if any(s.sick_reports_via_portal for s in settings):
        school = next(
            sc for sc, st in zip(schools.values(), settings, strict=True) if st.sick_reports_via_portal
        )
        cutoff = absence_selectors.cutoff_of(school)
        actions.append(
            QuickAction(
                "sick",
                reverse("absences:report_sick"),
                pgettext_lazy("quick action", "Report sick"),
                _("before %(time)s") % {"time": formats.time_format(cutoff, "H:i")},
                "thermometer",
            )
        )
    if any(s.leave_requests_via_portal for s in settings):
        actions.append(
            QuickAction(
                "leave",
                reverse("absences:leave_create"),
                pgettext_lazy("quick action", "Leave"),
                pgettext_lazy("quick action", "Request"),
                "suitcase",
            )
        )
    rounds = planner_selectors.rounds_for_parent(viewer=viewer, now=now) if pupils else []
    if rounds:
        actions.append(
            QuickAction(
                "planner",
                reverse("conversations:index"),
                pgettext_lazy("quick action", "Plan conversations"),
                rounds[0].name,
                "calendar",
            )
        )
    if privacy_selectors.consent_pupils_for(viewer).exists():
        actions.append(
            QuickAction(
                "privacy",
                reverse("privacy:privacy_home"),
                pgettext_lazy("quick action", "Privacy"),
                _("Photo consent"),
                "shield",
            )
        )
    return actions


#: Why a parent's home shows no child (:func:`no_children_reason`).
NOT_LINKED, CONSENT_NEEDED, NO_INFORMATION = "not_linked", "consent_needed", "no_information"


def no_children_reason(*, viewer) -> str:
    """Why a guardian sees no child on their home, in words that are true for them:

    - ``NOT_LINKED``: the school has linked no current pupil to them (yet);
    - ``CONSENT_NEEDED``: every link is a step-parent's or other carer's without the custodial
      parents' consent (access *none*): they may be given information once those agree;
    - ``NO_INFORMATION``: any other link the school gives no information through (a court
      order, or no access for a parent): the school cannot inform them here.

    It never says which child, nor whether a court order is the reason.
    """
    hidden = set(
        GuardianRelation.objects.filter(guardian__user=viewer, pupil__left_on__isnull=True)
        .exclude(access__in=access.VIEW_ACCESS)
        .values_list("kind", "access")
    )
    if not hidden:
        return NOT_LINKED
    carers = (access.Kind.STEP_PARENT, access.Kind.CARER)
    if all(kind in carers and acc == access.Access.NONE for kind, acc in hidden):
        return CONSENT_NEEDED
    return NO_INFORMATION


def _weekdays() -> list[tuple[str, str, str]]:
    return [
        ("works_monday", _("Mon"), _("Monday")),
        ("works_tuesday", _("Tue"), _("Tuesday")),
        ("works_wednesday", _("Wed"), _("Wednesday")),
        ("works_thursday", _("Thu"), _("Thursday")),
        ("works_friday", _("Fri"), _("Friday")),
    ]


def group_summaries_for(*, viewer) -> list[Group]:
    """The school's groups with ``pupil_count`` (current pupils) and their teachers, no pupils.

    Each teacher carries ``weekday_flags``: (works, short name, name) per weekday, for the
    inline markup of ``dashboard/_group_summary.html``. Three queries, whatever the size.
    """
    staff = access.staff_member_of(viewer)
    if staff is None or not staff.sees_whole_school:
        return []
    groups = list(
        Group.objects.filter(school_id=staff.school_id)
        .select_related("school_year")
        .annotate(pupil_count=Count("pupils", filter=Q(pupils__left_on__isnull=True)))
        .prefetch_related(Prefetch("teachers", queryset=StaffMember.objects.select_related("user")))
        .order_by("year", "name")
    )
    days = _weekdays()
    for group in groups:
        for teacher in group.teachers.all():
            teacher.weekday_flags = [(getattr(teacher, field), short, name) for field, short, name in days]
    return groups


def group_pupils_for(*, viewer, pk: int) -> list[Pupil]:
    """The current pupils of one group the viewer looks after (``access.pupils_in_care_of``).

    404 for a group of another school; a group without pupils gives an empty list.
    """
    staff = access.staff_member_of(viewer)
    if staff is None or not Group.objects.filter(pk=pk, school_id=staff.school_id).exists():
        raise Http404
    return list(
        access.pupils_in_care_of(viewer)
        .filter(group_id=pk)
        .only("pk", "first_name", "last_name")
        .order_by("first_name")
    )
