"""CSV import and export of the school directory (django-import-export).

- Every resource imports into one school, the importing user's, given to the
  constructor (``PupilResource(school=...)``; the admin passes it through
  ``get_import_resource_kwargs``). The file never names the school.
- Rows are matched on the school's own stable external ids, so importing the
  same file again changes nothing (``skip_unchanged``; skipped rows are reported).
- A file with any bad row imports nothing: the import runs in one transaction
  that is rolled back on any row error, validation errors included. Each bad row
  gets a translated message naming the column.
- Codes and labels are accepted in Dutch and English ("ouder met gezag" or
  "parent"); exports write the codes.

The column format is documented for schools in docs/import/README.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Prefetch, TextChoices
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.instance_loaders import CachedInstanceLoader, ModelInstanceLoader
from import_export.results import Result, RowResult

from . import access, worktime
from .forms import staff_user_for, staff_user_save
from .models import Group, Guardian, GuardianRelation, Pupil, School, SchoolYear, StaffMember
from .text import strip_bidi

Kind = GuardianRelation.Kind
Access = GuardianRelation.Access
Role = StaffMember.Role


def current_school_year(school: School) -> SchoolYear | None:
    """The school year containing today, else the latest one (e.g. during the summer)."""
    today = worktime.local_date(timezone.now())
    years = SchoolYear.objects.filter(school=school).order_by("-starts_on")
    return years.filter(starts_on__lte=today, ends_on__gte=today).first() or years.first()


class CSV(base_formats.CSV):
    """CSV as Dutch Excel writes it, too: semicolons between columns, Windows-1252 text.

    Read as bytes, so the encoding can be recognised: UTF-8 (with or without the
    byte-order mark Excel's "CSV UTF-8" writes), else Windows-1252 (Excel's plain
    "CSV"), which decodes any byte.
    """

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            try:
                in_stream = in_stream.decode("utf-8-sig")
            except UnicodeDecodeError:
                in_stream = in_stream.decode("cp1252")
        in_stream = in_stream.lstrip("\ufeff")
        header = in_stream.split("\n", 1)[0]
        if header.count(";") > header.count(","):
            kwargs.setdefault("delimiter", ";")
        return super().create_dataset(in_stream, **kwargs)


# --- what a resource knows about the school it imports into --------------------------------


def _key(value: str) -> str:
    """Compare codes and labels loosely: case, spaces, dashes and underscores don't matter."""
    return re.sub(r"[\s_\-]+", " ", value.strip().lower())


class ImportScope:
    """The importing school, its current school year, and lookups of its groups and pupils.

    Loaded once per import, so a file of 500 rows does not cost 500 lookups.
    """

    def __init__(self, school: School | None):
        self.school = school

    @cached_property
    def school_year(self) -> SchoolYear | None:
        return current_school_year(self.school) if self.school else None

    @cached_property
    def _groups(self) -> dict[str, Group]:
        if self.school_year is None:
            return {}
        groups = list(Group.objects.filter(school_year=self.school_year))
        index = {_key(g.name): g for g in groups}
        index.update({_key(g.external_id): g for g in groups})  # an external id wins over a name
        return index

    def group(self, value: str) -> Group | None:
        """A group of the current school year, by external id or name ("5a", "groep 5a")."""
        key = _key(value)
        return self._groups.get(key) or self._groups.get(re.sub(r"^groep ", "", key))

    @cached_property
    def _pupils(self) -> dict[str, Pupil]:
        if self.school is None:
            return {}
        return {p.external_id: p for p in Pupil.objects.filter(school=self.school)}

    def pupil(self, external_id: str) -> Pupil | None:
        return self._pupils.get(external_id)


# --- widgets: one column's text to a value and back -------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # spreadsheets turn "12" into 12.0
        value = int(value)
    return strip_bidi(str(value)).strip()


class TextWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return _text(value)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class EmailWidget(TextWidget):
    def clean(self, value, row=None, **kwargs):
        email = _text(value).lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise ValueError(_("“%(value)s” is not a valid e-mail address.") % {"value": email}) from None
        return email


class YearWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not re.fullmatch(r"[1-8]", text):
            raise ValueError(
                _("The year group must be a number from 1 to 8, not “%(value)s”.") % {"value": text}
            )
        return int(text)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class DateWidget(widgets.Widget):
    """Dates as 2017-03-21 or the Dutch 21-03-2017 (also with slashes); empty is no date."""

    FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = _text(value)
        if not text:
            return None
        for fmt in self.FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date, no time)
            except ValueError:
                continue
        raise ValueError(
            _("“%(value)s” is not a date; write it as 21-03-2017 or 2017-03-21.") % {"value": text}
        )

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class ChoiceWidget(widgets.Widget):
    """A choice by its code or its label in Dutch or English, plus common Dutch words.

    Empty stays empty: the resource decides whether that means "keep" or a default.
    """

    def __init__(self, choices: type[TextChoices], aliases: dict[str, str] | None = None):
        self.choices = choices
        self.aliases = aliases or {}
        super().__init__()

    @cached_property
    def _lookup(self) -> dict[str, str]:
        lookup = {}
        for language in ("en", "nl"):
            with translation.override(language):
                lookup.update({_key(str(label)): code for code, label in self.choices.choices})
        lookup.update({_key(word): code for word, code in self.aliases.items()})
        lookup.update({_key(code): code for code in self.choices.values})
        return lookup

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            return ""
        try:
            return self._lookup[_key(text)]
        except KeyError:
            raise ValueError(
                _("“%(value)s” is not one of: %(choices)s.")
                % {"value": text, "choices": ", ".join(self.choices.values)}
            ) from None

    def render(self, value, obj=None, **kwargs):
        return value or ""


class ScopedWidget(widgets.Widget):
    """A widget that looks things up in the importing school (set by the resource)."""

    scope: ImportScope


class GroupWidget(ScopedWidget):
    """A group of the current school year, by external id or name. Empty is no group."""

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            return None
        group = self.scope.group(text)
        if group is None:
            raise ValueError(
                _("Unknown group “%(value)s” in school year %(year)s.")
                % {"value": text, "year": self.scope.school_year}
            )
        return group

    def render(self, value, obj=None, **kwargs):
        return value.external_id if value else ""


class GroupsWidget(widgets.ManyToManyWidget, ScopedWidget):
    """Groups separated by ``;`` (or ``,``), each by external id or name."""

    def __init__(self):
        super().__init__(Group, separator=";", field="external_id")

    def clean(self, value, row=None, **kwargs):
        names = [n.strip() for n in re.split(r"[;,]", _text(value)) if n.strip()]
        groups, unknown = [], []
        for name in names:
            group = self.scope.group(name)
            if group is None:
                unknown.append(name)
            elif group not in groups:
                groups.append(group)
        if unknown:
            raise ValueError(
                _("Unknown group(s) %(names)s in school year %(year)s.")
                % {"names": ", ".join(f"“{n}”" for n in unknown), "year": self.scope.school_year}
            )
        return groups

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return self.separator.join(g.external_id for g in value.all())


class PupilWidget(ScopedWidget):
    """A pupil of the importing school by external id (required)."""

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            raise ValueError(_("Fill in the pupil's external id."))
        pupil = self.scope.pupil(text)
        if pupil is None:
            raise ValueError(_("Unknown pupil “%(value)s”: import the pupils first.") % {"value": text})
        return pupil

    def render(self, value, obj=None, **kwargs):
        return value.external_id if value else ""


WEEKDAY_WORDS = {
    0: ("ma", "maandag", "mo", "mon", "monday"),
    1: ("di", "dinsdag", "tu", "tue", "tuesday"),
    2: ("wo", "woensdag", "we", "wed", "wednesday"),
    3: ("do", "donderdag", "th", "thu", "thursday"),
    4: ("vr", "vrijdag", "fr", "fri", "friday"),
}
_WEEKDAY_LOOKUP = {word: day for day, words in WEEKDAY_WORDS.items() for word in words}


