"""Privacy preferences in the admin: the school's grace period; decisions and history read-only.

Decisions and their history are made by parents only (``privacy_services``); the admin
shows them, scoped to the manager's school through the pupil, and never edits them:
the history must stay demonstrable (AVG art. 7(1)).
"""

from __future__ import annotations

from django.contrib import admin

from klimop.admin import SchoolScopedAdmin, SchoolSettingsInline, managed_school_ids, register_school_settings

from .models import ConsentDecision, ConsentEvent, PrivacySettings


@register_school_settings
class PrivacySettingsInline(SchoolSettingsInline):
    model = PrivacySettings


class _ReadOnlyPupilScopedAdmin(SchoolScopedAdmin):
    """Rows that belong to a school through their pupil; view only."""

    list_select_related = ["pupil", "guardian", "school_year"]
    list_filter = ["purpose", "school_year"]
    search_fields = ["pupil__first_name", "pupil__last_name", "guardian__last_name"]

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pupil__school__in=managed_school_ids(request))

    def _in_scope(self, request, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        return obj.pupil.school_id in set(managed_school_ids(request))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConsentDecision)
class ConsentDecisionAdmin(_ReadOnlyPupilScopedAdmin):
    list_display = ["pupil", "guardian", "purpose", "school_year", "granted", "decided_at"]


@admin.register(ConsentEvent)
class ConsentEventAdmin(_ReadOnlyPupilScopedAdmin):
    list_display = ["at", "pupil", "guardian", "purpose", "old_granted", "new_granted", "actor"]
    list_select_related = ["pupil", "guardian", "school_year", "actor"]
