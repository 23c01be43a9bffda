"""The access rules, checked for every role against every kind of record."""

import pytest
from django.contrib.auth.models import AnonymousUser

from klimop import access
from klimop.models import GuardianRelation
from tests import factories as f

pytestmark = pytest.mark.django_db

Access = GuardianRelation.Access
Kind = GuardianRelation.Kind


@pytest.fixture
def cast(
    school,
    group,
    other_group,
    teacher,
    duo_teacher,
    other_teacher,
    director,
    office,
    child,
    barred_child,
    parent,
    divorced_parent,
    step_parent,
    info_parent,
    barred_parent,
    other_director,
    other_group_elsewhere,
):
    ib = f.StaffMemberFactory(school=school, role="ib", user__email="ib@example.test")
    superuser = f.UserFactory(email="root@example.test", is_superuser=True, is_staff=True)
    return {
        "parent": parent.user,
        "divorced_parent": divorced_parent.user,
        "step_parent": step_parent.user,
        "info_parent": info_parent.user,
        "barred_parent": barred_parent.user,
        "teacher": teacher.user,
        "duo_teacher": duo_teacher.user,
        "other_teacher": other_teacher.user,
        "director": director.user,
        "office": office.user,
        "ib": ib.user,
        "other_director": other_director.user,
        "superuser": superuser,
        "anonymous": AnonymousUser(),
    }


# role -> (sees child in 5a, acts for child, sees barred_child in 6b, sees group 5a)
EXPECTED = {
    "parent": (True, True, False, True),
    "divorced_parent": (True, True, False, True),
    "info_parent": (True, False, False, True),
    "step_parent": (False, False, False, False),
    "barred_parent": (False, False, False, False),
    "teacher": (True, False, False, True),
    "duo_teacher": (True, False, False, True),
    "other_teacher": (False, False, True, False),
    "director": (True, False, True, True),
    "office": (True, False, True, True),
    "ib": (True, False, True, True),
    "other_director": (False, False, False, False),
    "superuser": (True, False, True, True),
    "anonymous": (False, False, False, False),
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_every_role_sees_exactly_what_the_rules_allow(cast, role, child, barred_child, group):
    user = cast[role]
    sees_child, acts, sees_barred, sees_group = EXPECTED[role]
    assert access.can_view_pupil(user, child) is sees_child
    assert access.can_act_for_pupil(user, child) is acts
    assert access.can_view_pupil(user, barred_child) is sees_barred
    assert access.can_view_group(user, group) is sees_group
    # The queryset helpers agree with the predicates.
    visible = set(access.pupils_visible_to(user))
    assert (child in visible) is sees_child
    assert (barred_child in visible) is sees_barred


def test_barred_parent_sees_nothing_of_that_child_and_cannot_act(cast, barred_child):
    user = cast["barred_parent"]
    assert not access.pupils_visible_to(user).exists()
    assert not access.groups_visible_to(user).exists()
    assert not access.can_set_consent_for(user, barred_child)


def test_a_court_order_on_one_child_does_not_hide_a_sibling(cast, barred_parent, group):
    sibling = f.PupilFactory(group=group, first_name="Lot")
    f.GuardianRelationFactory(pupil=sibling, guardian=barred_parent)
    visible = set(access.pupils_visible_to(cast["barred_parent"]))
    assert sibling in visible
    assert len(visible) == 1


def test_step_parent_with_custodial_consent_sees_the_child_but_cannot_set_photo_consent(child, group):
    relation = f.GuardianRelationFactory(pupil=child, kind=Kind.STEP_PARENT, access=Access.FULL)
    user = relation.guardian.user
    assert access.can_view_pupil(user, child)
    assert not access.can_set_consent_for(user, child)


def test_only_parents_with_gezag_set_photo_consent(cast, child):
    assert access.can_set_consent_for(cast["parent"], child)
    assert access.can_set_consent_for(cast["divorced_parent"], child)
    assert not access.can_set_consent_for(cast["info_parent"], child)
    assert not access.can_set_consent_for(cast["teacher"], child)


def test_a_pupil_who_left_is_no_longer_visible_to_parents(cast, child):
    child.left_on = child.group.school_year.starts_on
    child.save()
    assert not access.can_view_pupil(cast["parent"], child)
    assert not access.can_act_for_pupil(cast["parent"], child)


def test_parents_never_see_other_parents_contact_details(cast, parent, divorced_parent, barred_parent):
    assert access.can_view_contact_details(cast["parent"], parent)
    assert not access.can_view_contact_details(cast["parent"], divorced_parent)
    assert not access.can_view_contact_details(cast["divorced_parent"], parent)
    assert not access.can_view_contact_details(cast["parent"], barred_parent)
    assert not access.can_view_contact_details(cast["anonymous"], parent)


def test_staff_see_contact_details_only_for_their_pupils_families(cast, parent, barred_parent):
    assert access.can_view_contact_details(cast["teacher"], parent)
    assert not access.can_view_contact_details(cast["teacher"], barred_parent)
    assert access.can_view_contact_details(cast["other_teacher"], barred_parent)
    assert access.can_view_contact_details(cast["director"], parent)
    assert not access.can_view_contact_details(cast["other_director"], parent)


def test_director_of_another_school_manages_nothing_here(cast, school, other_school):
    assert list(access.schools_managed_by(cast["director"])) == [school]
    assert list(access.schools_managed_by(cast["other_director"])) == [other_school]
    assert not access.schools_managed_by(cast["teacher"]).exists()
    assert not access.schools_managed_by(cast["parent"]).exists()
    assert access.is_school_manager(cast["office"], school)
    assert not access.is_school_manager(cast["office"], other_school)


def test_teacher_and_parent_in_one_person_see_both_worlds(teacher, child, other_group):
    own_child = f.PupilFactory(group=other_group)
    f.GuardianRelationFactory(pupil=own_child, guardian__user=teacher.user)
    visible = set(access.pupils_visible_to(teacher.user))
    assert {child, own_child} <= visible
    assert set(access.pupils_taught_by(teacher.user)) == {child}


def test_an_inactive_account_sees_nothing(cast, child):
    user = cast["parent"]
    user.is_active = False
    user.save()
    assert not access.can_view_pupil(user, child)