class WeekdaysWidget(widgets.Widget):
    """Working days as ``ma;di;wo``. Empty means the whole week, Monday to Friday."""

    def clean(self, value, row=None, **kwargs):
        words = [w for w in re.split(r"[;,\s]+", _text(value).lower()) if w]
        if not words:
            return frozenset(range(5))
        unknown = [w for w in words if w not in _WEEKDAY_LOOKUP]
        if unknown:
            raise ValueError(
                _("Unknown working day(s) %(days)s; use ma, di, wo, do, vr.")
                % {"days": ", ".join(f"“{w}”" for w in unknown)}
            )
        return frozenset(_WEEKDAY_LOOKUP[w] for w in words)

    def render(self, value, obj=None, **kwargs):
        return ";".join(WEEKDAY_WORDS[day][0] for day in sorted(value or ()))


class WeekdaysField(fields.Field):
    """The five ``works_<day>`` flags of a staff member as one column."""

    def get_value(self, instance):
        return instance.working_weekdays

    def save(self, instance, row, is_m2m=False, **kwargs):
        days = self.clean(row, **kwargs)
        for day, name in enumerate(StaffMember.WEEKDAY_FIELDS):
            setattr(instance, name, day in days)


# --- resources --------------------------------------------------------------------------------


class SchoolResource(resources.ModelResource):
    """Imports into ``school``, matches rows on external ids, imports all rows or none."""

    #: Columns a file must have; checked before any row, with one clear message.
    required_columns: tuple[str, ...] = ()
    #: Model field names whose errors belong to a column of another name.
    error_columns: dict[str, str] = {}

    class Meta:
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True
        instance_loader_class = CachedInstanceLoader

    def __init__(self, *, school: School | None = None, actor=None, in_set: bool = False, **kwargs):
        super().__init__(**kwargs)
        #: Part of the four files imported in one go (``directory_import``): that one
        #: transaction rolls everything back, so a file's good rows stay while the next
        #: files are checked against them.
        self.in_set = in_set
        self.scope = ImportScope(school)
        #: The importing manager: whose logins the file may set up (access.may_manage_login).
        self.actor = actor
        for field in self.fields.values():
            if isinstance(field.widget, ScopedWidget):
                field.widget.scope = self.scope

    @property
    def school(self) -> School | None:
        return self.scope.school

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=True,
        **kwargs,
    ):
        # All or nothing, whatever the caller asks: half a file would leave pupils
        # without their parents, or parents of a child the file meant to change.
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=use_transactions,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=not self.in_set,
            **kwargs,
        )

    def before_import(self, dataset, **kwargs):
        if self.school is None:
            raise ValueError(_("There is no school to import into."))
        dataset.headers = [_key(h or "").replace(" ", "_") for h in dataset.headers or ()]
        missing = [c for c in self.required_columns if c not in dataset.headers]
        if missing:
            raise ValueError(
                _("The file lacks the column(s): %(columns)s.") % {"columns": ", ".join(missing)}
            )

    def get_user_visible_fields(self):
        # Export-only columns (a group's school year) are not asked for in a file.
        ids = set(self.get_import_id_fields())
        return [
            field
            for field in super().get_user_visible_fields()
            if not field.readonly or self.get_field_name(field) in ids
        ]

    def import_instance(self, instance, row, **kwargs):
        """Like the library's, but checks many-to-many columns too and names errors by column."""
        errors = {}
        for field in self.get_import_fields():
            if field.readonly or field.column_name not in row:
                continue
            try:
                if isinstance(field.widget, widgets.ManyToManyWidget):
                    field.clean(row)  # saved after the instance; checked now
                else:
                    self.import_field(field, instance, row, **kwargs)
            except ValueError as e:
                errors[field.column_name] = ValidationError(str(e), code="invalid")
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        try:
            self.full_clean(instance, exclude=self._model_fields_for(errors))
        except ValidationError as e:
            for name, messages in e.message_dict.items():
                errors.setdefault(self._column_for(name), []).extend(messages)
        if errors:
            raise ValidationError(errors)

    def full_clean(self, instance, exclude: set[str]) -> None:
        instance.full_clean(exclude=exclude)

    def _column_for(self, model_field: str) -> str:
        if model_field == NON_FIELD_ERRORS:
            return model_field
        if model_field in self.error_columns:
            return self.error_columns[model_field]
        for field in self.fields.values():
            if field.attribute and field.attribute.split("__")[-1] == model_field:
                return field.column_name
        return model_field

    def _model_fields_for(self, errors: dict) -> set[str]:
        names = set()
        for field in self.fields.values():
            if field.column_name in errors and field.attribute:
                names.add(field.attribute.split("__")[-1])
        names.update(m for m, c in self.error_columns.items() if c in errors)
        return names


