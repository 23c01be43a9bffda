"""A login is its owner's: no school manager renames, re-addresses or resets someone else's.

The takeover that was possible: the director of school B adds a staff member with the
e-mail address of a parent of school A; the form linked that login to B's new staff
member and renamed it, and changing the staff member's address then changed the parent's
login address, so a password reset went to the attacker. Each step is refused now.
"""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from klimop import access, services
from klimop.models import Guardian, StaffMember
from tests import factories as f

pytestmark = pytest.mark.django_db


def url(model: str, view: str = "changelist", *args) -> str:
    return reverse(f"admin:klimop_{model}_{view}", args=args)


def login(client, staff):
    staff.user.language = "en"
    staff.user.save(update_fields=["language"])
    client.force_login(staff.user)


def add_staff(client, email, **extra):
    return client.post(
        url("staffmember", "add"),
        {
            "external_id": "AANVAL",
            "email": email,
            "first_name": "Aan",
            "last_name": "Valler",
            "role": "director",
            **extra,
        },
    )


@pytest.mark.parametrize("signed_in", [False, True], ids=["never-signed-in", "signed-in"])
def test_the_takeover_of_another_schools_parent_fails_at_the_first_step(
    client, parent, child, other_director, signed_in, django_capture_on_commit_callbacks
):
    user = parent.user
    if signed_in:
        user.last_login = user.date_joined
        user.save()
    name_before = (user.first_name, user.last_name, user.email, user.password)
    login(client, other_director)

    # Step 1: a staff member of school B with the parent's address. B may add its own
    # record to the person's login (one person, one login), but not rename it.
    with django_capture_on_commit_callbacks(execute=True):
        add_staff(client, user.email.upper())
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email, user.password) == name_before
    linked = StaffMember.objects.filter(school=other_director.school, user=user).first()
    assert linked is not None
    # The person is told, and gets no password link: nobody but them sets it.
    (notice,) = mail.outbox
    assert notice.to == [user.email]
    assert "/accounts/password/reset/key/" not in notice.body

    # Step 2: changing "the staff member's" address would re-address the parent's login.
    response = client.post(
        url("staffmember", "change", linked.pk),
        {
            "external_id": "AANVAL",
            "email": "aanvaller@elders.test",
            "first_name": "Aan",
            "last_name": "Valler",
            "role": "director",
        },
    )
    # The login's fields are read-only in B's form: what was posted for them is ignored.
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email, user.password) == name_before

    # Step 3: a password reset for the attacker's address reaches nobody's account.
    mail.outbox.clear()
    client.post(reverse("account_reset_password"), {"email": "aanvaller@elders.test"})
    assert not [m for m in mail.outbox if "/accounts/password/reset/key/" in m.body]
    # Step 4: the attacker sees nothing of the parent's child.
    assert client.get(reverse("pupil_detail", args=[child.pk])).status_code == 404
    # And an invitation to "their" staff member sends the person no password link either.
    mail.outbox.clear()
    client.post(
        url("staffmember"), {"action": "send_invitation", "_selected_action": [linked.pk], "index": "0"}
    )
    assert not [m for m in mail.outbox if m.to != [user.email]]
    if signed_in:
        assert not mail.outbox  # an invitation is for a login nobody used yet


def test_a_teacher_at_two_schools_keeps_one_login_and_works_in_one_school_at_a_time(
    client, teacher, child, other_director, other_group_elsewhere
):
    login(client, other_director)
    response = add_staff(client, teacher.user.email, role="teacher", groups=[other_group_elsewhere.pk])
    assert response.status_code == 302
    records = StaffMember.objects.filter(user=teacher.user).order_by("pk")
    assert [r.school_id for r in records] == [teacher.school_id, other_director.school_id]
    teacher.user.refresh_from_db()
    assert teacher.user.first_name != "Aan"

    client.force_login(teacher.user)
    # First the school they were at already: their own group's pupil is there.
    assert client.get(reverse("pupil_detail", args=[child.pk])).status_code == 200
    home = client.get(reverse("staff_dashboard")).content.decode()
    assert "Switch to Basisschool Elders" in home or "Wissel naar Basisschool Elders" in home
    # Working in the other school, the first school's pupils are out of sight.
    client.post(reverse("school_switch"), {"school": other_director.school_id})
    assert client.get(reverse("pupil_detail", args=[child.pk])).status_code == 404
    # A school they do not work at cannot be chosen.
    f.SchoolFactory(name="Derde school", slug="derde")
    response = client.post(reverse("school_switch"), {"school": 999999}, follow=True)
    assert response.status_code == 200
    client.post(reverse("school_switch"), {"school": teacher.school_id})
    assert client.get(reverse("pupil_detail", args=[child.pk])).status_code == 200


