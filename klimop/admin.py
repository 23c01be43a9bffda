"""The Django admin of the school directory, for directors, the office and administrators.

Directors and the office (``access.is_school_manager``) manage their own school
here without Django's ``is_staff`` flag or permission rows (klimop.admin_site).
``SchoolScopedAdmin`` is the one place that scopes: every list, every choice in a
form and every save is limited to ``access.schools_managed_by(user)``; another
school's object is "not found". Administrators (superusers) see everything.

Imports (groups → staff → pupils → guardians) go into the importing user's school;
the resources and their rules are in klimop.resources, the file format in
docs/import/README.md.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import NestedObjects, quote, unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats

from . import access, selectors, services
from .admin_site import ExportForm
from .forms import (
    SchoolConfirmImportForm,
    SchoolImportForm,
    SchoolScopedModelForm,
    StaffMemberAdminForm,
    UserAdminChangeForm,
    UserAdminCreationForm,
)
from .models import (
    Group,
    Guardian,
    GuardianRelation,
    NonSchoolDay,
    OfficeHours,
    Pupil,
    School,
    SchoolYear,
    StaffMember,
    User,
)
from .resources import CSV, GroupResource, GuardianResource, PupilResource, StaffResource

# --- scoping ----------------------------------------------------------------------------------


def managed_school_ids(request) -> list[int]:
    """The schools the user manages, looked up once per request."""
    if not hasattr(request, "_klimop_managed_school_ids"):
        request._klimop_managed_school_ids = list(
            access.schools_managed_by(request.user).values_list("pk", flat=True)
        )
    return request._klimop_managed_school_ids


def is_manager(request) -> bool:
    user = request.user
    return bool(user.is_active and (user.is_superuser or access.is_school_manager(user)))


def scope_to_schools(queryset: QuerySet, school_ids: list[int]) -> QuerySet:
    """The rows of these schools. A model the directory does not know: none at all."""
    model = queryset.model
    if model is School:
        return queryset.filter(pk__in=school_ids)
    if model is Guardian:
        # A subquery, not a join: no duplicates, so the admin can still delete.
        relations = GuardianRelation.objects.filter(pupil__school__in=school_ids)
        return queryset.filter(pk__in=relations.values("guardian_id"))
    if model is GuardianRelation:
        return queryset.filter(pupil__school__in=school_ids)
    if any(f.name == "school" for f in model._meta.get_fields()):
        return queryset.filter(school__in=school_ids)
    return queryset.none()


def object_school_ids(obj) -> set[int]:
    """The schools an object belongs to (none yet for a guardian without children)."""
    if isinstance(obj, School):
        return {obj.pk}
    if isinstance(obj, Guardian):
        if obj.pk is None:
            return set()
        # Not obj.relations: the admin prefetches those limited to the viewer's school.
        relations = GuardianRelation.objects.filter(guardian=obj)
        return set(relations.values_list("pupil__school_id", flat=True))
    if isinstance(obj, GuardianRelation):
        return {obj.pupil.school_id} if obj.pupil_id else set()
    return {obj.school_id} if getattr(obj, "school_id", None) else set()


#: The most objects a delete page names; the rest are counted in its summary.
DELETE_PAGE_LINES = 100


def _named_lines(admin_site, tree: list, limit: int) -> tuple[list, int]:
    """The nested list of a delete page (Django's ``NestedObjects.nested``: each object, then
    the list of what goes with it), naming the first ``limit`` objects in reading order and
    leaving out the rest and the rows of link tables. Returns the lines and how many it named."""
    named = 0

    def walk(items: list) -> list:
        nonlocal named
        kept: list = []
        parent_kept = False
        for item in items:
            if isinstance(item, list):
                if parent_kept and (nested := walk(item)):
                    kept.append(nested)
            elif not item._meta.auto_created and named < limit:
                kept.append(_delete_page_line(admin_site, item))
                named += 1
                parent_kept = True
            else:
                parent_kept = False
        return kept

    return walk(tree), named


def _delete_page_line(admin_site, obj):
    """One object on a delete page, as Django names it: its kind, and a link to it when the
    admin has a page for it."""
    opts = obj._meta
    if admin_site.is_registered(obj.__class__):
        try:
            url = reverse(
                f"{admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=(quote(obj.pk),)
            )
        except NoReverseMatch:
            pass
        else:
            return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, obj)
    return f"{capfirst(opts.verbose_name)}: {obj}"


class _ScopedFormfieldsMixin:
    """Choices in forms: only the manager's schools' groups, pupils, years and so on."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser and "queryset" not in kwargs:
            related = db_field.remote_field.model
            ids = managed_school_ids(request)
            kwargs["queryset"] = scope_to_schools(related._default_manager.all(), ids)
            if related is School and len(ids) == 1:
                # Their only school: shown, filled in, not to be changed.
                kwargs["initial"] = ids[0]
                kwargs["disabled"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not request.user.is_superuser and "queryset" not in kwargs:
            related = db_field.remote_field.model
            kwargs["queryset"] = scope_to_schools(related._default_manager.all(), managed_school_ids(request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class SchoolScopedAdmin(_ScopedFormfieldsMixin, admin.ModelAdmin):
    """A directory model in the admin, limited to the schools the user manages.

    Managers may view, add, change and delete; a subclass narrows that (School).
    Saving an object into another school is refused, whatever the form sent.
    """

    form = SchoolScopedModelForm

    def has_module_permission(self, request):
        return is_manager(request)

    def get_deleted_objects(self, objs, request):
        """What the delete page lists, as Django's (every object the delete removes, with its
        kind in the summary, and whether the user may delete each), with two changes:

        - without the rows of Django's own link tables ("Round-group-relatie: Round_groups
          object (1)"): links between two things, removed with them, with no name;
        - at most ``DELETE_PAGE_LINES`` lines: a school year removes thousands of rows (every
          consent answer of the year, each named after its pupil and parent), and naming all
          of them took seconds. The summary still counts every kind; every object is still
          checked for the permission to delete it.
        """
        objs = list(objs)
        if not objs:
            return [], {}, set(), []
        collector = NestedObjects(using=router.db_for_write(objs[0]._meta.model), origin=objs)
        collector.collect(objs)
        perms_needed: set = set()
        links = [m for m in apps.get_models(include_auto_created=True) if m._meta.auto_created]

        def checked(obj):
            if self.admin_site.is_registered(obj.__class__):
                model_admin = self.admin_site.get_model_admin(obj.__class__)
                if not model_admin.has_delete_permission(request, obj):
                    perms_needed.add(obj._meta.verbose_name)
            return obj

        to_delete, named = _named_lines(self.admin_site, collector.nested(checked), DELETE_PAGE_LINES)
        if hidden := sum(len(v) for m, v in collector.model_objs.items() if m not in links) - named:
            to_delete.append(
                _("… and %(count)d more, counted by kind in the summary above.") % {"count": hidden}
            )
        protected = [
            _delete_page_line(self.admin_site, obj) for obj in list(collector.protected)[:DELETE_PAGE_LINES]
        ]
        model_count = {
            model._meta.verbose_name_plural: len(found)
            for model, found in collector.model_objs.items()
            if model not in links
        }
        return to_delete, model_count, perms_needed, protected

    def has_view_permission(self, request, obj=None):
        return is_manager(request) and self._in_scope(request, obj)

    def has_add_permission(self, request):
        return is_manager(request)

    def has_change_permission(self, request, obj=None):
        return is_manager(request) and self._in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_manager(request) and self._in_scope(request, obj)

    def _in_scope(self, request, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        schools = object_school_ids(obj)
        return not schools or bool(schools & set(managed_school_ids(request)))

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return scope_to_schools(queryset, managed_school_ids(request))

    def get_list_filter(self, request):
        # Only an administrator of several schools needs to tell them apart.
        list_filter = list(super().get_list_filter(request))
        if "school" in list_filter and len(managed_school_ids(request)) < 2:
            list_filter.remove("school")
        return list_filter

    def get_list_display(self, request):
        list_display = list(super().get_list_display(request))
        if "school" in list_display and len(managed_school_ids(request)) < 2:
            list_display.remove("school")
        return list_display

    def save_model(self, request, obj, form, change):
        if not self._in_scope(request, obj):
            raise PermissionDenied
        super().save_model(request, obj, form, change)


class SchoolScopedInline(_ScopedFormfieldsMixin, admin.TabularInline):
    extra = 0

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return scope_to_schools(queryset, managed_school_ids(request))

    def has_view_permission(self, request, obj=None):
        return is_manager(request)

    def has_add_permission(self, request, obj=None):
        return is_manager(request)

    def has_change_permission(self, request, obj=None):
        return is_manager(request)

    def has_delete_permission(self, request, obj=None):
        return is_manager(request)


class SchoolSettingsInline(_ScopedFormfieldsMixin, admin.StackedInline):
    """A feature's own settings of a school (one row), shown on the school's page.

    One place per school for every setting: the school's own (``School``, the agreements
    of its quality card) and each feature's settings model, which the feature adds here
    with ``register_school_settings`` (the core imports no feature).
    """

    extra = 1
    max_num = 1
    min_num = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return is_manager(request)

    def has_add_permission(self, request, obj=None):
        return is_manager(request)

    def has_change_permission(self, request, obj=None):
        return is_manager(request)

    def has_delete_permission(self, request, obj=None):
        return False


#: The features' settings inlines, in the order they registered (see SchoolAdmin.get_inlines).
SCHOOL_SETTINGS_INLINES: list[type[SchoolSettingsInline]] = []


def register_school_settings(inline: type[SchoolSettingsInline]) -> type[SchoolSettingsInline]:
    """A feature's admin adds its settings model to the school's page (usable as a decorator)."""
    if inline not in SCHOOL_SETTINGS_INLINES:
        SCHOOL_SETTINGS_INLINES.append(inline)
    return inline


class SchoolImportExportMixin(ImportExportMixin):
    """CSV import and export into the importing user's school, all rows or none."""

    import_formats = [CSV]
    export_formats = [base_formats.CSV]
    import_form_class = SchoolImportForm
    confirm_form_class = SchoolConfirmImportForm
    export_form_class = ExportForm  # columns labelled in the reader's language

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_import_form_kwargs(self, request):
        return {**super().get_import_form_kwargs(request), "schools": self._schools(request)}

    def get_confirm_form_kwargs(self, request, import_form=None):
        kwargs = super().get_confirm_form_kwargs(request, import_form)
        return {**kwargs, "schools": self._schools(request)}

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["school"] = import_form.cleaned_data["school"].pk
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):
        # The school comes from the form, whose choices are the user's own schools;
        # never from the file.
        form = kwargs.get("form")
        school = getattr(form, "cleaned_data", {}).get("school")
        return {
            **super().get_import_resource_kwargs(request, **kwargs),
            "school": school,
            "actor": request.user,
        }

    def process_result(self, result, request):
        # The confirm step is only offered for a clean dry run; if the data changed
        # in between, the resource has rolled everything back. Say so; log nothing.
        if result.has_errors() or result.has_validation_errors():
            messages.error(
                request, _("Nothing was imported: the file has errors now. Upload it again to see them.")
            )
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_import"))
        return super().process_result(result, request)

    def _schools(self, request) -> QuerySet[School]:
        return School.objects.filter(pk__in=managed_school_ids(request))


def _report(request, sent: int, skipped: int, failed: list[str]) -> None:
    if sent:
        messages.success(
            request,
            ngettext("%(count)d invitation sent.", "%(count)d invitations sent.", sent) % {"count": sent},
        )
    if skipped:
        messages.warning(
            request,
            ngettext(
                "%(count)d skipped: no e-mail address.",
                "%(count)d skipped: no e-mail address.",
                skipped,
            )
            % {"count": skipped},
        )
    for message in failed:
        messages.error(request, message)


# --- school and calendar ----------------------------------------------------------------------


class OfficeHoursInline(SchoolScopedInline):
    model = OfficeHours
    max_num = 7


@admin.register(School)
class SchoolAdmin(SchoolScopedAdmin):
    """Managers change their own school's settings; only administrators add or remove schools."""

    inlines = [OfficeHoursInline]
    list_display = ["name", "slug", "region", "phone", "email"]
    search_fields = ["name", "slug"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "region", "phone", "email", "address"]}),
        (
            _("Messages and posts"),
            {
                "fields": [
                    "remind_after_working_days",
                    "escalate_after_working_days",
                    "atmosphere_posts_per_week",
                ]
            },
        ),
        (
            _("Absences and leave"),
            {
                "fields": [
                    "sick_report_cutoff",
                ]
            },
        ),
        (
            _("Calendar"),
            {
                "fields": [
                    "closed_on_good_friday",
                    "closed_on_liberation_day",
                ]
            },
        ),
    ]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_inlines(self, request, obj):
        # Office hours, then every feature's own settings: all of a school's settings on its page.
        return [*self.inlines, *SCHOOL_SETTINGS_INLINES]

    def get_readonly_fields(self, request, obj=None):
        # The short name is part of addresses (e.g. calendar feeds); an administrator's job.
        return [] if request.user.is_superuser else ["slug"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.office_hours_ensure_defaults(school=form.instance)


@admin.register(SchoolYear)
class SchoolYearAdmin(SchoolScopedAdmin):
    list_display = ["name", "school", "starts_on", "ends_on", "non_school_days"]
    list_filter = ["school"]
    ordering = ["school", "-starts_on"]
    actions = ["fill_in_holidays"]
    readonly_fields = ["national_days"]
    fieldsets = [
        (None, {"fields": ["school", "name", "starts_on", "ends_on"]}),
        (
            _("National days the school decides on"),
            {
                "fields": ["national_days"],
                "description": _(
                    "Good Friday and Liberation Day (5 May) are national holidays, but schools "
                    "decide themselves whether they are open. Klimop enters both as closed, "
                    "unless the school's settings say otherwise (Calendar: closed on "
                    "Good Friday, closed on Liberation Day). To change one year, add or delete "
                    "the day under Days without school."
                ),
            },
        ),
    ]

    def get_queryset(self, request):
        days = (
            NonSchoolDay.objects.filter(
                school=OuterRef("school"),
                date__gte=OuterRef("starts_on"),
                date__lte=OuterRef("ends_on"),
            )
            .order_by()
            .values("school")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .select_related("school")
            .annotate(non_school_day_count=Coalesce(Subquery(days), 0))
        )

    @admin.display(description=_("days without school"), ordering="non_school_day_count")
    def non_school_days(self, year: SchoolYear):
        url = (
            reverse("admin:klimop_nonschoolday_changelist")
            + "?"
            + urlencode(
                {
                    "school__id__exact": year.school_id,
                    "date__gte": year.starts_on.isoformat(),
                    "date__lte": year.ends_on.isoformat(),
                }
            )
        )
        return format_html('<a href="{}">{}</a>', url, year.non_school_day_count)

    @admin.display(description=_("this school year"))
    def national_days(self, year: SchoolYear):
        if year.pk is None:
            return "–"
        rows = selectors.national_day_states(school=year.school, start=year.starts_on, end=year.ends_on)
        return format_html_join("", "<div>{}: {}</div>", rows) or "–"

    @admin.action(description=_("Fill in holidays from the national calendar"))
    def fill_in_holidays(self, request, queryset):
        added = 0
        for year in queryset.select_related("school"):
            added += services.non_school_days_fill(school=year.school, start=year.starts_on, end=year.ends_on)
        messages.success(
            request,
            ngettext(
                "%(count)d day without school added.",
                "%(count)d days without school added.",
                added,
            )
            % {"count": added},
        )


@admin.register(NonSchoolDay)
class NonSchoolDayAdmin(SchoolScopedAdmin):
    list_display = ["date", "weekday", "name", "kind", "from_calendar", "school"]
    list_filter = ["kind", "from_calendar", "school"]
    date_hierarchy = "date"
    search_fields = ["name"]
    ordering = ["date"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("school")

    @admin.display(description=_("weekday"))
    def weekday(self, day: NonSchoolDay) -> str:
        return OfficeHours.Weekday(day.date.weekday()).label


# --- groups and pupils ------------------------------------------------------------------------


@admin.register(Group)
class GroupAdmin(SchoolImportExportMixin, SchoolScopedAdmin):
    resource_classes = [GroupResource]
    list_display = ["name", "year", "school_year", "teacher_names", "pupil_count", "external_id"]
    list_filter = ["year", ("school_year", admin.RelatedOnlyFieldListFilter), "school"]
    search_fields = ["name", "external_id"]
    ordering = ["-school_year__starts_on", "year", "name"]

    def get_queryset(self, request):
        pupils = (
            Pupil.objects.filter(group=OuterRef("pk"), left_on__isnull=True)
            .order_by()
            .values("group")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .select_related("school_year", "school")
            .prefetch_related(Prefetch("teachers", queryset=StaffMember.objects.select_related("user")))
            .annotate(pupil_count=Coalesce(Subquery(pupils), 0))
        )

    @admin.display(description=_("pupils"), ordering="pupil_count")
    def pupil_count(self, group: Group) -> int:
        return group.pupil_count

    @admin.display(description=_("teachers"))
    def teacher_names(self, group: Group) -> str:
        return ", ".join(sorted(t.user.get_full_name() for t in group.teachers.all()))


class GuardianOfPupilInline(SchoolScopedInline):
    model = GuardianRelation
    fields = ["guardian", "kind", "access"]
    autocomplete_fields = ["guardian"]
    verbose_name = _("guardian")
    verbose_name_plural = _("guardians")


class LeftSchoolFilter(admin.SimpleListFilter):
    title = _("at school")
    parameter_name = "at_school"

    def lookups(self, request, model_admin):
        return [("yes", _("At school")), ("no", _("Left school"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(left_on__isnull=True)
        if self.value() == "no":
            return queryset.filter(left_on__isnull=False)
        return queryset


@admin.register(Pupil)
class PupilAdmin(SchoolImportExportMixin, SchoolScopedAdmin):
    resource_classes = [PupilResource]
    inlines = [GuardianOfPupilInline]
    list_display = [
        "last_name",
        "first_name",
        "group",
        "date_of_birth",
        "guardian_names",
        "external_id",
        "left_on",
        "school",
    ]
    list_display_links = ["last_name", "first_name"]
    list_filter = [("group", admin.RelatedOnlyFieldListFilter), LeftSchoolFilter, "school"]
    search_fields = ["first_name", "last_name", "external_id", "group__name"]
    list_select_related = ["group", "school"]
    fields = ["school", "external_id", "first_name", "last_name", "date_of_birth", "group", "left_on"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "guardian_relations",
                    queryset=GuardianRelation.objects.select_related("guardian").order_by(
                        "guardian__last_name", "guardian__first_name"
                    ),
                )
            )
        )

    @admin.display(description=_("guardians"))
    def guardian_names(self, pupil: Pupil) -> str:
        return ", ".join(
            f"{r.guardian.full_name} ({r.get_kind_display()})" for r in pupil.guardian_relations.all()
        )


# --- guardians and staff ----------------------------------------------------------------------


class ChildOfGuardianInline(SchoolScopedInline):
    model = GuardianRelation
    fields = ["pupil", "kind", "access"]
    autocomplete_fields = ["pupil"]
    min_num = 1  # a guardian belongs to a school through a child
    verbose_name = _("child")
    verbose_name_plural = _("children")


class InvitationFilter(admin.SimpleListFilter):
    title = _("invitation")
    parameter_name = "invitation"

    def lookups(self, request, model_admin):
        return [
            ("none", _("Not invited")),
            ("invited", _("Invited, not signed in yet")),
            ("active", _("Has signed in")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(Q(user__isnull=True) | Q(user__invited_at__isnull=True))
        if self.value() == "invited":
            return queryset.filter(user__invited_at__isnull=False, user__last_login__isnull=True)
        if self.value() == "active":
            return queryset.filter(user__last_login__isnull=False)
        return queryset


def _invitation_state(user: User | None) -> str:
    if user is None or user.invited_at is None:
        return _("not invited")
    if user.last_login is None:
        # The day in Amsterdam: an invitation sent at 00:20 is of that day, not of the day before in UTC.
        return _("invited %(date)s") % {"date": formats.date_format(timezone.localdate(user.invited_at))}
    return _("signed in")


@admin.register(Guardian)
class GuardianAdmin(SchoolImportExportMixin, SchoolScopedAdmin):
    """Guardians of the school's pupils. The import is one row per guardian and child."""

    resource_classes = [GuardianResource]
    inlines = [ChildOfGuardianInline]
    list_display = ["last_name", "first_name", "email", "phone", "children", "invitation"]
    list_display_links = ["last_name", "first_name"]
    list_filter = [InvitationFilter]
    search_fields = ["first_name", "last_name", "email", "external_id"]
    list_select_related = ["user"]
    fields = ["external_id", "first_name", "last_name", "email", "phone", "user"]
    actions = ["send_invitation"]

    def get_queryset(self, request):
        relations = GuardianRelation.objects.select_related("pupil").order_by("pupil__first_name")
        if not request.user.is_superuser:
            relations = relations.filter(pupil__school__in=managed_school_ids(request))
        return super().get_queryset(request).prefetch_related(Prefetch("relations", queryset=relations))

    def get_readonly_fields(self, request, obj=None):
        # The login is made by the invitation, never chosen from a list of accounts.
        if request.user.is_superuser:
            return []
        if obj is not None and not access.may_edit_guardian_details(request.user, obj):
            # Shared with another school, or the person's own since they signed in.
            return ["external_id", "first_name", "last_name", "email", "phone", "user"]
        return ["user"]

    def save_model(self, request, obj, form, change):
        if (
            change
            and not request.user.is_superuser
            and form.changed_data
            and not (access.may_edit_guardian_details(request.user, Guardian.objects.get(pk=obj.pk)))
        ):
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        # A guardian with children at two schools of the board is one person;
        # one school removing them would remove them from the other school too.
        if obj is None or request.user.is_superuser:
            return super().has_delete_permission(request, obj)
        return is_manager(request) and object_school_ids(obj) <= set(managed_school_ids(request))

    def get_export_queryset(self, request):
        guardians = super().get_export_queryset(request)
        relations = GuardianRelation.objects.filter(guardian__in=guardians)
        if not request.user.is_superuser:
            relations = relations.filter(pupil__school__in=managed_school_ids(request))
        return relations.select_related("guardian", "pupil").order_by(
            "guardian__last_name", "guardian__first_name", "pupil__last_name"
        )

    @admin.display(description=_("children"))
    def children(self, guardian: Guardian) -> str:
        return ", ".join(r.pupil.full_name for r in guardian.relations.all())

    @admin.display(description=_("invitation"))
    def invitation(self, guardian: Guardian) -> str:
        return _invitation_state(guardian.user)

    @admin.action(description=_("Send invitation"))
    def send_invitation(self, request, queryset):
        sent, skipped, failed = 0, 0, []
        for guardian in queryset:
            if not guardian.email:
                skipped += 1
                continue
            try:
                services.guardian_invite(actor=request.user, guardian=guardian)
            except (PermissionDenied, ValidationError) as e:
                failed.append(f"{guardian}: {' '.join(getattr(e, 'messages', [str(e)]))}")
            else:
                sent += 1
        _report(request, sent, skipped, failed)


@admin.register(StaffMember)
class StaffMemberAdmin(SchoolImportExportMixin, SchoolScopedAdmin):
    resource_classes = [StaffResource]
    form = StaffMemberAdminForm
    list_display = ["name", "email", "role", "group_names", "weekdays", "invitation", "school"]
    list_filter = ["role", "school"]
    search_fields = ["user__first_name", "user__last_name", "user__email", "external_id"]
    list_select_related = ["user", "school"]
    filter_horizontal = ["groups"]
    actions = ["send_invitation"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "school",
                    "external_id",
                    "email",
                    "first_name",
                    "last_name",
                    "role",
                ]
            },
        ),
        (_("Groups taught"), {"fields": ["groups"]}),
        (_("Working days"), {"fields": list(StaffMember.WEEKDAY_FIELDS)}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        # A fresh form class per request (modelform_factory): the manager is known to
        # the form, which decides whose login details it may set (access.may_manage_login).
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    @admin.display(description=_("name"), ordering="user__last_name")
    def name(self, staff: StaffMember) -> str:
        return staff.user.get_full_name()

    @admin.display(description=_("e-mail address"), ordering="user__email")
    def email(self, staff: StaffMember) -> str:
        return staff.user.email

    @admin.display(description=_("groups taught"))
    def group_names(self, staff: StaffMember) -> str:
        return ", ".join(g.name for g in staff.groups.all())

    @admin.display(description=_("working days"))
    def weekdays(self, staff: StaffMember) -> str:
        days = sorted(staff.working_weekdays)
        # Django's own abbreviations: "ma di wo" in Dutch, "Mon Tue Wed" in English.
        return " ".join(str(WEEKDAYS_ABBR[day]) for day in days)

    @admin.display(description=_("invitation"))
    def invitation(self, staff: StaffMember) -> str:
        return _invitation_state(staff.user)

    @admin.action(description=_("Send invitation"))
    def send_invitation(self, request, queryset):
        sent, failed = 0, []
        for staff in queryset.select_related("user", "school"):
            try:
                services.staff_invite(actor=request.user, staff=staff)
            except (PermissionDenied, ValidationError) as e:
                failed.append(f"{staff}: {' '.join(getattr(e, 'messages', [str(e)]))}")
            else:
                sent += 1
        _report(request, sent, 0, failed)


# --- accounts (administrators only) -----------------------------------------------------------


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Logins, for administrators. Schools manage people through guardians and staff."""

    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    ordering = ["email"]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "is_superuser",
        "is_active",
        "last_login",
        "invited_at",
    ]
    list_filter = ["is_superuser", "is_active", "language"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["last_login", "date_joined", "invited_at"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name", "language"]}),
        (
            _("Permissions"),
            {
                "fields": [
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ]
            },
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined", "invited_at"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "email",
                    "usable_password",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A login's page is an administrator's. The admin links to it from every page that
        shows a login (an absence report's "reported by", a consent answer's parent, a
        guardian's login): a director or the office who follows such a link is taken to the
        person as their school knows them — the staff member or guardian of that login they may
        view — instead of a refusal. Anyone else gets what they got before."""
        if not self.has_view_permission(request) and (person := self._person_page(request, object_id)):
            return HttpResponseRedirect(person)
        return super().change_view(request, object_id, form_url, extra_context)

    def _person_page(self, request, object_id) -> str | None:
        try:
            user_id = int(unquote(object_id))
        except ValueError:
            return None
        for model in (StaffMember, Guardian):
            model_admin = self.admin_site.get_model_admin(model)
            for person in model_admin.get_queryset(request).filter(user_id=user_id).order_by("pk"):
                if model_admin.has_view_permission(request, person):
                    return reverse(f"admin:klimop_{model._meta.model_name}_change", args=[quote(person.pk)])
        return None

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