class GroupResource(SchoolResource):
    """Groups of the school's current school year: ``external_id, name, year``."""

    external_id = fields.Field("external_id", "external_id", TextWidget())
    name = fields.Field("name", "name", TextWidget())
    year = fields.Field("year", "year", YearWidget())
    school_year = fields.Field("school_year__name", "school_year", TextWidget(), readonly=True)

    required_columns = ("external_id", "name", "year")

    class Meta:
        model = Group
        fields = ("external_id", "name", "year", "school_year")
        import_id_fields = ("external_id",)
        name = gettext_lazy("Groups")

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        if self.scope.school_year is None:
            raise ValueError(_("Add a school year first: groups are imported into it."))

    def get_queryset(self):
        return Group.objects.filter(school=self.school).select_related("school_year")

    def init_instance(self, row=None):
        return Group(school=self.school, school_year=self.scope.school_year)

    def after_init_instance(self, instance, new, row, **kwargs):
        year = self.scope.school_year
        if not new and year is not None and instance.school_year_id != year.pk:
            raise ValidationError(
                {
                    "external_id": _(
                        "Group “%(id)s” belongs to school year %(other)s; this file is imported "
                        "into %(year)s. Give the new group its own external id."
                    )
                    % {"id": instance.external_id, "other": instance.school_year, "year": year}
                }
            )


class PupilResource(SchoolResource):
    """Pupils: ``external_id, first_name, last_name, date_of_birth, group, left_on``."""

    external_id = fields.Field("external_id", "external_id", TextWidget())
    first_name = fields.Field("first_name", "first_name", TextWidget())
    last_name = fields.Field("last_name", "last_name", TextWidget())
    date_of_birth = fields.Field("date_of_birth", "date_of_birth", DateWidget())
    group = fields.Field("group", "group", GroupWidget())
    left_on = fields.Field("left_on", "left_on", DateWidget())

    required_columns = ("external_id", "first_name", "last_name")

    class Meta:
        model = Pupil
        fields = ("external_id", "first_name", "last_name", "date_of_birth", "group", "left_on")
        import_id_fields = ("external_id",)
        name = gettext_lazy("Pupils")

    def get_queryset(self):
        return Pupil.objects.filter(school=self.school).select_related("group")

    def init_instance(self, row=None):
        return Pupil(school=self.school)


#: What a new relation may see when the file leaves ``access`` empty (access.py's rules).
DEFAULT_ACCESS = {
    Kind.PARENT_WITH_AUTHORITY: Access.FULL,
    Kind.PARENT_WITHOUT_AUTHORITY: Access.ON_REQUEST,
    Kind.STEP_PARENT: Access.NONE,
    Kind.CARER: Access.NONE,
}

