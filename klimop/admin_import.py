"""The admin page that imports the whole school directory in one go: up to four CSV files.

Directors and the office (``access.schools_managed_by``; the admin site lets only them in)
choose groups.csv, staff.csv, pupils.csv and guardians.csv on one page, see a preview of
each file, and confirm: ``klimop.resources.directory_import`` imports every file in one
transaction, in the documented order, or nothing. Every problem is listed with its file,
row, column and reason.

The chosen files are kept on the server (in the session) between the preview and the
confirmation, and after a preview with problems, so a manager only chooses again the
file they corrected. The confirmation imports exactly what was previewed: the form carries
a digest of the kept files, and a different digest asks for a new preview.
"""

from __future__ import annotations

import base64
import hashlib

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import access
from .forms import _SchoolChoiceMixin
from .models import School
from .resources import DIRECTORY_FILES, DirectoryImport, directory_import
from .text import strip_bidi

SESSION_KEY = "klimop_directory_import"

#: A school's guardians file is some 100 KB; this leaves room and keeps the session small.
MAX_FILE_BYTES = 2 * 1024 * 1024

#: The columns of each file, as the page states them (docs/import/README.md has the details).
COLUMNS: dict[str, list[tuple[str, bool, object]]] = {
    "groups": [
        ("external_id", True, gettext_lazy("the group's id in your administration")),
        ("name", True, gettext_lazy("e.g. 5a")),
        ("year", True, gettext_lazy("year group, 1 to 8")),
    ],
    "staff": [
        ("external_id", True, gettext_lazy("the staff member's id")),
        ("email", True, gettext_lazy("login and invitation address")),
        ("first_name", True, ""),
        ("last_name", True, ""),
        ("role", False, gettext_lazy("leerkracht, ib-er, directie, administratie")),
        ("groups", False, gettext_lazy("group names or ids, separated by ;")),
        ("weekdays", False, gettext_lazy("e.g. ma;di;wo; empty: Monday to Friday")),
    ],
    "pupils": [
        ("external_id", True, gettext_lazy("the pupil's id")),
        ("first_name", True, ""),
        ("last_name", True, ""),
        ("date_of_birth", False, gettext_lazy("e.g. 21-03-2017")),
        ("group", False, gettext_lazy("group name or id")),
        ("left_on", False, gettext_lazy("date the pupil left")),
    ],
    "guardians": [
        ("guardian_external_id", True, gettext_lazy("the guardian's id")),
        ("first_name", True, ""),
        ("last_name", True, ""),
        ("email", False, ""),
        ("phone", False, ""),
        ("pupil_external_id", True, gettext_lazy("the child's external id")),
        ("kind", True, gettext_lazy("ouder met gezag, ouder zonder gezag, stiefouder, verzorger")),
        ("access", False, gettext_lazy("volledig, op verzoek, geen, contactverbod")),
    ],
}

PURPOSE = {
    "groups": gettext_lazy("The groups of the current school year."),
    "staff": gettext_lazy("Staff and their groups; names groups from the first file."),
    "pupils": gettext_lazy("Pupils and their group; names groups from the first file."),
    "guardians": gettext_lazy("One row per guardian and child; names pupils from the third file."),
}


class DirectoryImportForm(_SchoolChoiceMixin, forms.Form):
    """Up to four files, each optional; the ones kept from before count as chosen."""

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        for spec in DIRECTORY_FILES:
            self.fields[spec.key] = forms.FileField(label=spec.file_name, required=False)
            self.fields[f"forget_{spec.key}"] = forms.BooleanField(required=False)
        self._init_school(schools)

    def clean(self):
        data = super().clean()
        for spec in DIRECTORY_FILES:
            upload = data.get(spec.key)
            if upload is not None and upload.size > MAX_FILE_BYTES:
                self.add_error(
                    spec.key,
                    _("%(file)s is larger than 2 MB; is it the right file?") % {"file": upload.name},
                )
        return data


def _kept(request: HttpRequest) -> dict[str, tuple[str, bytes]]:
    stored = request.session.get(SESSION_KEY, {}).get("files", {})
    return {key: (name, base64.b64decode(data)) for key, (name, data) in stored.items()}


