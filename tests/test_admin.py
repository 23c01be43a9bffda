"""The admin for directors and the office: their own school only, no entry for anyone else."""

import re
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from absences.models import AbsenceSettings
from communication.chats.models import ChatSettings
from conversations.models import PlannerSettings
from klimop import admin as klimop_admin
from klimop.models import (
    Group,
    Guardian,
    GuardianRelation,
    NonSchoolDay,
    Pupil,
    School,
    StaffMember,
    User,
)
from tests import factories as f

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "import"


def url(model: str, view: str = "changelist", *args) -> str:
    return reverse(f"admin:klimop_{model}_{view}", args=args)


def login(client, staff_or_guardian):
    """Sign in with English as the user's language, so assertions read the same always."""
    user = staff_or_guardian.user
    user.language = "en"
    user.save(update_fields=["language"])
    client.force_login(user)
    return client


@pytest.fixture
def superuser(db):
    return f.UserFactory(email="root@example.test", is_superuser=True, is_staff=True, language="en")


@pytest.fixture
def pupil_elsewhere(other_group_elsewhere):
    return f.PupilFactory(
        group=other_group_elsewhere,
        first_name="Vreemd",
        last_name="Anderschool",
        external_id="X1",
    )


# --- who gets in ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["director", "office"])
def test_directors_and_the_office_enter_the_admin_without_the_staff_flag(client, request, role):
    manager = request.getfixturevalue(role)
    assert not manager.user.is_staff

    response = login(client, manager).get(reverse("admin:index"))

    assert response.status_code == 200
    assert url("pupil") in response.content.decode()
    assert reverse("admin:klimop_user_changelist") not in response.content.decode()


@pytest.mark.parametrize("role", ["teacher", "parent"])
def test_teachers_and_parents_get_no_admin(client, request, role):
    login(client, request.getfixturevalue(role))

    response = client.get(url("pupil"), follow=True)

    assert response.status_code == 403
    assert client.get(reverse("admin:index"), follow=True).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_portal_login(client, db):
    response = client.get(url("pupil"), follow=True)

    last_url, _ = response.redirect_chain[-1]
    assert last_url.startswith(reverse("account_login"))
    assert "next=" in last_url


def test_a_former_director_gets_no_admin(client, director):
    director.user.is_active = False
    director.user.save()
    client.force_login(director.user)

    assert client.get(url("pupil")).status_code == 302


# --- their own school only --------------------------------------------------------------------