KIND_ALIASES = {
    "ouder met gezag": Kind.PARENT_WITH_AUTHORITY,
    "gezaghebbende ouder": Kind.PARENT_WITH_AUTHORITY,
    "ouder/verzorger met gezag": Kind.PARENT_WITH_AUTHORITY,
    "voogd": Kind.PARENT_WITH_AUTHORITY,
    "ouder zonder gezag": Kind.PARENT_WITHOUT_AUTHORITY,
    "niet gezaghebbende ouder": Kind.PARENT_WITHOUT_AUTHORITY,
    "parent without authority": Kind.PARENT_WITHOUT_AUTHORITY,
    "stiefouder": Kind.STEP_PARENT,
    "bonusouder": Kind.STEP_PARENT,
    "stepparent": Kind.STEP_PARENT,
    "verzorger": Kind.CARER,
    "andere verzorger": Kind.CARER,
    "overige verzorger": Kind.CARER,
    "pleegouder": Kind.CARER,
}
ACCESS_ALIASES = {
    "volledig": Access.FULL,
    "op verzoek": Access.ON_REQUEST,
    "informatie op verzoek": Access.ON_REQUEST,
    "on request": Access.ON_REQUEST,
    "geen": Access.NONE,
    "contactverbod": Access.BARRED,
    "rechterlijk verbod": Access.BARRED,
    "geblokkeerd": Access.BARRED,
}
ROLE_ALIASES = {
    "leerkracht": Role.TEACHER,
    "leraar": Role.TEACHER,
    "groepsleerkracht": Role.TEACHER,
    "ib er": Role.CARE_COORDINATOR,
    "ib'er": Role.CARE_COORDINATOR,
    "intern begeleider": Role.CARE_COORDINATOR,
    "zorgcoördinator": Role.CARE_COORDINATOR,
    "care coordinator": Role.CARE_COORDINATOR,
    "directeur": Role.DIRECTOR,
    "directie": Role.DIRECTOR,
    "administratie": Role.OFFICE,
    "administratief medewerker": Role.OFFICE,
}


