"""CSV import of the directory: into the importer's school, idempotent, all rows or none."""

from pathlib import Path

import pytest
from django.utils import translation
from import_export.results import RowResult

from klimop.models import Group, Guardian, GuardianRelation, Pupil, StaffMember, User
from klimop.resources import (
    CSV,
    GroupResource,
    GuardianResource,
    PupilResource,
    StaffResource,
)
from tests import factories as f

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "import"
Kind = GuardianRelation.Kind
Access = GuardianRelation.Access
Role = StaffMember.Role

#: The order docs/import/README.md prescribes: each file refers to the ones before it.
SAMPLE_FILES = [
    ("groups.csv", GroupResource),
    ("staff.csv", StaffResource),
    ("pupils.csv", PupilResource),
    ("guardians.csv", GuardianResource),
]


@pytest.fixture(autouse=True)
def _english():
    # Messages are asserted in English, whatever catalogues the project gains.
    with translation.override("en"):
        yield


def dataset(text: str):
    return CSV().create_dataset(text.encode())


def run(resource_class, text: str, school, *, dry_run=False):
    return resource_class(school=school).import_data(dataset(text), dry_run=dry_run)


def import_samples(school):
    results = {}
    for name, resource_class in SAMPLE_FILES:
        result = run(resource_class, (SAMPLES / name).read_text(), school)
        assert not result.has_errors(), [e.error for e in result.base_errors]
        assert not result.has_validation_errors(), [r.error_dict for r in result.invalid_rows]
        results[name] = result
    return results


def directory_counts():
    return {
        model.__name__: model.objects.count()
        for model in (Group, StaffMember, User, Pupil, Guardian, GuardianRelation)
    }


def messages_of(result) -> list[str]:
    return [m for row in result.invalid_rows for ms in row.error_dict.values() for m in ms]


# --- the sample files ------------------------------------------------------------------------


def test_sample_files_import_into_the_schools_current_year(school, school_year, other_school):
    results = import_samples(school)

    assert results["groups.csv"].totals[RowResult.IMPORT_TYPE_NEW] == 4
    assert set(Group.objects.values_list("school_id", "school_year_id").distinct()) == {
        (school.pk, school_year.pk)
    }
    assert Pupil.objects.filter(school=school).count() == 5
    assert not Pupil.objects.filter(school=other_school).exists()
    assert StaffMember.objects.filter(school=school).count() == 6
    assert Guardian.objects.count() == 6
    assert GuardianRelation.objects.count() == 8


def test_sample_files_fill_in_every_column(school, school_year):
    import_samples(school)

    fenna = StaffMember.objects.get(external_id="M001")
    assert fenna.user.email == "fenna.devries@voorbeeldschool.example"
    assert fenna.user.get_full_name() == "Fenna de Vries"
    assert not fenna.user.has_usable_password()  # until the invitation
    assert fenna.role == Role.TEACHER
    assert [g.name for g in fenna.groups.all()] == ["5a"]
    assert fenna.working_weekdays == {0, 1, 2}
    assert StaffMember.objects.get(external_id="M002").working_weekdays == {3, 4}
    assert StaffMember.objects.get(external_id="M003").working_weekdays == {0, 1, 2, 3, 4}
    assert StaffMember.objects.get(external_id="M004").role == Role.CARE_COORDINATOR
    assert StaffMember.objects.get(external_id="M005").role == Role.DIRECTOR
    assert StaffMember.objects.get(external_id="M006").role == Role.OFFICE

    sara = Pupil.objects.get(external_id="L1005")
    assert sara.group.name == "5a"  # named by the group's external id G-5a
    assert str(Pupil.objects.get(external_id="L1001").date_of_birth) == "2020-04-12"

    relations = {
        (r.guardian.external_id, r.pupil.external_id): (r.kind, r.access)
        for r in GuardianRelation.objects.select_related("guardian", "pupil")
    }
    assert relations[("O501", "L1001")] == (Kind.PARENT_WITH_AUTHORITY, Access.FULL)
    assert relations[("O502", "L1002")] == (Kind.PARENT_WITH_AUTHORITY, Access.FULL)
    assert relations[("O504", "L1004")] == (Kind.PARENT_WITHOUT_AUTHORITY, Access.ON_REQUEST)
    assert relations[("O506", "L1004")] == (Kind.STEP_PARENT, Access.NONE)


