"""Two schools on one portal: the director and the office of one can change nothing of the other.

Collected in tests/test_demo_school.py (imported there), so these tests read that module's
one demo build instead of building the demo again (~10 s): this file's name does not start
with ``test_``, so pytest does not collect it a second time.

School A is the demo school (every model filled in); school B is a small school whose
director and office try every admin view, action, import and invitation on A's objects
and people. After each attempt, every row that existed for A is compared with what it
was, and no new row may point at one of A's objects (except B adding its own record to
an existing login, which leaves that login as it was).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.forms import ModelChoiceField
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from demo import school as demo
from klimop.models import Group, Guardian, GuardianRelation, Pupil, StaffMember, User
from tests import factories as f

pytestmark = pytest.mark.django_db

AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")
APPS = (
    "klimop",
    "notifications",
    "privacy",
    "posts",
    "chats",
    "agenda",
    "absences",
    "conversations",
    "quality",
    "account",
    "mfa",
)
#: New rows of school B may point at an existing login: B adds its own record to it.
ALLOWED_LINKS = {(StaffMember, "user"), (Guardian, "user")}
SAMPLE = 2  # objects of each model tried per view


def _models():
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.app_label in APPS]


def _snapshot(victim: dict) -> dict:
    """School A's rows as they are now (the rows that existed when A was built)."""
    return {
        model: {
            row["pk"]: row
            for row in model.objects.filter(pk__in=victim[model]).values(
                "pk", *[f.attname for f in model._meta.concrete_fields]
            )
        }
        for model in _models()
    }


def _assert_nothing_of_a_changed(before: dict, what: str) -> None:
    for model, rows in before.items():
        now = {
            row["pk"]: row
            for row in model.objects.filter(pk__in=list(rows)).values(
                "pk", *[f.attname for f in model._meta.concrete_fields]
            )
        }
        missing = set(rows) - set(now)
        assert not missing, f"{what}: {model.__name__} rows {sorted(missing)[:5]} of school A deleted"
        changed = [pk for pk, row in rows.items() if now[pk] != row]
        assert not changed, (
            f"{what}: {model.__name__} {changed[:3]} of school A changed: "
            f"{[(rows[pk], now[pk]) for pk in changed[:1]]}"
        )
        # New rows (school B's own) must not hang anything onto A's objects.
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.ForeignKey) or (model, field.name) in ALLOWED_LINKS:
                continue
            target = before.get(field.related_model)
            if not target:
                continue
            new = model.objects.exclude(pk__in=list(rows)).filter(**{f"{field.attname}__in": list(target)})
            assert not new.exists(), (
                f"{what}: a new {model.__name__} points at school A's "
                f"{field.related_model.__name__} through {field.name}"
            )


@pytest.fixture
def world(demo_built):
    """School A (the demo, built once for this module: ``demo_built`` in conftest rolls back
    each test's writes) and school B with its director and office; time stands still."""
    with time_machine.travel(dt.datetime(2026, 11, 23, 10, 0, tzinfo=AMS), tick=False):
        school_a = demo.demo_school_get()
        victim = {model: list(model.objects.values_list("pk", flat=True)) for model in _models()}
        school_b = f.SchoolFactory(name="Basisschool Elders", slug="elders")
        year_b = f.SchoolYearFactory(school=school_b)
        group_b = f.GroupFactory(school_year=year_b, name="5a", year=5, external_id="B5A")
        pupil_b = f.PupilFactory(group=group_b, first_name="Bram", last_name="Elders", external_id="BP1")
        director_b = f.StaffMemberFactory(
            school=school_b,
            role=StaffMember.Role.DIRECTOR,
            user__email="directie@elders.test",
            user__language="en",
        )
        office_b = f.StaffMemberFactory(
            school=school_b,
            role=StaffMember.Role.OFFICE,
            user__email="office@elders.test",
            user__language="en",
        )
        mail.outbox.clear()
        yield {
            "a": school_a,
            "b": school_b,
            "victim": victim,
            "group_b": group_b,
            "pupil_b": pupil_b,
            "director": director_b,
            "office": office_b,
        }


def _url(model, view: str, *args) -> str | None:
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)
    except NoReverseMatch:
        return None


def _flat(obj) -> dict:
    data = {}
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if value is None or isinstance(value, (dict, list)) or isinstance(field, models.FileField):
            continue
        data[field.name] = value.isoformat() if hasattr(value, "isoformat") else value
    data["first_name"] = data["last_name"] = "Overgenomen"
    data["email"] = "aanvaller@elders.test"
    return data


def _is_refused(response) -> bool:
    """403, 404, or the admin's "doesn't exist" redirect to its index."""
    if response.status_code in (403, 404):
        return True
    return (
        response.status_code == 302
        and "/change/" not in response["Location"]
        and "/delete/" not in response["Location"]
    )