class GuardianResource(SchoolResource):
    """One row per guardian and pupil; creates or updates the guardian and the relation.

    Guardian contact details that a parent with an account keeps current themself
    (e-mail, phone) are only filled in by the import when empty, so a re-import of
    an old export never undoes their change. Access left empty keeps what the
    school recorded, or for a new relation follows from the kind.
    """

    guardian_external_id = fields.Field(
        "guardian__external_id", "guardian_external_id", TextWidget(), readonly=True
    )
    first_name = fields.Field("guardian__first_name", "first_name", TextWidget())
    last_name = fields.Field("guardian__last_name", "last_name", TextWidget())
    email = fields.Field("guardian__email", "email", EmailWidget())
    phone = fields.Field("guardian__phone", "phone", TextWidget())
    pupil_external_id = fields.Field("pupil", "pupil_external_id", PupilWidget())
    kind = fields.Field("kind", "kind", ChoiceWidget(Kind, KIND_ALIASES))
    access = fields.Field("access", "access", ChoiceWidget(Access, ACCESS_ALIASES))

    required_columns = (
        "guardian_external_id",
        "first_name",
        "last_name",
        "pupil_external_id",
        "kind",
    )
    error_columns = {"external_id": "guardian_external_id", "guardian": "guardian_external_id"}
    SELF_MAINTAINED = ("guardian__email", "guardian__phone")

    class Meta:
        model = GuardianRelation
        fields = (
            "guardian_external_id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "pupil_external_id",
            "kind",
            "access",
        )
        import_id_fields = ("guardian_external_id", "pupil_external_id")
        instance_loader_class = ModelInstanceLoader  # get_instance below does the lookup
        name = gettext_lazy("Guardians")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._guardian_rows: dict[str, tuple[tuple, int]] = {}
        self._editable: dict[int, bool] = {}

    def get_queryset(self):
        return GuardianRelation.objects.filter(pupil__school=self.school).select_related("guardian", "pupil")

    def get_instance(self, instance_loader, row):
        guardian_id = _text(row.get("guardian_external_id"))
        pupil_id = _text(row.get("pupil_external_id"))
        if not guardian_id or not pupil_id:
            return None
        return (
            self.get_queryset().filter(guardian__external_id=guardian_id, pupil__external_id=pupil_id).first()
        )

    def before_import_row(self, row, **kwargs):
        guardian_id = _text(row.get("guardian_external_id"))
        if not guardian_id:
            raise ValidationError({"guardian_external_id": _("Fill in the guardian's external id.")})
        # A guardian with two children has two rows; they must agree.
        details = tuple(_text(row.get(c)).lower() for c in ("first_name", "last_name", "email", "phone"))
        number = kwargs.get("row_number")
        seen, seen_in = self._guardian_rows.setdefault(guardian_id, (details, number))
        if seen != details:
            raise ValidationError(
                _("Guardian “%(id)s” has other names or contact details here than in row %(row)s.")
                % {"id": guardian_id, "row": seen_in}
            )

    def init_instance(self, row=None):
        guardian_id = _text(row.get("guardian_external_id"))
        guardian = Guardian.objects.filter(external_id=guardian_id).first()
        if guardian is None:
            guardian = Guardian(external_id=guardian_id)
        elif not self._may_update(guardian):
            # Another school's guardian: never overwrite their details from this file.
            raise ValidationError(
                {
                    "guardian_external_id": _(
                        "External id “%(id)s” is already used for a guardian of another school."
                    )
                    % {"id": guardian_id}
                }
            )
        return GuardianRelation(guardian=guardian)

    def _may_edit(self, guardian: Guardian) -> bool:
        if guardian.pk is None:
            return True
        if guardian.pk not in self._editable:
            self._editable[guardian.pk] = self.actor is None or access.may_edit_guardian_details(
                self.actor, guardian
            )  # actor None: the system (a management command)
        return self._editable[guardian.pk]

    def _may_update(self, guardian: Guardian) -> bool:
        relations = GuardianRelation.objects.filter(guardian=guardian)
        return relations.filter(pupil__school=self.school).exists() or not relations.exists()

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.attribute.startswith("guardian__") and not self._may_edit(instance.guardian):
            # The person's record is shared with another school, or theirs since they
            # signed in: this file keeps it as it is (access.may_edit_guardian_details).
            field.clean(row)  # still report a malformed value
            return
        if field.attribute in self.SELF_MAINTAINED:
            guardian = instance.guardian
            name = field.attribute.split("__")[-1]
            if guardian.user_id and getattr(guardian, name):
                field.clean(row)  # still report a malformed value
                return
        if field.attribute == "access" and not field.clean(row):
            return  # empty keeps what the school recorded; see import_instance
        super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        try:
            super().import_instance(instance, row, **kwargs)
        finally:
            if not instance.access:
                instance.access = DEFAULT_ACCESS.get(instance.kind, "")

    def full_clean(self, instance, exclude: set[str]) -> None:
        errors = {}
        if "kind" in exclude:
            exclude = {"access", *exclude}  # its default follows from the kind
        try:
            instance.guardian.full_clean(exclude={"user", *exclude})
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        try:
            # The guardian may not be saved yet; it was checked just above.
            instance.full_clean(exclude={"guardian", *exclude}, validate_unique=False)
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs):
        guardian = instance.guardian
        guardian.save()
        instance.guardian = guardian