def test_importing_the_sample_files_again_changes_nothing(school, school_year):
    import_samples(school)
    before = directory_counts()

    again = import_samples(school)

    assert directory_counts() == before
    for name, result in again.items():
        totals = result.totals
        assert totals[RowResult.IMPORT_TYPE_SKIP] == len(result.rows), name
        assert totals[RowResult.IMPORT_TYPE_NEW] == totals[RowResult.IMPORT_TYPE_UPDATE] == 0


def test_an_export_imports_again_unchanged(school, school_year):
    import_samples(school)
    for _, resource_class in SAMPLE_FILES:
        resource = resource_class(school=school)
        exported = resource.export(queryset=resource.get_queryset()).export("csv")

        result = run(resource_class, exported, school)

        assert not result.has_errors()
        assert not result.has_validation_errors()
        assert result.totals[RowResult.IMPORT_TYPE_SKIP] == len(result.rows) > 0


def test_a_file_from_dutch_excel_imports(school, school_year):
    # Semicolons, Windows-1252, Excel's own column names with capitals and spaces.
    text = 'External ID;Name;Year\r\nG01;1a;1\r\nG02;"2a";2\r\n'
    pupils = "External ID;First name;Last name;Group\r\nL1;Zoë;Daniëls;1a\r\n"

    groups = GroupResource(school=school).import_data(CSV().create_dataset(text.encode("cp1252")))
    result = PupilResource(school=school).import_data(CSV().create_dataset(pupils.encode("cp1252")))

    assert not groups.has_validation_errors()
    assert not result.has_validation_errors(), messages_of(result)
    assert sorted(Group.objects.values_list("name", flat=True)) == ["1a", "2a"]
    assert Pupil.objects.get().full_name == "Zoë Daniëls"


def test_a_utf8_file_with_a_byte_order_mark_imports(school, school_year):
    data = "\ufeffexternal_id,first_name,last_name\nL1,Zoë,Daniëls\n".encode()

    result = PupilResource(school=school).import_data(CSV().create_dataset(data))

    assert not result.has_validation_errors(), messages_of(result)
    assert Pupil.objects.get().first_name == "Zoë"


def test_a_changed_row_updates_only_that_row(school, school_year):
    import_samples(school)
    text = (SAMPLES / "pupils.csv").read_text().replace("Mila,de Boer", "Mila,de Boer-Kramer")

    result = run(PupilResource, text, school)

    assert result.totals[RowResult.IMPORT_TYPE_UPDATE] == 1
    assert result.totals[RowResult.IMPORT_TYPE_SKIP] == 4
    assert Pupil.objects.get(external_id="L1003").last_name == "de Boer-Kramer"


# --- the importing user's school --------------------------------------------------------------


def test_rows_go_to_the_importing_school_even_when_another_school_has_the_same_ids(
    school, school_year, other_school, other_group_elsewhere
):
    theirs = f.PupilFactory(group=other_group_elsewhere, external_id="L1001", first_name="Elders")
    run(GroupResource, (SAMPLES / "groups.csv").read_text(), school)

    result = run(PupilResource, (SAMPLES / "pupils.csv").read_text(), school)

    assert result.totals[RowResult.IMPORT_TYPE_NEW] == 5
    theirs.refresh_from_db()
    assert theirs.first_name == "Elders"
    assert theirs.school == other_school
    assert Pupil.objects.get(school=school, external_id="L1001").first_name == "Noa"


def test_a_group_of_another_school_is_unknown(school, school_year, other_group_elsewhere):
    text = "external_id,first_name,last_name,group\nL1,Noa,Jansen,5a\n"

    result = run(PupilResource, text, school)

    assert messages_of(result) == ["Unknown group “5a” in school year 2026/2027."]
    assert not Pupil.objects.exists()


