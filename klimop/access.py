"""The one module that decides who may see and do what. Every view and service asks here.

Guardians (BW 1:247, 1:377b–c; see docs/agreements.md, "BW: parental authority"):
- a parent *with* gezag and FULL access sees and acts for the child;
- a parent without gezag has information right on request: the school records
  that as ON_REQUEST (information pages only) or FULL once granted;
- a step-parent or other carer sees nothing unless the custodial parents agreed,
  which the school records as FULL (or ON_REQUEST for information only);
- BARRED (court order) and NONE see nothing about that child, whatever the kind.
Staff: teachers see the pupils of the groups they teach; directors, the office
and the care coordinator see their whole school. Nobody but staff of the child's
school and the guardian themself sees a guardian's e-mail address or phone number.

Query helpers return querysets so selectors can compose them; predicates answer
for one object. Both use the same definitions, so they cannot disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard

from django.db.models import Q, QuerySet

from . import memo
from .models import Group, Guardian, GuardianRelation, Pupil, School, StaffMember

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User

Access = GuardianRelation.Access
Kind = GuardianRelation.Kind

#: Access states that let a guardian see information about a child (group page, agenda).
VIEW_ACCESS = (Access.FULL, Access.ON_REQUEST)
#: Access states that let a guardian act for a child (report sick, chat, book, request leave).
ACT_ACCESS = (Access.FULL,)


def _is_authenticated(user: User | AnonymousUser | None) -> TypeGuard[User]:
    return bool(user is not None and user.is_authenticated and user.is_active)


def staff_records_of(user: User | AnonymousUser | None) -> list[StaffMember]:
    """All staff records of a login, one per school (cached on the user for the request)."""
    if not _is_authenticated(user):
        return []
    cached = user.__dict__.get("_klimop_staff_records")
    if cached is None:
        cached = list(StaffMember.objects.filter(user=user).select_related("school").order_by("pk"))
        user.__dict__["_klimop_staff_records"] = cached
    return cached


def staff_member_of(user: User | AnonymousUser | None) -> StaffMember | None:
    """The user's staff record in the school they work in now, or None.

    A person on the staff of two schools works in one at a time: the one chosen in
    the account menu (``klimop_active_school_id``, set from the session by
    ``ActiveSchoolMiddleware``), else the oldest record. Everything a staff member sees and
    does is decided with this record, so two schools never mix on one page.
    """
    records = staff_records_of(user)
    if not records:
        return None
    active = getattr(user, "klimop_active_school_id", None)
    return next((r for r in records if r.school_id == active), records[0])


def guardian_records_of(user: User | AnonymousUser | None) -> list[Guardian]:
    """The guardian records of a login (cached on the user for the request).

    One per school's record of the person: a parent with children at two schools
    of a board has two records, each kept by its school, and one login.
    """
    if not _is_authenticated(user):
        return []
    cached = user.__dict__.get("_klimop_guardian_records")
    if cached is None:
        cached = list(Guardian.objects.filter(user=user).order_by("pk"))
        user.__dict__["_klimop_guardian_records"] = cached
    return cached


def is_guardian(user: User | AnonymousUser | None) -> bool:
    return bool(guardian_records_of(user))


def guardian_for(user: User | AnonymousUser | None, pupil: Pupil) -> Guardian | None:
    """The user's guardian record that relates them to this pupil (for what they do for it)."""
    if not _is_authenticated(user):
        return None
    return Guardian.objects.filter(user=user, relations__pupil=pupil).order_by("pk").first()


def is_staff_user(user) -> bool:
    return staff_member_of(user) is not None


MANAGER_ROLES = (StaffMember.Role.DIRECTOR, StaffMember.Role.OFFICE)


def is_school_manager(user, school: School | None = None) -> bool:
    """Director or office (optionally: of this school). They manage the directory."""
    return any(
        staff.role in MANAGER_ROLES and (school is None or staff.school_id == school.pk)
        for staff in staff_records_of(user)
    )


# --- querysets -------------------------------------------------------------------


def _guardian_pupil_filter(user: User, accesses) -> Q:
    return Q(
        guardian_relations__guardian__user=user,
        guardian_relations__access__in=accesses,
        left_on__isnull=True,
    )


