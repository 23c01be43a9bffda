"""Who may do what with absences and leave: named predicates on top of ``klimop.access``.

Nothing here redefines a relation: guardians act for the children
``access.pupils_actable_by`` returns (gezag or granted, not information-only, not
barred, not a step-parent without consent); staff see the pupils of the groups
they teach, directors, the office and the IB-er their whole school.
"""

from __future__ import annotations

from django.db.models import QuerySet

from klimop import access
from klimop.models import Pupil, School, StaffMember


def pupils_in_care_of(user) -> QuerySet[Pupil]:
    """Pupils whose absences a staff member sees and records (``access.pupils_in_care_of``)."""
    return access.pupils_in_care_of(user)


def children_reportable_by(user) -> QuerySet[Pupil]:
    """Children a guardian may report absent or request leave for (not information-only)."""
    return access.pupils_actable_by(user)


def is_staff_for(user, pupil: Pupil) -> bool:
    return pupils_in_care_of(user).filter(pk=pupil.pk).exists()


def may_decide_leave(user, school: School) -> bool:
    """The head of school decides leave (Leerplichtwet art. 13a, 14); administrators may too."""
    if user.is_authenticated and user.is_active and user.is_superuser:
        return True
    staff = access.staff_member_of(user)
    return bool(staff and staff.role == StaffMember.Role.DIRECTOR and staff.school_id == school.pk)


def may_see_school_register(user) -> bool:
    """The absence register of the whole school: director, office, IB-er."""
    staff = access.staff_member_of(user)
    return bool(staff and staff.sees_whole_school)