def _keep(request: HttpRequest, school: School, files: dict[str, tuple[str, bytes]]) -> None:
    request.session[SESSION_KEY] = {
        "school": school.pk,
        "files": {key: [name, base64.b64encode(data).decode()] for key, (name, data) in files.items()},
    }


def _forget(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def _digest(school: School, files: dict[str, tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(str(school.pk).encode())
    for key in sorted(files):
        name, data = files[key]
        digest.update(f"\0{key}\0{name}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _summary(result: DirectoryImport) -> str:
    parts = [
        _("%(file)s: %(new)d new, %(updated)d changed, %(skipped)d unchanged")
        % {"file": f.name, "new": f.new, "updated": f.updated, "skipped": f.skipped}
        for f in result.files
    ]
    return _("Imported. %(files)s.") % {"files": "; ".join(parts)}


def directory_import_view(request: HttpRequest) -> HttpResponse:
    """GET: the page with the order and the columns. POST ``preview``: check the chosen files
    (nothing is saved). POST ``confirm``: import what was previewed. POST ``clear``: forget
    the kept files."""
    schools = access.schools_managed_by(request.user)
    if not schools.exists():
        raise PermissionDenied
    page = reverse("admin:directory_import")
    kept = _kept(request)
    action = request.POST.get("action", "preview") if request.method == "POST" else ""
    form = DirectoryImportForm(
        request.POST if action == "preview" else None,
        request.FILES if action == "preview" else None,
        schools=schools,
    )
    outcome: DirectoryImport | None = None
    digest = ""
    school: School | None = None

    if action == "clear":
        _forget(request)
        messages.info(request, _("The chosen files are forgotten; nothing was imported."))
        return HttpResponseRedirect(page)

    if action == "confirm":
        stored_school = request.session.get(SESSION_KEY, {}).get("school")
        school = schools.filter(pk=stored_school).first()
        if school is None or not kept or request.POST.get("digest") != _digest(school, kept):
            messages.error(request, _("The files changed since the preview. Please check the preview again."))
            return HttpResponseRedirect(page)
        outcome = directory_import(actor=request.user, school=school, files=kept, dry_run=False)
        if outcome.imported:
            _forget(request)
            messages.success(request, _summary(outcome))
            return HttpResponseRedirect(reverse("admin:index"))
        messages.error(
            request, _("Nothing was imported: the files have problems now. They are listed below.")
        )

    if action == "preview" and form.is_valid():
        school = form.cleaned_data["school"]
        for spec in DIRECTORY_FILES:
            if form.cleaned_data.get(f"forget_{spec.key}"):
                kept.pop(spec.key, None)
            upload = form.cleaned_data.get(spec.key)
            if upload is not None:
                kept[spec.key] = (strip_bidi(upload.name)[:200], upload.read())
        if not kept:
            form.add_error(None, ValidationError(_("Choose at least one file."), code="required"))
            _forget(request)
        else:
            _keep(request, school, kept)
            outcome = directory_import(actor=request.user, school=school, files=kept, dry_run=True)
            digest = _digest(school, kept)

    bad = {o.spec.key for o in outcome.files if o.problems} if outcome is not None else set()
    slots = [
        {
            "bad": spec.key in bad,
            "spec": spec,
            "number": n,
            "field": form[spec.key],
            "forget": form[f"forget_{spec.key}"],
            "kept": kept.get(spec.key, ("", b""))[0],
            "columns": COLUMNS[spec.key],
            "purpose": PURPOSE[spec.key],
        }
        for n, spec in enumerate(DIRECTORY_FILES, 1)
    ]
    context = {
        **_admin_context(request),
        "title": _("Import the school directory"),
        "form": form,
        "slots": slots,
        "outcome": outcome,
        "digest": digest,
        "can_confirm": outcome is not None and not outcome.problems and not outcome.imported,
        "school": school,
        "several_schools": schools.count() > 1,
    }
    return render(request, "admin/klimop/directory_import.html", context)


def _admin_context(request: HttpRequest) -> dict:
    from django.contrib import admin

    return admin.site.each_context(request)
