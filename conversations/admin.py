"""Directors and the office create conversation rounds in the admin (scoped to their school).

Opening and closing times left empty get the school's defaults (``services.default_opening``:
N days before the first day; closing at noon the day before). Teachers then publish their
time on the staff pages; the round's page there shows slots, bookings and proposals.
The school's planner settings are a box on the school's own page (``PlannerSettingsInline``).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from klimop.admin import SchoolScopedAdmin, SchoolSettingsInline, register_school_settings

from .forms import PlannerSettingsAdminForm, RoundAdminForm
from .models import PlannerSettings, Round


@register_school_settings
class PlannerSettingsInline(SchoolSettingsInline):
    model = PlannerSettings
    form = PlannerSettingsAdminForm
    fields = [
        "planner_opens_days_before",
        "planner_siblings_head_start_days",
        "child_attends_years",
        "conversations_end_by",
    ]


@admin.register(Round)
class RoundAdmin(SchoolScopedAdmin):
    form = RoundAdminForm
    list_display = (
        "__str__",
        "school",
        "first_date",
        "last_date",
        "opens_at",
        "closes_at",
        "booking_count",
        "planner_link",
    )
    list_filter = ("school", "kind")
    filter_horizontal = ("groups",)
    fieldsets = (
        (None, {"fields": ("school", "kind", "title", "groups", "obligatory", "child_attends_years")}),
        (_("Days and slots"), {"fields": ("first_date", "last_date", "slot_minutes", "gap_minutes")}),
        (_("Booking"), {"fields": ("opens_at", "closes_at", "cancel_cutoff_hours")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_bookings=Count("bookings"))

    @admin.display(description=_("bookings"), ordering="_bookings")
    def booking_count(self, obj):
        return obj._bookings

    @admin.display(description=_("planner"))
    def planner_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("conversations:staff_round", args=[obj.pk]), _("Open")
        )