def test_a_guardian_of_another_school_is_not_overwritten(school, school_year, other_school):
    theirs = f.GuardianRelationFactory(
        pupil__group__school_year__school=other_school,
        guardian__external_id="O501",
        guardian__first_name="Anders",
    ).guardian
    f.PupilFactory(group__school_year=school_year, external_id="L1001")
    text = (
        "guardian_external_id,first_name,last_name,pupil_external_id,kind\nO501,Marloes,Jansen,L1001,parent\n"
    )

    result = run(GuardianResource, text, school)

    assert result.invalid_rows[0].error_dict == {
        "guardian_external_id": ["External id “O501” is already used for a guardian of another school."]
    }
    theirs.refresh_from_db()
    assert theirs.first_name == "Anders"


def test_a_parent_keeps_the_contact_details_they_maintain_themselves(school, school_year):
    relation = f.GuardianRelationFactory(
        pupil__group__school_year=school_year,
        pupil__external_id="L1",
        guardian__external_id="O1",
        guardian__email="new@example.test",
        guardian__phone="06-1",
    )
    text = (
        "guardian_external_id,first_name,last_name,email,phone,pupil_external_id,kind\n"
        f"O1,{relation.guardian.first_name},Nieuw,old@example.test,06-9,L1,parent\n"
    )

    result = run(GuardianResource, text, school)

    assert result.totals[RowResult.IMPORT_TYPE_UPDATE] == 1
    guardian = Guardian.objects.get(external_id="O1")
    assert (guardian.last_name, guardian.email, guardian.phone) == ("Nieuw", "new@example.test", "06-1")


def test_empty_access_keeps_what_the_school_recorded(school, school_year):
    relation = f.GuardianRelationFactory(
        pupil__group__school_year=school_year,
        pupil__external_id="L1",
        guardian__external_id="O1",
        kind=Kind.STEP_PARENT,
        access=Access.FULL,
    )
    g = relation.guardian
    text = (
        "guardian_external_id,first_name,last_name,email,phone,pupil_external_id,kind,access\n"
        f"O1,{g.first_name},{g.last_name},{g.email},{g.phone},L1,stiefouder,\n"
    )

    result = run(GuardianResource, text, school)

    assert result.totals[RowResult.IMPORT_TYPE_SKIP] == 1
    relation.refresh_from_db()
    assert relation.access == Access.FULL


@pytest.mark.parametrize(
    ("kind", "access", "expected"),
    [
        ("ouder met gezag", "volledig", (Kind.PARENT_WITH_AUTHORITY, Access.FULL)),
        ("Parent", "FULL", (Kind.PARENT_WITH_AUTHORITY, Access.FULL)),
        ("Ouder zonder gezag", "informatie op verzoek", (Kind.PARENT_WITHOUT_AUTHORITY, Access.ON_REQUEST)),
        ("parent_no_authority", "on_request", (Kind.PARENT_WITHOUT_AUTHORITY, Access.ON_REQUEST)),
        ("Step-parent", "none", (Kind.STEP_PARENT, Access.NONE)),
        ("verzorger", "", (Kind.CARER, Access.NONE)),
        ("ouder met gezag", "contactverbod", (Kind.PARENT_WITH_AUTHORITY, Access.BARRED)),
    ],
)
def test_relation_kinds_and_access_in_dutch_or_english(school, school_year, kind, access, expected):
    f.PupilFactory(group__school_year=school_year, external_id="L1")
    text = (
        "guardian_external_id,first_name,last_name,pupil_external_id,kind,access\n"
        f"O1,Marloes,Jansen,L1,{kind},{access}\n"
    )

    result = run(GuardianResource, text, school)

    assert not result.has_validation_errors(), messages_of(result)
    relation = GuardianRelation.objects.get()
    assert (relation.kind, relation.access) == expected


# --- staff logins -----------------------------------------------------------------------------


def test_a_parent_who_also_teaches_keeps_one_login(school, school_year, parent):
    text = "external_id,email,first_name,last_name,role\nM9,PARENT@example.test,Fenna,de Vries,leerkracht\n"

    result = run(StaffResource, text, school)

    assert not result.has_validation_errors(), messages_of(result)
    assert StaffMember.objects.get(external_id="M9").user == parent.user