class StaffResource(SchoolResource):
    """Staff: ``external_id, email, first_name, last_name, role, groups, weekdays``.

    Creates or updates the staff member and their login (found by e-mail address).
    """

    external_id = fields.Field("external_id", "external_id", TextWidget())
    email = fields.Field("user__email", "email", EmailWidget())
    first_name = fields.Field("user__first_name", "first_name", TextWidget())
    last_name = fields.Field("user__last_name", "last_name", TextWidget())
    role = fields.Field("role", "role", ChoiceWidget(Role, ROLE_ALIASES))
    groups = fields.Field("groups", "groups", GroupsWidget())
    weekdays = WeekdaysField("working_weekdays", "weekdays", WeekdaysWidget())

    required_columns = ("external_id", "email", "first_name", "last_name")
    error_columns = {"user": "email"}

    class Meta:
        model = StaffMember
        fields = (
            "external_id",
            "email",
            "first_name",
            "last_name",
            "role",
            "groups",
            "weekdays",
        )
        import_id_fields = ("external_id",)
        name = gettext_lazy("Staff")

    def get_queryset(self):
        return (
            StaffMember.objects.filter(school=self.school)
            .select_related("user")
            .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
        )

    def init_instance(self, row=None):
        return StaffMember(school=self.school)

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field is self.fields["email"]:
            email = field.clean(row)
            if not email:
                raise ValueError(_("Fill in the e-mail address."))
            try:
                # The name goes with the address: both are the login's, set together
                # and only where the importing manager may (access.may_manage_login).
                instance.user = staff_user_for(
                    actor=self.actor,
                    staff=instance,
                    school=self.school,
                    email=email,
                    first_name=self.fields["first_name"].clean(row),
                    last_name=self.fields["last_name"].clean(row),
                )
            except ValidationError as e:
                raise ValueError(" ".join(e.messages)) from None
            return
        if field.attribute.startswith("user__"):
            return  # set with the e-mail address above (or refused there)
        if field is self.fields["role"] and not field.clean(row):
            return  # empty keeps the role (a new staff member: teacher)
        super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)

    def full_clean(self, instance, exclude: set[str]) -> None:
        errors = {}
        user = _user_of(instance)
        if user is not None and "email" not in exclude:
            try:
                # Uniqueness of the address was settled by staff_user_for.
                user.full_clean(exclude={"password"}, validate_unique=False)
            except ValidationError as e:
                errors = e.update_error_dict(errors)
        exclude = set(exclude)
        if user is None or user.pk is None:
            exclude.add("user")  # saved just before the staff member
        try:
            instance.full_clean(exclude=exclude)
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs):
        user = instance.user
        staff_user_save(user, school=self.school, role=instance.role)
        instance.user = user


def _user_of(staff: StaffMember):
    try:
        return staff.user
    except StaffMember.user.RelatedObjectDoesNotExist:
        return None


# --- the four files in one go ----------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryFile:
    """One of the directory's files: its form field, the name the docs give it, its resource."""

    key: str
    file_name: str
    resource: type[SchoolResource]


#: The order the files import in (docs/import/README.md): each refers to the ones before it.
DIRECTORY_FILES: tuple[DirectoryFile, ...] = (
    DirectoryFile("groups", "groups.csv", GroupResource),
    DirectoryFile("staff", "staff.csv", StaffResource),
    DirectoryFile("pupils", "pupils.csv", PupilResource),
    DirectoryFile("guardians", "guardians.csv", GuardianResource),
)


@dataclass(frozen=True)
class ImportProblem:
    """A reason a file cannot be imported: which file, which data row (1 = the first line
    after the column names; None for the whole file), which column, and why."""

    file: str
    row: int | None
    column: str
    message: str


@dataclass
class FileOutcome:
    """What one file would do (or did): its rows by action, and its problems."""

    spec: DirectoryFile
    name: str
    result: Result | None = None
    problems: list[ImportProblem] = dataclasses.field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        if self.result is None:
            return {}
        return {k: v for k, v in self.result.totals.items() if v}

    @property
    def new(self) -> int:
        return self.result.totals[RowResult.IMPORT_TYPE_NEW] if self.result else 0

    @property
    def updated(self) -> int:
        return self.result.totals[RowResult.IMPORT_TYPE_UPDATE] if self.result else 0

    @property
    def skipped(self) -> int:
        return self.result.totals[RowResult.IMPORT_TYPE_SKIP] if self.result else 0

    @property
    def rows(self) -> list[RowResult]:
        return list(self.result.rows) if self.result else []


@dataclass
class DirectoryImport:
    """The outcome of ``directory_import``: per file, in the import order."""

    files: list[FileOutcome]
    imported: bool

    @property
    def problems(self) -> list[ImportProblem]:
        return [p for f in self.files for p in f.problems]


def _problems_of(name: str, result: Result) -> list[ImportProblem]:
    problems = [ImportProblem(name, None, "", str(e.error)) for e in result.base_errors]
    for row in result.error_rows:
        problems += [ImportProblem(name, row.number, "", str(e.error)) for e in row.errors]
    for invalid in result.invalid_rows:
        for column, messages in invalid.error_dict.items():
            column = "" if column == NON_FIELD_ERRORS else column
            problems += [ImportProblem(name, invalid.number, column, str(m)) for m in messages]
    return sorted(problems, key=lambda p: (p.row or 0, p.column))