def pupils_visible_to(user) -> QuerySet[Pupil]:
    """Pupils whose name, group and information the user may see."""
    pupils = Pupil.objects.all()
    if not _is_authenticated(user):
        return pupils.none()
    if user.is_superuser:
        return pupils
    q = Q(pk__in=[])
    staff = staff_member_of(user)
    if staff is not None:
        if staff.sees_whole_school:
            q |= Q(school_id=staff.school_id)
        else:
            q |= Q(group__teachers=staff)
    if is_guardian(user):
        q |= _guardian_pupil_filter(user, VIEW_ACCESS)
    return pupils.filter(q).distinct()


def pupils_actable_by(user) -> QuerySet[Pupil]:
    """Pupils a guardian may act for: report sick, chat about, book for, request leave for."""
    if not is_guardian(user):
        return Pupil.objects.none()
    everyone = Pupil.objects.filter(_guardian_pupil_filter(user, ACT_ACCESS)).distinct()
    # Within one page (``klimop.memo``) the children are read once, and every card asks with
    # their ids: a short ``IN`` list instead of the relation joins in each card's query.
    if not memo.active():
        return everyone
    ids = memo.memoised(("pupils_actable_by", user.pk), lambda: list(everyone.values_list("pk", flat=True)))
    return Pupil.objects.filter(pk__in=ids)


def pupils_taught_by(user) -> QuerySet[Pupil]:
    """Pupils in the groups a staff member teaches (not the whole school)."""
    staff = staff_member_of(user)
    if staff is None:
        return Pupil.objects.none()
    return Pupil.objects.filter(group__teachers=staff, left_on__isnull=True).distinct()


def groups_visible_to(user) -> QuerySet[Group]:
    """Groups whose page the user may read."""
    groups = Group.objects.all()
    if not _is_authenticated(user):
        return groups.none()
    if user.is_superuser:
        return groups
    q = Q(pk__in=[])
    staff = staff_member_of(user)
    if staff is not None:
        q |= Q(school_id=staff.school_id) if staff.sees_whole_school else Q(teachers=staff)
    if is_guardian(user):
        q |= Q(
            pupils__guardian_relations__guardian__user=user,
            pupils__guardian_relations__access__in=VIEW_ACCESS,
            pupils__left_on__isnull=True,
        )
    return groups.filter(q).distinct()


def schools_visible_to(user) -> QuerySet[School]:
    schools = School.objects.all()
    if not _is_authenticated(user):
        return schools.none()
    if user.is_superuser:
        return schools
    q = Q(pk__in=[])
    staff = staff_member_of(user)
    if staff is not None:
        q |= Q(pk=staff.school_id)
    if is_guardian(user):
        q |= Q(
            pupils__guardian_relations__guardian__user=user,
            pupils__guardian_relations__access__in=VIEW_ACCESS,
            pupils__left_on__isnull=True,
        )
    return schools.filter(q).distinct()


def schools_managed_by(user) -> QuerySet[School]:
    """Schools whose directory the user may edit in the admin (director, office)."""
    if not _is_authenticated(user):
        return School.objects.none()
    if user.is_superuser:
        return School.objects.all()
    managed = [staff.school_id for staff in staff_records_of(user) if staff.role in MANAGER_ROLES]
    return School.objects.filter(pk__in=managed)


# --- a staff member's scope -------------------------------------------------------------
#
# Decided once, here, for every feature (posts, chats, agenda, planner, absences, privacy):
#
# | role                        | sees (pupils, groups, absences,  | acts for a group (posts, group   |
# |                             | consent lists, register)         | events, group chats, planner)    |
# |-----------------------------|----------------------------------|----------------------------------|
# | teacher                     | the groups they teach            | the groups they teach            |
# | care coordinator (IB-er)    | the whole school                 | none                             |
# | director, office            | the whole school                 | every group of the school        |
#
# The IB-er works with individual children across the school: sees every pupil, records
# and follows up absences and writes to any pupil's parents in a direct chat, but does not
# speak for a group (its page, its agenda, its group chat, its conversation slots): that
# is the group's teachers' and the management's. Nobody acts for another school's group.


def pupils_in_care_of(user) -> QuerySet[Pupil]:
    """Current pupils a staff member looks after: their groups', or the whole school's."""
    staff = staff_member_of(user)
    if staff is None:
        return Pupil.objects.none()
    if staff.sees_whole_school:
        return Pupil.objects.filter(school_id=staff.school_id, left_on__isnull=True)
    return pupils_taught_by(user)