def test_the_pupil_list_shows_only_the_directors_school(
    client, director, child, barred_child, pupil_elsewhere
):
    response = login(client, director).get(url("pupil"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Noor" in html
    assert "Sem" in html
    assert "Anderschool" not in html


def test_another_schools_pupil_is_not_found(client, director, pupil_elsewhere):
    login(client, director)

    response = client.get(url("pupil", "change", pupil_elsewhere.pk))

    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert response["Location"] == reverse("admin:index")
    assert client.get(url("pupil", "delete", pupil_elsewhere.pk)).status_code == 302
    assert Pupil.objects.filter(pk=pupil_elsewhere.pk).exists()


def test_another_schools_guardian_and_staff_are_absent(
    client, director, parent, other_director, pupil_elsewhere
):
    theirs = f.GuardianRelationFactory(pupil=pupil_elsewhere, guardian__last_name="Buitenstaander")
    login(client, director)

    guardians = client.get(url("guardian")).content.decode()
    staff = client.get(url("staffmember")).content.decode()

    assert parent.last_name in guardians
    assert "Buitenstaander" not in guardians
    assert "elders@example.test" not in staff
    assert "director@example.test" in staff
    assert client.get(url("guardian", "change", theirs.guardian.pk)).status_code == 302


def test_choices_in_forms_are_limited_to_the_school(client, director, group, other_group_elsewhere, school):
    response = login(client, director).get(url("pupil", "add"))

    form = response.context["adminform"].form
    assert list(form.fields["group"].queryset) == [group]
    assert list(form.fields["school"].queryset) == [school]
    assert form.fields["school"].disabled


def test_a_pupil_cannot_be_saved_into_another_school(client, director, other_school, other_group_elsewhere):
    login(client, director)

    response = client.post(
        url("pupil", "add"),
        {
            "school": other_school.pk,
            "group": other_group_elsewhere.pk,
            "external_id": "P9",
            "first_name": "Indringer",
            "last_name": "Test",
            "guardian_relations-TOTAL_FORMS": 0,
            "guardian_relations-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 200  # the form again, with errors
    pupil = Pupil.objects.filter(first_name="Indringer").first()
    assert pupil is None or pupil.school_id != other_school.pk
    assert not Pupil.objects.filter(school=other_school, first_name="Indringer").exists()


def test_a_director_adds_a_pupil_to_their_own_school(client, director, group, school):
    login(client, director)

    response = client.post(
        url("pupil", "add"),
        {
            "group": group.pk,
            "external_id": "P9",
            "first_name": "Lotte",
            "last_name": "Test",
            "guardian_relations-TOTAL_FORMS": 0,
            "guardian_relations-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Pupil.objects.get(first_name="Lotte").school == school


def test_a_director_adds_a_guardian_with_a_child_of_the_school(client, director, child):
    login(client, director)

    response = client.post(
        url("guardian", "add"),
        {
            "external_id": "O77",
            "first_name": "Marloes",
            "last_name": "Jansen",
            "email": "marloes@example.test",
            "phone": "",
            "relations-TOTAL_FORMS": 1,
            "relations-INITIAL_FORMS": 0,
            "relations-0-pupil": child.pk,
            "relations-0-kind": "parent",
            "relations-0-access": "full",
        },
    )

    assert response.status_code == 302
    guardian = Guardian.objects.get(external_id="O77")
    assert list(guardian.pupils.all()) == [child]
    assert guardian.user is None  # the invitation makes the login


def test_the_pupil_search_of_a_form_finds_only_the_schools_pupils(client, director, child, pupil_elsewhere):
    login(client, director)

    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "klimop",
            "model_name": "guardianrelation",
            "field_name": "pupil",
            "term": "",
        },
    )

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(child.pk)]


def test_a_guardian_with_a_child_at_another_school_is_not_deleted_by_one_school(
    client, director, parent, pupil_elsewhere
):
    f.GuardianRelationFactory(guardian=parent, pupil=pupil_elsewhere)
    login(client, director)

    response = client.post(url("guardian", "delete", parent.pk), {"post": "yes"})

    assert response.status_code == 403
    assert Guardian.objects.filter(pk=parent.pk).exists()
    change = client.get(url("guardian", "change", parent.pk)).content.decode()
    assert "Anderschool" not in change  # their other child is not shown either


def test_the_school_settings_are_the_directors_to_change_but_not_to_add(
    client, director, school, other_school
):
    login(client, director)

    assert client.get(url("school", "change", school.pk)).status_code == 200
    assert client.get(url("school", "change", other_school.pk)).status_code == 302
    assert client.get(url("school", "add")).status_code == 403
    assert list(client.get(url("school")).context["cl"].queryset) == [school]


def form_data(response) -> dict:
    """What the change form would post unchanged: the form and its inlines' initial values."""
    data = {}

    def add(form):
        for name, field in form.fields.items():
            value = form[name].value()
            if field.disabled or value is None or value is False:
                continue
            data[form.add_prefix(name)] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(
            {
                f"{formset.prefix}-TOTAL_FORMS": len(formset.forms),
                f"{formset.prefix}-INITIAL_FORMS": formset.initial_form_count(),
            }
        )
        for form in formset.forms:
            add(form)
    return data


def test_a_director_changes_the_schools_agreements(client, director, school):
    login(client, director)
    change = url("school", "change", school.pk)
    data = form_data(client.get(change))
    data.update({"sick_report_cutoff": "08:15", "planner_settings-0-child_attends_years": ["8", "6", "7"]})

    response = client.post(change, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    school.refresh_from_db()
    assert str(school.sick_report_cutoff) == "08:15:00"
    assert PlannerSettings.objects.get(school=school).child_attends_years == [6, 7, 8]
    assert school.office_hours.count() == 5
    assert school.slug == "testveld"


def test_a_director_changes_feature_settings_on_the_schools_page(client, director, school):
    """A changed box makes the feature's row; an unchanged one makes none (its defaults apply)."""
    login(client, director)
    change = url("school", "change", school.pk)
    data = form_data(client.get(change))
    data.update(
        {
            "absence_settings-0-sickness_follow_up_school_days": "4",
            "planner_settings-0-conversations_end_by": "20:30",
        }
    )
    data.pop("absence_settings-0-sick_reports_via_portal")

    response = client.post(change, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    absence = AbsenceSettings.objects.get(school=school)
    assert (absence.sickness_follow_up_school_days, absence.sick_reports_via_portal) == (4, False)
    planner = PlannerSettings.objects.get(school=school)
    assert str(planner.conversations_end_by) == "20:30:00"
    assert planner.child_attends_years == [5, 6, 7, 8]
    assert not ChatSettings.objects.filter(school=school).exists()


def test_only_administrators_manage_logins(client, director, superuser):
    login(client, director)
    assert client.get(reverse("admin:klimop_user_changelist")).status_code == 403

    client.force_login(superuser)
    assert client.get(reverse("admin:klimop_user_changelist")).status_code == 200
    response = client.post(
        reverse("admin:klimop_user_add"),
        {
            "email": "Nieuw@Example.test",
            "usable_password": "false",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not User.objects.get(email="nieuw@example.test").has_usable_password()


def test_an_administrator_sees_every_school(client, superuser, child, pupil_elsewhere):
    client.force_login(superuser)

    html = client.get(url("pupil")).content.decode()

    assert "Noor" in html
    assert "Anderschool" in html


def test_the_pupil_list_costs_the_same_for_3_or_30_pupils(
    client, director, group, django_assert_max_num_queries
):
    login(client, director)

    def queries_for(n):
        for _ in range(n - Pupil.objects.count()):
            f.GuardianRelationFactory(pupil__group=group)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("pupil")).status_code == 200
        return len(ctx.captured_queries)

    few = queries_for(3)
    with django_assert_max_num_queries(few):
        client.get(url("pupil"))
    assert queries_for(30) == few
    with django_assert_max_num_queries(few):
        assert client.get(url("pupil")).status_code == 200


@pytest.mark.parametrize("model", ["group", "guardian", "staffmember", "schoolyear"])
def test_other_lists_cost_the_same_for_more_rows(
    client, director, school_year, model, django_assert_max_num_queries
):
    login(client, director)

    years = iter(range(2000, 2100))

    def add_rows(n):
        for _ in range(n):
            group = f.GroupFactory(school_year=school_year)
            f.GuardianRelationFactory(pupil__group=group)
            f.StaffMemberFactory(school=director.school, groups=[group])
            year = next(years)
            f.SchoolYearFactory(school=director.school, name=f"{year}/{year + 1}")

    add_rows(2)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url(model)).status_code == 200
    add_rows(10)
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        assert client.get(url(model)).status_code == 200


# --- actions ----------------------------------------------------------------------------------


def test_send_invitation_to_guardians(client, director, parent, child, django_capture_on_commit_callbacks):
    no_email = f.GuardianRelationFactory(
        pupil=child,
        guardian__user=None,
        guardian__email="",
        guardian__first_name="Zonder",
        guardian__last_name="Adres",
    )
    login(client, director)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("guardian"),
            {
                "action": "send_invitation",
                "_selected_action": [parent.pk, no_email.guardian.pk],
            },
            follow=True,
        )

    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert "1 invitation sent." in texts
    assert "1 skipped: no e-mail address." in texts
    assert [m.to for m in mail.outbox] == [["parent@example.test"]]
    parent.user.refresh_from_db()
    assert parent.user.invited_at is not None


def test_send_invitation_to_staff(client, office, teacher, django_capture_on_commit_callbacks):
    login(client, office)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("staffmember"),
            {
                "action": "send_invitation",
                "_selected_action": [teacher.pk],
            },
            follow=True,
        )

    assert "1 invitation sent." in [str(m) for m in get_messages(response.wsgi_request)]
    assert [m.to for m in mail.outbox] == [["teacher@example.test"]]


def test_fill_in_holidays_from_the_national_calendar(client, director, school_year):
    login(client, director)

    response = client.post(
        url("schoolyear"),
        {
            "action": "fill_in_holidays",
            "_selected_action": [school_year.pk],
        },
        follow=True,
    )

    added = NonSchoolDay.objects.filter(school=school_year.school).count()
    assert added > 10  # autumn, Christmas, spring and May holidays, Easter, ...
    assert f"{added} days without school added." in [str(m) for m in get_messages(response.wsgi_request)]
    assert str(added) in client.get(url("schoolyear")).content.decode()


def test_a_director_adds_a_staff_member_with_their_login(client, director, group, school):
    login(client, director)

    response = client.post(
        url("staffmember", "add"),
        {
            "external_id": "M77",
            "email": "Nieuw@Example.test",
            "first_name": "Fenna",
            "last_name": "de Vries",
            "role": "teacher",
            "groups": [group.pk],
            "works_monday": "on",
            "works_tuesday": "on",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    staff = StaffMember.objects.get(external_id="M77")
    assert (staff.school, staff.user.email, staff.working_weekdays) == (school, "nieuw@example.test", {0, 1})
    assert not staff.user.has_usable_password()


def test_a_staff_member_cannot_teach_another_schools_group(client, superuser, school, other_group_elsewhere):
    client.force_login(superuser)

    response = client.post(
        url("staffmember", "add"),
        {
            "school": school.pk,
            "external_id": "M78",
            "email": "m78@example.test",
            "first_name": "A",
            "last_name": "B",
            "role": "teacher",
            "groups": [other_group_elsewhere.pk],
        },
    )

    assert response.status_code == 200
    assert "different schools" in response.content.decode()
    assert not StaffMember.objects.filter(external_id="M78").exists()


# --- import through the admin -----------------------------------------------------------------


def upload(name: str, text: str):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_the_import_dry_run_lists_the_bad_rows_and_offers_no_confirm(client, director, school_year):
    login(client, director)
    text = "external_id,name,year\nG1,1a,1\nG2,9a,9\n"

    response = client.post(
        url("group", "import"),
        {
            "format": "0",
            "import_file": upload("groups.csv", text),
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Some rows failed to validate" in html
    assert "The year group must be a number from 1 to 8, not “9”." in html
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert not Group.objects.exists()


def test_the_import_dry_run_then_confirm_imports_into_the_directors_school(
    client, director, school, school_year, other_school
):
    login(client, director)

    response = client.post(
        url("group", "import"),
        {
            "format": "0",
            "import_file": upload("groups.csv", (SAMPLES / "groups.csv").read_text()),
        },
    )

    confirm = response.context["confirm_form"]
    assert confirm is not None
    assert not Group.objects.exists()  # the dry run saved nothing
    data = {name: field.value() for name, field in ((n, confirm[n]) for n in confirm.fields)}
    assert str(data["school"]) == str(school.pk)

    response = client.post(url("group", "process_import"), data, follow=True)

    assert response.status_code == 200
    assert set(Group.objects.values_list("school_id", flat=True)) == {school.pk}
    assert Group.objects.count() == 4
    assert any("4 new" in str(m) for m in get_messages(response.wsgi_request))


def test_the_confirm_step_refuses_another_schools_id(client, director, school_year, other_school):
    login(client, director)
    response = client.post(
        url("group", "import"),
        {
            "format": "0",
            "import_file": upload("groups.csv", (SAMPLES / "groups.csv").read_text()),
        },
    )
    confirm = response.context["confirm_form"]
    data = {n: confirm[n].value() for n in confirm.fields}
    data["school"] = other_school.pk

    response = client.post(url("group", "process_import"), data)

    assert response.status_code == 200  # the form again, not an import
    assert not Group.objects.exists()


def test_a_confirm_after_the_data_changed_imports_nothing(client, director, group):
    login(client, director)
    text = "external_id,first_name,last_name,group\nL1,Noa,Jansen,5a\nL2,Tijn,Jansen,5a\n"
    response = client.post(
        url("pupil", "import"),
        {
            "format": "0",
            "import_file": upload("pupils.csv", text),
        },
    )
    confirm = response.context["confirm_form"]
    data = {n: confirm[n].value() for n in confirm.fields}
    group.delete()  # someone removes the group between the preview and the confirm

    response = client.post(url("pupil", "process_import"), data, follow=True)

    assert not Pupil.objects.exists()
    assert any("Nothing was imported" in str(m) for m in get_messages(response.wsgi_request))


def test_all_four_sample_files_import_through_the_admin(client, office, school, school_year):
    login(client, office)

    for model, name in [
        ("group", "groups.csv"),
        ("staffmember", "staff.csv"),
        ("pupil", "pupils.csv"),
        ("guardian", "guardians.csv"),
    ]:
        response = client.post(
            url(model, "import"),
            {
                "format": "0",
                "import_file": upload(name, (SAMPLES / name).read_text()),
            },
        )
        confirm = response.context["confirm_form"]
        assert confirm is not None, (name, response.content.decode()[-3000:])
        data = {n: confirm[n].value() for n in confirm.fields}
        assert client.post(url(model, "process_import"), data).status_code == 302

    assert Pupil.objects.filter(school=school).count() == 5
    assert GuardianRelation.objects.filter(pupil__school=school).count() == 8
    assert Guardian.objects.count() == 6
    assert User.objects.filter(staff_members__school=school).count() == 6 + 1  # + office


def test_the_export_holds_only_the_directors_school(client, director, child, parent, pupil_elsewhere):
    f.GuardianRelationFactory(pupil=pupil_elsewhere, guardian__external_id="ELDERS")
    login(client, director)

    pupils = client.post(
        url("pupil", "export"),
        {"format": "0", "pupilresource_external_id": "on", "pupilresource_last_name": "on"},
    )
    guardians = client.post(
        url("guardian", "export"),
        {
            "format": "0",
            "guardianresource_guardian_external_id": "on",
            "guardianresource_pupil_external_id": "on",
        },
    )

    assert pupils.status_code == guardians.status_code == 200
    assert "Testkind" in pupils.content.decode()
    assert "Anderschool" not in pupils.content.decode()
    assert parent.external_id in guardians.content.decode()
    assert "ELDERS" not in guardians.content.decode()


def test_import_is_not_offered_to_someone_outside_the_admin(client, teacher):
    login(client, teacher)

    assert client.get(url("pupil", "import")).status_code in (302, 403)
    assert School.objects.count() == 1


# --- delete pages --------------------------------------------------------------------------------


def _consent_answers(school_year, group, n: int) -> None:
    """``n`` pupils of ``group``, each with a parent who answered the photo question."""
    from django.utils import timezone

    from klimop.privacy.models import ConsentDecision, ConsentPurpose

    purpose = ConsentPurpose.values[0]
    for _ in range(n):
        relation = f.GuardianRelationFactory(pupil=f.PupilFactory(group=group))
        ConsentDecision.objects.create(
            pupil=relation.pupil,
            guardian=relation.guardian,
            purpose=purpose,
            school_year=school_year,
            granted=True,
            decided_at=timezone.now(),
        )


def test_a_school_years_delete_page_costs_the_same_for_more_consent_answers(
    client, school_year, group, director
):
    """The year's consent answers are the parents' (a director may not delete them): the page
    says so. It names the first hundred objects only, so a year with more answers (each named
    after its pupil and parent) costs no more queries; it used to take seconds."""
    client.force_login(director.user)
    url = reverse("admin:klimop_schoolyear_delete", args=[school_year.pk])
    counts = []
    for more in (klimop_admin.DELETE_PAGE_LINES + 10, 40):
        _consent_answers(school_year, group, more)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url).content.decode()
        counts.append(len(queries))
        assert "Schooljaar kan niet worden verwijderd" in page
        assert "toestemmingskeuze" in page
    assert counts[0] == counts[1], counts


def test_a_big_delete_page_names_the_first_objects_and_counts_every_kind(
    admin_client, school_year, monkeypatch
):
    monkeypatch.setattr(klimop_admin, "DELETE_PAGE_LINES", 3)
    for i in range(5):
        f.GroupFactory(school_year=school_year, name=f"9{i}")
    html = admin_client.get(reverse("admin:klimop_schoolyear_delete", args=[school_year.pk])).content.decode()

    assert "Weet u zeker" in html  # the superuser may delete it all
    assert "Groepen: 5" in html  # the summary counts every group
    hidden = int(re.search(r"… en nog (\d+), per soort geteld in de samenvatting hierboven\.", html).group(1))
    assert hidden >= 3  # the other three groups, and what else goes with the year
    # Three lines name an object (the year, then two of its groups), each linked as Django links it.
    objects = html[html.index('id="deleted-objects"') :]
    assert objects.count("Schooljaar: <a href=") == 1
    assert objects.count("Groep: <a href=") == 2


# --- links to a login --------------------------------------------------------------------------


def test_a_managers_link_to_a_login_leads_to_the_person_their_school_knows(
    client, director, parent, teacher, other_school
):
    """Pages like an absence report show the login that reported it; a login's own page is an
    administrator's. A director who follows the link lands on the guardian or staff member."""
    client.force_login(director.user)

    to_parent = client.get(reverse("admin:klimop_user_change", args=[parent.user.pk]))
    to_teacher = client.get(reverse("admin:klimop_user_change", args=[teacher.user.pk]))

    assert to_parent.status_code == 302
    assert to_parent["Location"] == reverse("admin:klimop_guardian_change", args=[parent.pk])
    assert to_teacher["Location"] == reverse("admin:klimop_staffmember_change", args=[teacher.pk])
    page = client.get(to_parent["Location"])
    assert page.status_code == 200
    assert parent.last_name in page.content.decode()


def test_a_login_the_school_does_not_know_stays_refused(client, director, other_school):
    elsewhere = f.GuardianRelationFactory(pupil=f.PupilFactory(school=other_school, group=None)).guardian
    nobody = f.UserFactory()
    client.force_login(director.user)

    for user in (elsewhere.user, nobody):
        response = client.get(reverse("admin:klimop_user_change", args=[user.pk]))
        assert response.status_code == 403, user
    assert client.get(reverse("admin:klimop_user_change", args=["not-a-number"])).status_code == 403