def directory_import(
    *, actor, school: School, files: Mapping[str, tuple[str, bytes]], dry_run: bool
) -> DirectoryImport:
    """Import up to four directory files (``files``: key of ``DIRECTORY_FILES`` → (file name,
    content)) into ``school``, in the documented order, all of them or nothing.

    Precondition: the actor manages the school (``access.schools_managed_by``), else
    ``PermissionDenied``. One transaction holds every file: each file is checked against the
    rows of the files before it, and any problem in any file (or ``dry_run``: the preview)
    rolls all of them back. Each file goes through its own resource, so the rules, messages
    and idempotency are the single-file import's.
    """
    if not access.schools_managed_by(actor).filter(pk=school.pk).exists():
        raise PermissionDenied
    outcomes: list[FileOutcome] = []
    with transaction.atomic():
        for spec in DIRECTORY_FILES:
            if spec.key not in files:
                continue
            name, content = files[spec.key]
            outcome = FileOutcome(spec=spec, name=name or spec.file_name)
            outcomes.append(outcome)
            try:
                dataset = CSV().create_dataset(content)
            except Exception:  # noqa: BLE001 - any unreadable file gets the one message
                outcome.problems.append(
                    ImportProblem(
                        outcome.name,
                        None,
                        "",
                        _("This file cannot be read as CSV. Save it as CSV and try again."),
                    )
                )
                continue
            resource = spec.resource(school=school, actor=actor, in_set=True)
            outcome.result = resource.import_data(dataset, dry_run=False, use_transactions=True)
            outcome.problems = _problems_of(outcome.name, outcome.result)
        failed = any(o.problems for o in outcomes)
        if dry_run or failed:
            transaction.set_rollback(True)
        else:
            _log_import(actor, outcomes)
    return DirectoryImport(files=outcomes, imported=not (dry_run or failed))


#: The admin's history entry of each row an import added or changed (the single-file import of
#: django-import-export writes one per row too).
_LOGGED = {RowResult.IMPORT_TYPE_NEW: ADDITION, RowResult.IMPORT_TYPE_UPDATE: CHANGE}


def _log_import(actor, outcomes: list[FileOutcome]) -> None:
    """One admin history entry per row added or changed, by the person who confirmed, naming
    the file: the object's history and the admin's "recent actions" say who imported what.
    A row of guardians.csv is a guardian's relation to a pupil: it goes in the guardian's
    history (once per guardian and kind of entry). Rows the import left as they were get none.
    Written in the import's transaction, so an import that is rolled back leaves no entry."""
    entries: dict[tuple[int, str, int], LogEntry] = {}
    for outcome in outcomes:
        model = outcome.spec.resource._meta.model
        rows = [
            (row, flag) for row in outcome.rows if (flag := _LOGGED.get(row.import_type)) and row.object_id
        ]
        objects: dict[str, tuple[type, str, str]] = {
            str(row.object_id): (model, str(row.object_id), row.object_repr or "") for row, _flag in rows
        }
        if model is GuardianRelation:
            relations = GuardianRelation.objects.filter(pk__in=objects).select_related("guardian")
            objects = {str(r.pk): (Guardian, str(r.guardian_id), str(r.guardian)) for r in relations}
        for row, flag in rows:
            target, object_id, text = objects[str(row.object_id)]
            content_type = ContentType.objects.get_for_model(target)
            message = (
                _("Added by the school directory import (%(file)s).")
                if flag == ADDITION
                else _("Changed by the school directory import (%(file)s).")
            ) % {"file": outcome.name}
            entries.setdefault(
                (content_type.pk, object_id, flag),
                LogEntry(
                    user_id=actor.pk,
                    content_type=content_type,
                    object_id=object_id,
                    object_repr=text[:200],
                    action_flag=flag,
                    change_message=message,
                ),
            )
    LogEntry.objects.bulk_create(entries.values())
