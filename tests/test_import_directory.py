"""The school directory in one go: up to four files on one admin page, previewed, then imported
all together or not at all (docs/import/README.md). Services answer in English (their source);
pages in Dutch, as the director sees them."""

from pathlib import Path

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from klimop.admin_import import SESSION_KEY
from klimop.models import Group, Guardian, GuardianRelation, Pupil, StaffMember
from klimop.resources import directory_import
from tests import factories as f

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "import"
KEYS = ("groups", "staff", "pupils", "guardians")
PAGE = "admin:directory_import"

#: guardians.csv with a wrong relation in its third data row.
BAD_GUARDIANS = (SAMPLES / "guardians.csv").read_text().replace("L1001,parent,full", "L1001,buurvrouw,full")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def samples(**replace: str) -> dict[str, tuple[str, bytes]]:
    files = {key: (f"{key}.csv", (SAMPLES / f"{key}.csv").read_bytes()) for key in KEYS}
    for key, text in replace.items():
        files[key] = (f"{key}.csv", text.encode())
    return files


def uploads(**replace: str) -> dict[str, SimpleUploadedFile]:
    return {
        key: SimpleUploadedFile(name, data, content_type="text/csv")
        for key, (name, data) in samples(**replace).items()
    }


def school_rows(school) -> dict[str, int]:
    return {
        "groups": Group.objects.filter(school=school).count(),
        "staff": StaffMember.objects.filter(school=school).count(),
        "pupils": Pupil.objects.filter(school=school).count(),
        "guardians": GuardianRelation.objects.filter(pupil__school=school).count(),
    }


# --- the service ---------------------------------------------------------------------------------


def test_the_four_sample_files_import_into_an_empty_school_in_one_go(school, school_year, director):
    preview = directory_import(actor=director.user, school=school, files=samples(), dry_run=True)
    assert not preview.problems
    assert [(o.spec.key, o.new) for o in preview.files] == [
        ("groups", 4),
        ("staff", 6),
        ("pupils", 5),
        ("guardians", 8),
    ]
    assert school_rows(school) == {"groups": 0, "staff": 1, "pupils": 0, "guardians": 0}  # the director

    done = directory_import(actor=director.user, school=school, files=samples(), dry_run=False)

    assert done.imported
    assert school_rows(school) == {"groups": 4, "staff": 7, "pupils": 5, "guardians": 8}
    assert Pupil.objects.get(external_id="L1005").group.name == "5a"  # by the group's id G-5a
    again = directory_import(actor=director.user, school=school, files=samples(), dry_run=False)
    assert again.imported
    assert all(o.new == o.updated == 0 for o in again.files)


def test_a_bad_row_in_the_fourth_file_imports_nothing_of_the_first_three(school, school_year, office):
    result = directory_import(
        actor=office.user, school=school, files=samples(guardians=BAD_GUARDIANS), dry_run=False
    )

    assert not result.imported
    assert school_rows(school) == {"groups": 0, "staff": 1, "pupils": 0, "guardians": 0}
    assert not Guardian.objects.exists()
    [problem] = result.problems
    assert (problem.file, problem.row, problem.column) == ("guardians.csv", 3, "kind")
    assert "buurvrouw" in problem.message
    # The first three files were checked and were fine: their rows are in the preview.
    assert [o.new for o in result.files[:3]] == [4, 6, 5]


def test_every_problem_of_every_file_is_listed(school, school_year, director):
    pupils = (SAMPLES / "pupils.csv").read_text().replace("12-04-2020", "31-02-2020")
    staff = (SAMPLES / "staff.csv").read_text().replace(",directie,", ",conciërge,")
    result = directory_import(
        actor=director.user, school=school, files=samples(staff=staff, pupils=pupils), dry_run=True
    )
    assert [(p.file, p.row, p.column) for p in result.problems] == [
        ("staff.csv", 5, "role"),
        ("pupils.csv", 1, "date_of_birth"),
        # The pupil of that row is not there for the later file: its guardians' rows say so.
        ("guardians.csv", 1, "pupil_external_id"),
        ("guardians.csv", 3, "pupil_external_id"),
    ]
    assert "L1001" in result.problems[-1].message