def test_a_signed_in_staff_members_name_and_address_are_read_only_in_the_form(client, director, teacher):
    teacher.user.last_login = teacher.user.date_joined
    teacher.user.save()
    login(client, director)
    form = client.get(url("staffmember", "change", teacher.pk)).context["adminform"].form
    assert all(form.fields[n].disabled for n in ("email", "first_name", "last_name"))
    client.post(
        url("staffmember", "change", teacher.pk),
        {
            "school": teacher.school_id,
            "external_id": teacher.external_id,
            "role": "teacher",
            "email": "nieuw@example.test",
            "first_name": "Nieuwe",
            "last_name": "Naam",
        },
    )
    teacher.user.refresh_from_db()
    assert teacher.user.email == "teacher@example.test"
    assert teacher.user.first_name != "Nieuwe"


def test_a_never_used_login_of_the_own_school_can_still_be_corrected(client, director, teacher):
    login(client, director)
    response = client.post(
        url("staffmember", "change", teacher.pk),
        {
            "school": teacher.school_id,
            "external_id": teacher.external_id,
            "role": "teacher",
            "email": "Typo.Hersteld@example.test",
            "first_name": "Marit",
            "last_name": "Jansen",
            "groups": [g.pk for g in teacher.groups.all()],
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    teacher.user.refresh_from_db()
    assert (teacher.user.email, teacher.user.last_name) == ("typo.hersteld@example.test", "Jansen")


def test_a_guardian_shared_with_another_school_is_read_only_for_each_school(
    client, director, parent, other_director, other_group_elsewhere
):
    f.GuardianRelationFactory(guardian=parent, pupil=f.PupilFactory(group=other_group_elsewhere))
    assert not access.may_edit_guardian_details(other_director.user, parent)
    assert not access.may_edit_guardian_details(director.user, parent)
    login(client, other_director)
    response = client.get(url("guardian", "change", parent.pk))
    assert response.status_code == 200
    assert "email" not in response.context["adminform"].form.fields
    client.post(
        url("guardian", "change", parent.pk),
        {
            "first_name": "Over",
            "last_name": "Genomen",
            "email": "aanvaller@elders.test",
            "relations-TOTAL_FORMS": "0",
            "relations-INITIAL_FORMS": "0",
        },
    )
    parent.refresh_from_db()
    assert (parent.first_name, parent.email) != ("Over", "aanvaller@elders.test")
    assert parent.email == "parent@example.test"


def test_a_guardian_who_signed_in_keeps_their_own_details_and_gets_no_new_invitation(
    director, parent, django_capture_on_commit_callbacks
):
    parent.user.last_login = parent.user.date_joined
    parent.user.save()
    assert not access.may_edit_guardian_details(director.user, parent)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as e:
        services.guardian_invite(actor=director.user, guardian=parent)
    assert "heeft al eens ingelogd" in e.value.messages[0]
    assert not mail.outbox


def test_a_school_adds_its_guardian_record_to_an_existing_login_and_the_person_is_told(
    director, child, teacher, django_capture_on_commit_callbacks
):
    """A teacher who is also a parent at the school keeps one login."""
    teacher.user.set_password("een-eigen-wachtwoord-42")
    teacher.user.last_login = teacher.user.date_joined
    teacher.user.save()
    guardian = f.GuardianFactory(user=None, email=teacher.user.email, first_name="Marit", last_name="Ouder")
    f.GuardianRelationFactory(guardian=guardian, pupil=child)
    with django_capture_on_commit_callbacks(execute=True):
        user = services.guardian_invite(actor=director.user, guardian=guardian)
    assert user == teacher.user
    assert Guardian.objects.get(pk=guardian.pk).user == teacher.user
    (notice,) = mail.outbox
    assert "/accounts/password/reset/key/" not in notice.body
    assert teacher.user.email in notice.body
    user.refresh_from_db()
    assert user.check_password("een-eigen-wachtwoord-42")


def test_a_parent_at_two_schools_keeps_one_login_with_a_record_at_each(
    client,
    child,
    parent,
    other_director,
    other_group_elsewhere,
    django_capture_on_commit_callbacks,
):
    parent.user.set_password("een-eigen-wachtwoord-42")
    parent.user.last_login = parent.user.date_joined
    parent.user.save()
    elsewhere = f.PupilFactory(group=other_group_elsewhere, first_name="Lotte", last_name="Elders")
    record = f.GuardianFactory(
        user=None, email=parent.user.email.upper(), first_name="P", last_name="Elders", external_id="ELDERS-1"
    )
    f.GuardianRelationFactory(guardian=record, pupil=elsewhere)
    login(client, other_director)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("guardian"),
            {
                "action": "send_invitation",
                "_selected_action": [record.pk],
                "index": "0",
            },
            follow=True,
        )
    assert response.status_code == 200
    record.refresh_from_db()
    assert record.user == parent.user
    # Told, not reset: the login, its name and password stay the person's own.
    (notice,) = mail.outbox
    assert "/accounts/password/reset/key/" not in notice.body
    parent.user.refresh_from_db()
    assert parent.user.check_password("een-eigen-wachtwoord-42")
    assert parent.user.last_name != "Elders"
    # One login, both children, each school's record kept by that school.
    client.force_login(parent.user)
    assert set(access.pupils_visible_to(parent.user)) == {child, elsewhere}
    home = client.get(reverse("home")).content.decode()
    assert "Lotte" in home
    assert child.first_name in home
    assert not access.may_edit_guardian_details(other_director.user, parent)


def test_only_the_school_of_every_record_may_prepare_a_login(
    director, other_director, parent, teacher, superuser_user
):
    assert access.may_manage_login(director.user, teacher.user)
    assert access.may_manage_login(director.user, parent.user)
    assert not access.may_manage_login(other_director.user, parent.user)
    assert not access.may_manage_login(director.user, superuser_user)
    assert not access.may_manage_login(teacher.user, parent.user)
    assert access.may_manage_login(superuser_user, parent.user)
    parent.user.last_login = parent.user.date_joined
    assert not access.may_manage_login(director.user, parent.user)


@pytest.fixture
def superuser_user(db):
    return f.UserFactory(email="root@example.test", is_superuser=True, is_staff=True)


# --- the person changes their own name and login address -------------------------------------


def test_a_person_changes_the_name_on_their_own_login(client, parent):
    client.force_login(parent.user)
    response = client.post(
        reverse("my_name"), {"first_name": "Anna\u202e", "last_name": "de Boer"}, follow=True
    )
    assert response.status_code == 200
    parent.user.refresh_from_db()
    assert (parent.user.first_name, parent.user.last_name) == ("Anna", "de Boer")


def test_an_empty_name_is_refused_and_what_was_typed_is_kept(client, parent):
    client.force_login(parent.user)
    before = parent.user.last_name
    response = client.post(reverse("my_name"), {"first_name": "Anna", "last_name": ""})
    assert response.status_code == 200
    assert 'value="Anna"' in response.content.decode()
    parent.user.refresh_from_db()
    assert parent.user.last_name == before


def test_a_new_login_address_replaces_the_old_only_once_confirmed_from_its_mailbox(
    client, parent, mailoutbox, django_capture_on_commit_callbacks
):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=parent.user, email=parent.user.email, primary=True, verified=True)
    client.force_login(parent.user)
    assert client.get(reverse("account_email")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        client.post(reverse("account_email"), {"action_add": "", "email": "nieuw@example.test"})
    parent.user.refresh_from_db()
    assert parent.user.email == "parent@example.test"
    (mail_,) = [m for m in mailoutbox if m.to == ["nieuw@example.test"]]
    key = mail_.body.split("/accounts/confirm-email/")[1].split("/")[0]
    client.post(reverse("account_confirm_email", args=[key]))
    parent.user.refresh_from_db()
    assert parent.user.email == "nieuw@example.test"
    assert not EmailAddress.objects.filter(user=parent.user, email="parent@example.test").exists()
