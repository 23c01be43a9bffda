"""Absences in the admin: leave requests for the director to decide, settings, read-only registers.

Scoped like the directory (``klimop.admin.SchoolScopedAdmin``): a manager sees their own
school's rows only. Leave requests open oldest first, with the family's other requests
this school year beside each one; the director decides through ``services.leave_decide``
(the admin never saves a request itself). Reports and follow-ups are made in the portal
and only shown here.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from klimop.admin import SchoolScopedAdmin, SchoolSettingsInline, register_school_settings
from klimop.models import Pupil
from klimop.text import StripBidiMixin

from . import rules, selectors, services
from .forms import DecisionForm
from .models import AbsenceReport, AbsenceSettings, FollowUp, LeaveRequest


@register_school_settings
class AbsenceSettingsInline(SchoolSettingsInline):
    model = AbsenceSettings
    fields = [
        "sick_reports_via_portal",
        "lessons_start",
        "lessons_end",
        "sickness_follow_up_school_days",
        "leave_requests_via_portal",
        "attendance_officer",
        "leave_guidance",
    ]


class _ReadOnly:
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AbsenceReport)
class AbsenceReportAdmin(_ReadOnly, SchoolScopedAdmin):
    list_display = [
        "starts_on",
        "pupil",
        "group",
        "kind",
        "ends_on",
        "reported_at",
        "channel",
        "reported_late",
        "counts",
    ]
    list_filter = ["kind", "channel", "reported_late"]
    date_hierarchy = "starts_on"
    search_fields = ["pupil__first_name", "pupil__last_name"]
    list_select_related = ["pupil__group"]
    ordering = ["-starts_on", "-reported_at"]

    @admin.display(description=_("group"))
    def group(self, report: AbsenceReport) -> str:
        return report.pupil.group.name if report.pupil.group else ""

    @admin.display(description=_("counts"), boolean=True)
    def counts(self, report: AbsenceReport) -> bool:
        return report.counts


@admin.register(FollowUp)
class FollowUpAdmin(_ReadOnly, SchoolScopedAdmin):
    list_display = ["due_on", "pupil", "created_at", "done_at", "done_by", "note"]
    list_filter = [("done_at", admin.EmptyFieldListFilter)]
    list_select_related = ["pupil", "done_by"]


class LeaveDecisionForm(StripBidiMixin, forms.ModelForm):
    """The director's decision on the change page; checked by the service's own rules."""

    decision = forms.ChoiceField(
        label=_("Decision"), choices=DecisionForm.DECISIONS, required=False, widget=forms.RadioSelect
    )
    reasons = forms.CharField(
        label=_("Reasons"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text=_("The parent reads these in the decision, with where to object."),
    )

    class Meta:
        model = LeaveRequest
        fields: list[str] = []

    def clean(self):
        data = super().clean()
        if not data.get("decision") and not data.get("reasons"):
            return data  # nothing decided: the page was only looked at
        try:
            services.leave_decision_check(
                leave_request=self.instance,
                decision=data.get("decision", ""),
                reasons=data.get("reasons", ""),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    for error in errors:
                        self.add_error(field if field in self.fields else None, error)
            else:
                raise
        return data


@admin.register(LeaveRequest)
class LeaveRequestAdmin(SchoolScopedAdmin):
    form = LeaveDecisionForm
    list_display = [
        "submitted",
        "children",
        "kind",
        "period",
        "school_days",
        "status",
        "flags",
        "earlier_this_year",
    ]
    list_filter = ["status", "kind", "for_attendance_officer", "school_year"]
    search_fields = ["pupils__first_name", "pupils__last_name", "reason"]
    ordering = ["submitted_at"]
    list_select_related = ["school_year", "requested_by"]
    readonly_fields = [
        "children",
        "requested_by",
        "kind",
        "period",
        "school_days",
        "reason",
        "explanation",
        "warnings_shown",
        "for_attendance_officer",
        "statement_link",
        "status",
        "submitted_at",
        "decided_at",
        "decided_by",
        "decision_reasons",
        "announced_at",
        "family_history",
        "guidance",
        "history",
    ]

    def changelist_view(self, request, extra_context=None):
        # Open requests first: the director lands on what awaits a decision.
        if not request.GET and not request.POST:
            return HttpResponseRedirect(f"{request.path}?status__exact={LeaveRequest.Status.SUBMITTED}")
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request):
        through = LeaveRequest.pupils.through
        same_children = through.objects.filter(leaverequest_id=OuterRef(OuterRef("pk"))).values("pupil_id")
        others = (
            LeaveRequest.objects.filter(school_year_id=OuterRef("school_year_id"), pupils__in=same_children)
            .exclude(pk=OuterRef("pk"))
            .order_by()
            .values("school_year_id")
            .annotate(n=Count("pk", distinct=True))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("pupils", queryset=Pupil.objects.select_related("group")))
            .annotate(earlier_count=Coalesce(Subquery(others), 0))
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (
                _("Request"),
                {
                    "fields": [
                        "children",
                        "requested_by",
                        "submitted_at",
                        "kind",
                        "period",
                        "school_days",
                        "reason",
                        "warnings_shown",
                        "explanation",
                        "statement_link",
                        "for_attendance_officer",
                        "guidance",
                    ]
                },
            ),
            (_("This family's requests this school year"), {"fields": ["family_history"]}),
        ]
        if obj is not None and obj.is_open and rules.may_decide_leave(request.user, obj.school):
            fieldsets.append((_("Decision"), {"fields": ["decision", "reasons"]}))
        else:
            decision = ["status", "decided_at", "decided_by", "decision_reasons", "announced_at"]
            fieldsets.append((_("Decision"), {"fields": decision}))
        fieldsets.append((_("History"), {"fields": ["history"]}))
        return fieldsets

    def has_add_permission(self, request):
        return False  # parents make requests in the portal

    def has_delete_permission(self, request, obj=None):
        return False  # a formal decision and its request are kept

    def save_model(self, request, obj, form, change):
        decision = form.cleaned_data.get("decision")
        if not decision:
            return
        if not rules.may_decide_leave(request.user, obj.school):
            raise PermissionDenied
        leave = services.leave_decide(
            actor=request.user, leave_request=obj, decision=decision, reasons=form.cleaned_data["reasons"]
        )
        if leave.held_from_family(timezone.now()):
            # Outside the director's working time: the family hears of it at the next opening.
            messages.success(
                request,
                _("The decision is recorded: %(status)s. The parent will see it from %(when)s.")
                % {
                    "status": leave.get_status_display().lower(),
                    "when": formats.date_format(timezone.localtime(leave.announced_at), "l j F, H:i"),
                },
            )
            return
        messages.success(
            request,
            _("The decision is recorded and the parent has been notified: %(status)s.")
            % {"status": leave.get_status_display().lower()},
        )

    def save_related(self, request, form, formsets, change):
        pass  # nothing of the request itself is edited here

    # --- columns and read-only fields -----------------------------------------------------------

    @admin.display(description=_("submitted"), ordering="submitted_at")
    def submitted(self, leave: LeaveRequest) -> str:
        return formats.date_format(timezone.localtime(leave.submitted_at), pgettext("date format", "j M Y"))

    @admin.display(description=_("children"))
    def children(self, leave: LeaveRequest) -> str:
        return ", ".join(
            f"{p.full_name} ({p.group.name})" if p.group else p.full_name for p in leave.pupils.all()
        )

    @admin.display(description=_("period"), ordering="starts_on")
    def period(self, leave: LeaveRequest) -> str:
        day = pgettext("date format", "D j M Y")  # "vr 8 jan 2027", "Fri 8 Jan 2027"
        first, last = (formats.date_format(d, day) for d in (leave.starts_on, leave.ends_on))
        return f"{first} – {last}"

    @admin.display(description=_("attention"))
    def flags(self, leave: LeaveRequest) -> str:
        notes = [*leave.warning_labels]
        if leave.for_attendance_officer:
            notes.append(str(_("For the attendance officer")))
        return "; ".join(notes) or "–"

    @admin.display(description=_("other requests this year"), ordering="earlier_count")
    def earlier_this_year(self, leave: LeaveRequest) -> int:
        return getattr(leave, "earlier_count", 0)

    @admin.display(description=_("warnings"))
    def warnings_shown(self, leave: LeaveRequest) -> str:
        return "; ".join(leave.warning_labels) or "–"

    @admin.display(description=_("employer's statement"))
    def statement_link(self, leave: LeaveRequest):
        if not leave.statement:
            return _("none attached")
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("absences:leave_statement", args=[leave.pk]),
            leave.statement_name,
        )

    @admin.display(description=_("municipal guidance"))
    def guidance(self, leave: LeaveRequest) -> str:
        return selectors.absence_settings_for(leave.school).leave_guidance or "–"

    @admin.display(description=_("requests this school year"))
    def family_history(self, leave: LeaveRequest):
        others = selectors.family_requests_this_year(leave)
        if not others:
            return _("No other requests this school year.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    ", ".join(p.first_name for p in other.pupils.all()),
                    f"{formats.date_format(other.starts_on, pgettext('date format', 'j M'))} – "
                    f"{formats.date_format(other.ends_on, pgettext('date format', 'j M Y'))}",
                    other.school_days,
                    other.get_kind_display(),
                    other.get_status_display(),
                )
                for other in others
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            _("children"),
            _("period"),
            _("school days"),
            _("kind"),
            _("status"),
            rows,
        )

    @admin.display(description=_("history"))
    def history(self, leave: LeaveRequest):
        events = leave.events.select_related("actor")
        return (
            format_html_join(
                "",
                "<div>{} · {} · {}</div>",
                (
                    (
                        formats.date_format(timezone.localtime(e.at), pgettext("date format", "j M Y H:i")),
                        e.get_new_status_display(),
                        e.actor.get_full_name() if e.actor else "",
                    )
                    for e in events
                ),
            )
            or "–"
        )