def groups_acted_for_by(user) -> QuerySet[Group]:
    """Groups a staff member speaks for: posts, group events, group chats, the planner."""
    staff = staff_member_of(user)
    if staff is None or staff.role == StaffMember.Role.CARE_COORDINATOR:
        return Group.objects.none()
    if staff.role in MANAGER_ROLES:
        return Group.objects.filter(school_id=staff.school_id)
    return Group.objects.filter(teachers=staff)


def may_act_for_group(user, group: Group) -> bool:
    return groups_acted_for_by(user).filter(pk=group.pk).exists()


# --- predicates --------------------------------------------------------------------


def can_view_pupil(user, pupil: Pupil) -> bool:
    return pupils_visible_to(user).filter(pk=pupil.pk).exists()


def can_act_for_pupil(user, pupil: Pupil) -> bool:
    return pupils_actable_by(user).filter(pk=pupil.pk).exists()


def can_set_consent_for(user, pupil: Pupil) -> bool:
    """Photo consent for a child under 16 comes from the parents with gezag (AVG art. 8)."""
    if not is_guardian(user) or pupil.left_on is not None:
        return False
    return GuardianRelation.objects.filter(
        guardian__user=user, pupil=pupil, kind=Kind.PARENT_WITH_AUTHORITY, access=Access.FULL
    ).exists()


def can_view_group(user, group: Group) -> bool:
    return groups_visible_to(user).filter(pk=group.pk).exists()


def can_view_contact_details(user, guardian: Guardian) -> bool:
    """E-mail and phone of a guardian: themself, and staff of a school their child attends.

    Parents never see another parent's contact details, not even the other parent
    of their own child: they reach each other through the portal.
    """
    if not _is_authenticated(user):
        return False
    if user.is_superuser:
        return True
    if guardian.user_id is not None and guardian.user_id == user.pk:
        return True
    staff = staff_member_of(user)
    if staff is None:
        return False
    pupils = Pupil.objects.filter(guardian_relations__guardian=guardian)
    if staff.sees_whole_school:
        return pupils.filter(school_id=staff.school_id).exists()
    return pupils.filter(group__teachers=staff).exists()


# --- logins: whose are they? --------------------------------------------------------


def login_school_ids(user: User) -> set[int]:
    """The schools whose directory holds a record of this login (staff, or a child's guardian)."""
    if user.pk is None:
        return set()
    schools = set(StaffMember.objects.filter(user=user).values_list("school_id", flat=True))
    schools |= set(
        GuardianRelation.objects.filter(guardian__user=user).values_list("pupil__school_id", flat=True)
    )
    return schools


def may_manage_login(actor, user: User) -> bool:
    """May a school manager set this login's name and e-mail address for the person?

    A login belongs to its owner: the address is where a password reset goes, so
    whoever may change it may take the account over. A director or the office
    prepares the login of someone new to their school (a typo in the address
    before the invitation is used), and nothing more:

    - never an administrator's login, nor one that has ever signed in (from then
      on only the person changes their name, address and password);
    - only while every school that holds a record of the person is one the
      manager manages (a parent with a child at another school of the board is
      that school's person too), and at least one does;
    - a new, unsaved login is the manager's to fill in.

    Administrators (superusers) may do everything. Nobody may set a password for
    someone else; invitations only send the owner a link to their own mailbox.
    """
    if not _is_authenticated(actor):
        return False
    if user.pk is None:
        return True
    if actor.is_superuser:
        return True
    if user.is_superuser or user.last_login is not None:
        return False
    schools = login_school_ids(user)
    managed = set(schools_managed_by(actor).values_list("pk", flat=True))
    return bool(schools) and schools <= managed


def may_edit_guardian_details(actor, guardian: Guardian) -> bool:
    """May a manager change a guardian record's name, e-mail address or phone?

    A guardian record is a school's record of a person (one login may have a record
    at each school of their children). The school changes it only while it is the
    record's only school and the person has not signed in: from then on they keep
    their own details current, and a new address is used once they confirm it.
    """
    if not _is_authenticated(actor):
        return False
    if actor.is_superuser:
        return True
    if guardian.pk is None:
        return True
    user = guardian.user
    if user is not None and (user.last_login is not None or user.is_superuser):
        return False
    schools = set(
        GuardianRelation.objects.filter(guardian=guardian).values_list("pupil__school_id", flat=True)
    )
    managed = set(schools_managed_by(actor).values_list("pk", flat=True))
    return schools <= managed