def test_the_import_does_not_change_the_login_of_someone_who_signed_in(school, teacher):
    teacher.user.last_login = teacher.user.date_joined
    teacher.user.save()
    text = f"external_id,email,first_name,last_name\n{teacher.external_id},taken-over@example.test,A,B\n"

    result = run(StaffResource, text, school)

    assert (
        result.invalid_rows[0]
        .error_dict["email"][0]
        .endswith(
            "login is theirs: only they can change its e-mail address (in Klimop, under their account)."
        )
    )
    teacher.user.refresh_from_db()
    assert teacher.user.email == "teacher@example.test"


def test_an_unused_login_follows_a_changed_e_mail_address(school, teacher):
    text = (
        f"external_id,email,first_name,last_name\n{teacher.external_id},nieuw@example.test,Fenna,de Vries\n"
    )

    result = run(StaffResource, text, school)

    assert result.totals[RowResult.IMPORT_TYPE_UPDATE] == 1
    teacher.user.refresh_from_db()
    assert teacher.user.email == "nieuw@example.test"
    assert StaffMember.objects.get(pk=teacher.pk).groups.count() == 1  # column absent: kept


def test_a_teacher_of_another_school_keeps_one_login_with_a_record_per_school(
    school, other_director, mailoutbox, django_capture_on_commit_callbacks
):
    text = "external_id,email,first_name,last_name\nM9,elders@example.test,Ander,Naam\n"

    with django_capture_on_commit_callbacks(execute=True):
        result = run(StaffResource, text, school)

    assert not result.has_validation_errors(), messages_of(result)
    user = other_director.user
    user.refresh_from_db()
    assert set(StaffMember.objects.filter(user=user).values_list("school", flat=True)) == {
        school.pk,
        other_director.school_id,
    }
    assert user.last_name != "Naam"  # the other school's person: their name stays theirs
    (notice,) = mailoutbox
    assert notice.to == [user.email]


# --- one bad row: nothing imported ------------------------------------------------------------

BAD_FILES = [
    pytest.param(
        GroupResource,
        "external_id,name,year\nG1,2a,2\nG2,9a,9\n",
        2,
        "year",
        "The year group must be a number from 1 to 8, not “9”.",
        id="year-9",
    ),
    pytest.param(
        GroupResource,
        "external_id,name,year\nG1,2a,2\nG2,2a,2\n",
        2,
        "__all__",
        "Group with this School year and Name already exists.",
        id="duplicate-group-name",
    ),
    pytest.param(
        PupilResource,
        "external_id,first_name,last_name,group\nL1,Noa,Jansen,1a\nL2,Tijn,Jansen,7z\n",
        2,
        "group",
        "Unknown group “7z” in school year 2026/2027.",
        id="unknown-group",
    ),
    pytest.param(
        PupilResource,
        "external_id,first_name,last_name,date_of_birth\nL1,Noa,Jansen,31-02-2019\n",
        1,
        "date_of_birth",
        "“31-02-2019” is not a date; write it as 21-03-2017 or 2017-03-21.",
        id="bad-date",
    ),
    pytest.param(
        PupilResource,
        "external_id,first_name,last_name\nL1,Noa,Jansen\nL2,,Jansen\n",
        2,
        "first_name",
        "This field cannot be blank.",
        id="missing-first-name",
    ),
    pytest.param(
        GuardianResource,
        "guardian_external_id,first_name,last_name,pupil_external_id,kind\n"
        "O1,Marloes,Jansen,L1,parent\nO2,Pieter,Jansen,L404,parent\n",
        2,
        "pupil_external_id",
        "Unknown pupil “L404”: import the pupils first.",
        id="unknown-pupil",
    ),
    pytest.param(
        GuardianResource,
        "guardian_external_id,first_name,last_name,pupil_external_id,kind\nO1,Marloes,Jansen,L1,oma\n",
        1,
        "kind",
        "“oma” is not one of: parent, parent_no_authority, step_parent, carer.",
        id="bad-kind",
    ),
    pytest.param(
        GuardianResource,
        "guardian_external_id,first_name,last_name,pupil_external_id,kind,access\n"
        "O1,Marloes,Jansen,L1,parent,soms\n",
        1,
        "access",
        "“soms” is not one of: full, on_request, none, barred.",
        id="bad-access",
    ),
    pytest.param(
        GuardianResource,
        "guardian_external_id,first_name,last_name,email,pupil_external_id,kind\n"
        "O1,Marloes,Jansen,marloes.example.test,L1,parent\n",
        1,
        "email",
        "“marloes.example.test” is not a valid e-mail address.",
        id="bad-email",
    ),
    pytest.param(
        GuardianResource,
        "guardian_external_id,first_name,last_name,email,pupil_external_id,kind\n"
        "O1,Marloes,Jansen,m@example.test,L1,parent\nO1,Marloes,Jansen,x@example.test,L1,parent\n",
        2,
        "__all__",
        "Guardian “O1” has other names or contact details here than in row 1.",
        id="guardian-disagrees-with-itself",
    ),
    pytest.param(
        StaffResource,
        "external_id,email,first_name,last_name,role\nM1,a@example.test,Fenna,de Vries,conciërge\n",
        1,
        "role",
        "“conciërge” is not one of: teacher, ib, director, office.",
        id="bad-role",
    ),
    pytest.param(
        StaffResource,
        "external_id,email,first_name,last_name,groups\nM1,a@example.test,Fenna,de Vries,1a;9x\n",
        1,
        "groups",
        "Unknown group(s) “9x” in school year 2026/2027.",
        id="unknown-group-of-teacher",
    ),
    pytest.param(
        StaffResource,
        "external_id,email,first_name,last_name,weekdays\nM1,a@example.test,Fenna,de Vries,ma;za\n",
        1,
        "weekdays",
        "Unknown working day(s) “za”; use ma, di, wo, do, vr.",
        id="saturday",
    ),
    pytest.param(
        StaffResource,
        "external_id,email,first_name,last_name\n"
        "M1,a@example.test,Fenna,de Vries\nM2,A@example.test,Joost,Bakker\n",
        2,
        "email",
        "This e-mail address already belongs to another staff member.",
        id="same-address-twice",
    ),
]


