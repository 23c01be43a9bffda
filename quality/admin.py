"""The quality card in the admin: the director opens and closes surveys and sets the targets.

Responses are not in the admin at all: the results (counts, share, comments — never
names) are on the quality card (``/kwaliteit/``), and participations say only *who*
answered, which nobody at school needs to see. Imported at the bottom of ``klimop/admin.py``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from klimop.admin import SchoolScopedAdmin, SchoolSettingsInline, register_school_settings

from . import services as quality_services
from .models import QualityTargets, Survey


@register_school_settings
class QualityTargetsInline(SchoolSettingsInline):
    model = QualityTargets


@admin.register(Survey)
class SurveyAdmin(SchoolScopedAdmin):
    list_display = ["title", "school", "opens_at", "closes_at", "status", "answers", "results"]
    list_filter = ["school"]
    fields = ["school", "title", "question", "opens_at", "closes_at"]
    actions = ["close_now"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(answer_count=Count("responses"))

    def get_readonly_fields(self, request, obj=None):
        # Once parents answered, the question they answered stays what it was.
        if obj is not None and obj.responses.exists():
            return ["question"]
        return []

    @admin.display(description=_("status"))
    def status(self, obj: Survey) -> str:
        now = timezone.now()
        if now < obj.opens_at:
            return _("not open yet")
        return _("open") if obj.is_open_at(now) else _("closed")

    @admin.display(description=_("answers"), ordering="answer_count")
    def answers(self, obj: Survey) -> int:
        return obj.answer_count

    @admin.display(description=_("results"))
    def results(self, obj: Survey) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("quality:survey_results", args=[obj.pk]), _("View results")
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Close the selected surveys now"))
    def close_now(self, request, queryset):
        closed = 0
        for survey in queryset.select_related("school"):
            if survey.is_open_at(timezone.now()) or survey.opens_at > timezone.now():
                quality_services.survey_close(actor=request.user, survey=survey)
                closed += 1
        self.message_user(
            request,
            ngettext("%(n)d survey closed.", "%(n)d surveys closed.", closed) % {"n": closed},
            messages.SUCCESS,
        )