@pytest.mark.parametrize("role", ["director", "office"])
def test_school_b_changes_nothing_of_school_a_through_any_admin_view_or_action(client, world, role):
    actor = world[role]
    client.force_login(actor.user)
    before = _snapshot(world["victim"])
    request = RequestFactory().get("/admin/")
    request.user = actor.user
    tried = 0
    for model, model_admin in admin.site._registry.items():
        pks = world["victim"].get(model, [])
        sample = pks[:SAMPLE] + pks[-1:] if pks else []
        for pk in sample:
            obj = model.objects.get(pk=pk)
            for view in ("change", "delete", "history"):
                url = _url(model, view, pk)
                if url is None:
                    continue
                response = client.get(url)
                assert _is_refused(response), (role, view, model.__name__, response.status_code)
            if url := _url(model, "change", pk):
                client.post(url, _flat(obj))
            if url := _url(model, "delete", pk):
                client.post(url, {"post": "yes"})
            tried += 1
        changelist = _url(model, "changelist")
        if sample and changelist and model_admin.has_view_permission(request):
            for action in model_admin.get_actions(request):
                response = client.post(
                    changelist,
                    {
                        "action": action,
                        "_selected_action": sample,
                        "post": "yes",
                        "index": "0",
                    },
                )
                assert response.status_code in (200, 302, 403), (model.__name__, action)
                tried += 1
    assert tried > 50
    _assert_nothing_of_a_changed(before, f"{role} of school B")
    assert not [m for m in mail.outbox if m.to[0].endswith("@klimop.example")], (
        "nobody of school A was sent an invitation or a password link"
    )


@pytest.mark.parametrize("role", ["director", "office"])
def test_no_add_form_of_school_b_offers_an_object_of_school_a(client, world, role):
    client.force_login(world[role].user)
    victim = world["victim"]
    checked = 0
    for model in admin.site._registry:
        url = _url(model, "add")
        if url is None:
            continue
        response = client.get(url)
        if response.status_code != 200:
            continue
        forms = [response.context["adminform"].form]
        for inline in response.context["inline_admin_formsets"]:
            forms.append(inline.formset.empty_form)
        for form in forms:
            for name, field in form.fields.items():
                if not isinstance(field, ModelChoiceField) or name == form._meta.model._meta.pk.name:
                    # An inline row's own id: Django looks it up in the inline's (scoped)
                    # queryset and skips any other, so it offers nothing.
                    continue
                offered = set(field.queryset.values_list("pk", flat=True))
                leaked = offered & set(victim.get(field.queryset.model, []))
                assert not leaked, (role, model.__name__, name, field.queryset.model.__name__)
                checked += 1
    assert checked > 10


def _import(client, model, name: str, text: str):
    upload = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    response = client.post(_url(model, "import"), {"format": "0", "import_file": upload})
    confirm = response.context and response.context.get("confirm_form")
    if confirm:
        data = {n: confirm[n].value() for n in confirm.fields}
        client.post(_url(model, "process_import"), data)
    return response


def test_school_b_imports_and_invitations_change_nothing_of_school_a(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world["office"].user)
    school_a = world["a"]
    before = _snapshot(world["victim"])
    a_staff = StaffMember.objects.filter(school=school_a).select_related("user")
    a_director = a_staff.get(user__email="directeur@klimop.example")
    a_teacher = a_staff.get(user__email="leerkracht@klimop.example")
    a_parents = Guardian.objects.filter(relations__pupil__school=school_a, user__isnull=False)
    signed_in = a_parents.filter(user__last_login__isnull=False).first()
    never = a_parents.filter(user__last_login__isnull=True).first()
    a_relation = GuardianRelation.objects.filter(pupil__school=school_a).first()
    a_pupil = Pupil.objects.filter(school=school_a).first()
    assert signed_in
    assert never

    with django_capture_on_commit_callbacks(execute=True):
        _attack_by_import_and_invitation(
            client, world, a_director, a_teacher, signed_in, never, a_relation, a_pupil
        )

    _assert_nothing_of_a_changed(before, "imports and invitations of school B")
    for staff in a_staff:
        assert User.objects.get(pk=staff.user_id).first_name != "Over"
    # No password link went to anyone; those whose login B linked to its record were told.
    assert not [m for m in mail.outbox if "/accounts/password/reset/key/" in m.body]
    told = {
        m.to[0]
        for m in mail.outbox
        if "Klimop" in m.subject and m.to[0] in (signed_in.user.email, never.user.email, a_teacher.user.email)
    }
    assert told == {signed_in.user.email, never.user.email, a_teacher.user.email}


def _attack_by_import_and_invitation(
    client, world, a_director, a_teacher, signed_in, never, a_relation, a_pupil
):
    # Groups and pupils with A's external ids become B's own rows.
    _import(
        client,
        Group,
        "groups.csv",
        f"external_id,name,year\n{a_pupil.group.external_id},{a_pupil.group.name},5\n",
    )
    _import(
        client,
        Pupil,
        "pupils.csv",
        f"external_id,first_name,last_name,group\n{a_pupil.external_id},Kopie,Kind,B5A\n",
    )
    # A guardian of A by external id, and A's people by e-mail address, one file each.
    _import(
        client,
        Guardian,
        "guardians.csv",
        "guardian_external_id,first_name,last_name,email,pupil_external_id,kind\n"
        f"{a_relation.guardian.external_id},Over,Genomen,aanvaller@elders.test,BP1,ouder met gezag\n",
    )
    for email in (a_director.user.email, a_teacher.user.email, signed_in.user.email, never.user.email):
        _import(
            client,
            StaffMember,
            "staff.csv",
            f"external_id,email,first_name,last_name\nS-{email.split('@')[0]},{email},Over,Genomen\n",
        )
    # B's own guardian record with the address of A's parents and staff, then invited.
    for n, email in enumerate((signed_in.user.email, never.user.email, a_teacher.user.email)):
        guardian = f.GuardianFactory(
            external_id=f"BG{n}", email=email, user=None, first_name="Bea", last_name="Elders"
        )
        f.GuardianRelationFactory(guardian=guardian, pupil=world["pupil_b"])
        client.post(
            _url(Guardian, "changelist"),
            {
                "action": "send_invitation",
                "_selected_action": [guardian.pk],
                "index": "0",
            },
        )