@pytest.mark.parametrize("who", ["teacher", "other_director"])
def test_only_the_schools_director_and_office_import(request, school, school_year, who):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        directory_import(actor=actor.user, school=school, files=samples(), dry_run=True)
    assert not Group.objects.filter(external_id__startswith="G-").exists()


def test_a_file_that_is_not_csv_is_named(school, school_year, director):
    files = {"groups": ("groepen.xlsx", b"PK\x03\x04\x00\x00binary")}
    result = directory_import(actor=director.user, school=school, files=files, dry_run=True)
    assert [p.file for p in result.problems] == ["groepen.xlsx"]


# --- the page ----------------------------------------------------------------------------------


def test_the_admin_index_and_the_single_import_pages_link_to_the_page(client, school, school_year, office):
    client.force_login(office.user)
    url = reverse(PAGE)
    assert url in client.get(reverse("admin:index")).content.decode()
    single = client.get(reverse("admin:klimop_pupil_import")).content.decode()
    assert url in single
    assert "groepen → medewerkers → leerlingen → ouders/verzorgers" in single


def test_the_page_states_the_order_and_the_columns(client, school, school_year, office):
    client.force_login(office.user)
    with translation.override("nl"):
        page = client.get(reverse(PAGE), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    order = [
        page.index(f"{number}</span> <code>{name}</code>")
        for number, name in ((1, "groups.csv"), (2, "staff.csv"), (3, "pupils.csv"), (4, "guardians.csv"))
    ]
    assert order == sorted(order)
    for column in ("external_id", "guardian_external_id", "pupil_external_id", "date_of_birth", "weekdays"):
        assert f"<code>{column}</code>" in page


def test_preview_then_confirm_imports_the_four_files(client, school, school_year, director):
    client.force_login(director.user)
    preview = client.post(reverse(PAGE), {"action": "preview", **uploads()})

    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Voorbeeld: nog niets geïmporteerd" in page
    assert "4 nieuw · 0 gewijzigd · 0 ongewijzigd" in page
    assert school_rows(school)["groups"] == 0
    digest = preview.context["digest"]

    done = client.post(reverse(PAGE), {"action": "confirm", "digest": digest}, follow=True)

    assert school_rows(school) == {"groups": 4, "staff": 7, "pupils": 5, "guardians": 8}
    assert "Geïmporteerd. groups.csv: 4 nieuw" in done.content.decode()
    assert SESSION_KEY not in client.session


def test_the_import_leaves_who_added_and_changed_what_in_the_admins_history(
    client, school, school_year, director
):
    client.force_login(director.user)
    digest = client.post(reverse(PAGE), {"action": "preview", **uploads()}).context["digest"]
    assert not LogEntry.objects.exists()  # a preview leaves no trace

    client.post(reverse(PAGE), {"action": "confirm", "digest": digest})

    entries = LogEntry.objects.filter(user=director.user)
    added = {(e.content_type.model, e.object_id) for e in entries if e.action_flag == ADDITION}
    assert {
        ("group", str(pk)) for pk in Group.objects.filter(school=school).values_list("pk", flat=True)
    } <= added
    assert {
        ("pupil", str(pk)) for pk in Pupil.objects.filter(school=school).values_list("pk", flat=True)
    } <= added
    assert {("guardian", str(pk)) for pk in Guardian.objects.values_list("pk", flat=True)} <= added
    assert len({m for m, _pk in added}) == 4  # groups, staff, pupils and guardians
    pupil = Pupil.objects.get(school=school, external_id="L1001")
    history = client.get(reverse("admin:klimop_pupil_history", args=[pupil.pk])).content.decode()
    assert "Toegevoegd door de schoolimport (pupils.csv)." in history

    # The same files again with one pupil in another group: that row alone is a change.
    text = (SAMPLES / "pupils.csv").read_text()
    assert "L1001,Noa,Jansen,12-04-2020,1a" in text
    moved = text.replace("L1001,Noa,Jansen,12-04-2020,1a", "L1001,Noa,Jansen,12-04-2020,3b")
    digest = client.post(reverse(PAGE), {"action": "preview", **uploads(pupils=moved)}).context["digest"]
    client.post(reverse(PAGE), {"action": "confirm", "digest": digest})
    changed = LogEntry.objects.filter(action_flag=CHANGE)
    assert [(e.content_type.model, e.object_id) for e in changed] == [("pupil", str(pupil.pk))]
    assert changed.get().change_message == "Gewijzigd door de schoolimport (pupils.csv)."


def test_an_import_with_a_bad_row_leaves_no_history(school, school_year, director):
    outcome = directory_import(
        actor=director.user, school=school, files=samples(guardians=BAD_GUARDIANS), dry_run=False
    )
    assert outcome.problems
    assert not outcome.imported
    assert not LogEntry.objects.exists()


def test_a_bad_row_lists_file_row_column_and_keeps_the_files(client, school, school_year, director):
    client.force_login(director.user)
    page = client.post(reverse(PAGE), {"action": "preview", **uploads(guardians=BAD_GUARDIANS)})
    content = page.content.decode()

    assert "Er is niets geïmporteerd: 1 probleem." in content
    assert "<td>guardians.csv</td><td>3</td><td><code>kind</code></td>" in content
    assert "bestanden importeren" not in content  # no confirm button
    assert content.count("Bewaard: <strong>") == 3
    assert "<strong>guardians.csv</strong> heeft problemen (hierboven)" in content
    assert school_rows(school)["groups"] == 0

    # Only the corrected file is chosen again; the three others were kept.
    fixed = SimpleUploadedFile("guardians.csv", (SAMPLES / "guardians.csv").read_bytes())
    again = client.post(reverse(PAGE), {"action": "preview", "guardians": fixed})
    assert "Voorbeeld: nog niets geïmporteerd" in again.content.decode()
    client.post(reverse(PAGE), {"action": "confirm", "digest": again.context["digest"]})
    assert school_rows(school) == {"groups": 4, "staff": 7, "pupils": 5, "guardians": 8}


def test_a_confirm_of_other_files_than_previewed_imports_nothing(client, school, school_year, director):
    client.force_login(director.user)
    client.post(reverse(PAGE), {"action": "preview", **uploads()})
    response = client.post(reverse(PAGE), {"action": "confirm", "digest": "0" * 64}, follow=True)
    assert "De bestanden zijn veranderd sinds het voorbeeld" in response.content.decode()
    assert school_rows(school)["groups"] == 0


def test_leaving_a_kept_file_out_and_forgetting_all(client, school, school_year, director):
    client.force_login(director.user)
    client.post(reverse(PAGE), {"action": "preview", **uploads()})
    page = client.post(reverse(PAGE), {"action": "preview", "forget_guardians": "on"})
    assert [o.spec.key for o in page.context["outcome"].files] == ["groups", "staff", "pupils"]
    client.post(reverse(PAGE), {"action": "clear"})
    empty = client.post(reverse(PAGE), {"action": "preview"})
    assert "Kies ten minste één bestand." in empty.content.decode()


@pytest.mark.parametrize("who", ["teacher", "parent"])
def test_people_who_do_not_manage_the_school_do_not_reach_the_page(client, request, school, who):
    client.force_login(request.getfixturevalue(who).user)
    response = client.post(reverse(PAGE), {"action": "preview", **uploads()})
    assert response.status_code in (302, 403)
    assert not Group.objects.filter(external_id__startswith="G-").exists()


def test_a_director_of_another_school_imports_only_into_their_own(
    client, school, school_year, other_school, other_director
):
    f.SchoolYearFactory(school=other_school)
    client.force_login(other_director.user)
    client.post(reverse(PAGE), {"action": "preview", "school": school.pk, **uploads()})
    assert not Group.objects.filter(school=school).exists()


def test_a_confirm_after_the_data_changed_imports_nothing_and_lists_why(
    client, school, school_year, director
):
    client.force_login(director.user)
    preview = client.post(reverse(PAGE), {"action": "preview", **uploads()})
    # Meanwhile the office adds a group 1a by hand: the file's 1a (another id) now clashes.
    f.GroupFactory(school_year=school_year, name="1a", year=1, external_id="HAND-1a")

    page = client.post(reverse(PAGE), {"action": "confirm", "digest": preview.context["digest"]})

    content = page.content.decode()
    assert "Er is niets geïmporteerd: de bestanden hebben nu problemen." in content
    assert "<td>groups.csv</td><td>1</td>" in content
    assert school_rows(school) == {"groups": 1, "staff": 1, "pupils": 0, "guardians": 0}
