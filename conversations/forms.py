"""Forms of the planner pages. Validation of substance is in the services; these parse input."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from klimop.forms import SchoolScopedModelForm
from klimop.text import StripBidiMixin

from . import services
from .models import PlannerSettings, Round, default_attending_years


class AvailabilityForm(StripBidiMixin, forms.Form):
    date = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    starts = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}))
    breaks = forms.CharField(
        label=_("Breaks"),
        required=False,
        max_length=200,
        help_text=_("Optional, e.g. 15:30-16:00, 18:00-18:30"),
        widget=forms.TextInput(attrs={"placeholder": "15:30-16:00", "inputmode": "numeric"}),
    )
    location = forms.CharField(label=_("Room"), required=False, max_length=80)
    group = forms.ModelChoiceField(label=_("Group"), queryset=None, empty_label=None)

    def __init__(self, *args, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups
        if len(groups) == 1:
            self.fields["group"].widget = forms.HiddenInput()
            self.fields["group"].initial = groups[0].pk

    def clean_breaks(self):
        try:
            return services.parse_breaks(self.cleaned_data["breaks"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["breaks"]) from None


class PlannerSettingsAdminForm(forms.ModelForm):
    """The school's planner settings on its admin page: the year groups as tick boxes.

    The initial value is the model's default: a school without a settings row yet sees the
    defaults ticked, and an untouched box saves no row.
    """

    child_attends_years = forms.TypedMultipleChoiceField(
        label=_("year groups whose child attends conversations"),
        choices=[(year, year) for year in range(1, 9)],
        coerce=int,
        required=False,
        initial=default_attending_years,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = PlannerSettings
        fields = "__all__"  # noqa: DJ007 (the inline's fields choose the fields)

    def clean_child_attends_years(self) -> list[int]:
        return sorted(self.cleaned_data["child_attends_years"])


class RoundAdminForm(SchoolScopedModelForm):
    child_attends_years = forms.TypedMultipleChoiceField(
        label=_("year groups whose child attends"),
        choices=[(year, year) for year in range(1, 9)],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked for the school's setting (usually groups 5 to 8)."),
    )

    class Meta:
        model = Round
        fields = "__all__"  # noqa: DJ007 (the admin's fieldsets choose the fields)

    def clean_child_attends_years(self) -> list[int]:
        return sorted(self.cleaned_data["child_attends_years"])

    def _post_clean(self):
        # Opening and closing may be left empty: the service fills the school's defaults
        # before saving, so the model's constraints see the final values.
        school = self.cleaned_data.get("school") or getattr(self.instance, "school", None)
        first = self.cleaned_data.get("first_date")
        if school is not None and first is not None:
            self.instance.school = school
            self.instance.first_date = first
            if self.cleaned_data.get("opens_at") is None:
                self.cleaned_data["opens_at"] = services.default_opening(self.instance)
            if self.cleaned_data.get("closes_at") is None:
                self.cleaned_data["closes_at"] = services.default_closing(self.instance)
            if not self.cleaned_data.get("child_attends_years"):
                years = services.planner_settings_for(school).child_attends_years
                self.cleaned_data["child_attends_years"] = sorted(years or [])
        super()._post_clean()