@pytest.mark.parametrize(("resource_class", "text", "row", "column", "message"), BAD_FILES)
def test_one_bad_row_imports_nothing_and_says_which_row_and_why(
    school, school_year, resource_class, text, row, column, message
):
    group = f.GroupFactory(school_year=school_year, name="1a", year=1, external_id="G0")
    f.PupilFactory(group=group, external_id="L1")
    before = directory_counts()

    result = run(resource_class, text, school)

    assert directory_counts() == before
    assert [r.number for r in result.invalid_rows] == [row]
    assert result.invalid_rows[0].error_dict[column] == [message]


def test_a_file_without_a_required_column_imports_nothing(school, school_year):
    result = run(PupilResource, "external_id,first_name\nL1,Noa\n", school)

    assert [str(e.error) for e in result.base_errors][0] == "The file lacks the column(s): last_name."
    assert not Pupil.objects.exists()


def test_groups_need_a_school_year_to_go_into(school):
    result = run(GroupResource, (SAMPLES / "groups.csv").read_text(), school)

    assert "Add a school year first: groups are imported into it." in [
        str(e.error) for e in result.base_errors
    ]
    assert not Group.objects.exists()


def test_a_group_of_last_year_is_not_moved_into_this_year(school, school_year):
    last_year = f.SchoolYearFactory(
        school=school, name="2025/2026", starts_on="2025-08-25", ends_on="2026-07-10"
    )
    f.GroupFactory(school_year=last_year, external_id="G01", name="1a", year=1)

    result = run(GroupResource, "external_id,name,year\nG01,1a,1\n", school)

    assert "belongs to school year 2025/2026" in messages_of(result)[0]
    assert Group.objects.get(external_id="G01").school_year == last_year


def test_a_dry_run_shows_the_result_and_saves_nothing(school, school_year):
    result = run(GroupResource, (SAMPLES / "groups.csv").read_text(), school, dry_run=True)

    assert result.totals[RowResult.IMPORT_TYPE_NEW] == 4
    assert not Group.objects.exists()
