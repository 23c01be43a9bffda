"""Every rule of the access module against every role: one table, decided once.

The rows are the roles of the cast (tests/conftest.py); the columns the predicates every
feature builds on. The care coordinator (IB-er) sees the whole school and cares for every
pupil, but speaks for no group (klimop/access.py, "a staff member's scope").
"""

import pytest

from klimop import access
from klimop.models import StaffMember
from tests import factories as f

pytestmark = pytest.mark.django_db

Y, N = True, False

COLUMNS = (
    "view_pupil",
    "act_for_pupil",
    "set_consent",
    "view_group",
    "pupil_in_care",
    "act_for_group",
    "act_for_other_group",
    "manager",
    "contact_details",
    "prepare_login",
)

TABLE = {
    #                   view act  cons grp  care actg oth  mgr  cont login
    "anonymous": (N, N, N, N, N, N, N, N, N, N),
    "parent": (Y, Y, Y, Y, N, N, N, N, Y, N),
    "other_parent": (N, N, N, N, N, N, N, N, N, N),
    "info_parent": (Y, N, N, Y, N, N, N, N, N, N),
    "step_parent": (N, N, N, N, N, N, N, N, N, N),
    "barred_parent": (N, N, N, N, N, N, N, N, N, N),
    "teacher": (Y, N, N, Y, Y, Y, N, N, Y, N),
    "duo_teacher": (Y, N, N, Y, Y, Y, N, N, Y, N),
    "other_teacher": (N, N, N, N, N, N, Y, N, N, N),
    "care_coordinator": (Y, N, N, Y, Y, N, N, N, Y, N),
    "office": (Y, N, N, Y, Y, Y, Y, Y, Y, Y),
    "director": (Y, N, N, Y, Y, Y, Y, Y, Y, Y),
    "other_director": (N, N, N, N, N, N, N, N, N, N),
}


@pytest.fixture
def cast(
    request,
    school,
    group,
    other_group,
    child,
    parent,
    info_parent,
    step_parent,
    barred_parent,
    teacher,
    duo_teacher,
    other_teacher,
    office,
    director,
    other_director,
):
    other_child = f.PupilFactory(group=other_group, first_name="Ander", last_name="Kind")
    other_parent = f.GuardianRelationFactory(pupil=other_child).guardian
    coordinator = f.StaffMemberFactory(school=school, role=StaffMember.Role.CARE_COORDINATOR)
    people = {
        "anonymous": None,
        "parent": parent,
        "other_parent": other_parent,
        "info_parent": info_parent,
        "step_parent": step_parent,
        "barred_parent": barred_parent,
        "teacher": teacher,
        "duo_teacher": duo_teacher,
        "other_teacher": other_teacher,
        "care_coordinator": coordinator,
        "office": office,
        "director": director,
        "other_director": other_director,
    }
    from django.contrib.auth.models import AnonymousUser

    users = {role: (p.user if p is not None else AnonymousUser()) for role, p in people.items()}
    return {
        "users": users,
        "school": school,
        "group": group,
        "other_group": other_group,
        "child": child,
        "parent": parent,
    }


def answers(user, c) -> tuple[bool, ...]:
    child, group = c["child"], c["group"]
    return (
        access.can_view_pupil(user, child),
        access.can_act_for_pupil(user, child),
        access.can_set_consent_for(user, child),
        access.can_view_group(user, group),
        access.pupils_in_care_of(user).filter(pk=child.pk).exists(),
        access.may_act_for_group(user, group),
        access.may_act_for_group(user, c["other_group"]),
        access.is_school_manager(user, c["school"]),
        access.can_view_contact_details(user, c["parent"]),
        user.is_authenticated and access.may_manage_login(user, c["parent"].user),
    )


def test_every_predicate_for_every_role(cast):
    wrong = {}
    for role, expected in TABLE.items():
        got = answers(cast["users"][role], cast)
        if got != expected:
            wrong[role] = {c: (e, g) for c, e, g in zip(COLUMNS, expected, got, strict=True) if e != g}
    assert not wrong, f"(expected, got) per role and rule: {wrong}"


def test_the_features_use_the_one_definition_of_a_staff_members_groups(cast):
    """Posts, the agenda, group chats and the planner ask the access module, so they agree."""
    from communication.agenda import services as agenda
    from communication.chats import services as chats
    from communication.posts import services as posts
    from conversations import rules as planner_rules

    for role, user in cast["users"].items():
        for group in (cast["group"], cast["other_group"]):
            expected = access.may_act_for_group(user, group) if user.is_authenticated else False
            answers_ = {
                "post": posts.may_post_to_group(user, group),
                "event": agenda.can_plan_for(user, group),
                "group chat": chats.may_start_group_conversation(user, group),
                "planner": planner_rules.may_manage_group(user, group),
            }
            assert set(answers_.values()) == {expected}, (role, group.name, answers_)
