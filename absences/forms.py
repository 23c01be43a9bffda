"""Forms of absences and leave. They check the shape of the input; the rules are in services."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from klimop.bounds import BoundedDatesMixin
from klimop.text import StripBidiMixin

from .models import AbsenceReport, LeaveRequest

Kind = AbsenceReport.Kind


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class ChildrenField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return obj.first_name if obj.group is None else f"{obj.first_name} · {obj.group}"


class _Submission(StripBidiMixin, forms.Form):
    """Every form carries an idempotency key: a double submit finds the first one's rows."""

    submission = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("submission", uuid.uuid4())
        super().__init__(*args, **kwargs)


def _only_the_kinds_fields(data: dict) -> dict:
    """Fields hidden for the chosen kind may still hold a value the browser kept: drop it."""
    kind = data.get("kind")
    if kind == Kind.SICK:
        data["from_time"] = data["until_time"] = None
    elif kind == Kind.LATE:
        data["from_time"] = None
    if kind != Kind.SICK:
        data["ends_on"] = None
    return data


class ReportForm(BoundedDatesMixin, _Submission):
    """A parent reports one or more of their children: sick, an appointment, or a later arrival."""

    dates_ahead = ("starts_on", "ends_on")

    KINDS = [
        (Kind.SICK, _("Sick")),
        (Kind.APPOINTMENT, _("Doctor, dentist or hospital")),
        (Kind.LATE, _("Arrives later")),
    ]
    KIND_VALUES = frozenset(value for value, _label in KINDS)

    pupils = ChildrenField(
        label=_("Who?"), queryset=None, error_messages={"required": _("Please choose at least one child.")}
    )
    kind = forms.ChoiceField(label=_("What do you want to report?"), choices=KINDS, widget=forms.RadioSelect)
    starts_on = forms.DateField(label=_("Date"), widget=DateInput())
    ends_on = forms.DateField(
        label=_("Last day (optional)"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave empty if you do not know yet: report recovery when your child is better."),
    )
    from_time = forms.TimeField(label=_("From"), required=False, widget=TimeInput())
    until_time = forms.TimeField(label=_("Until"), required=False, widget=TimeInput())
    note = forms.CharField(
        label=_("Note for the teacher (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example what the appointment is for. Medical details are not needed."),
    )

    def __init__(self, *args, pupils=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pupils"].queryset = pupils
        if pupils is not None and pupils.count() == 1:
            self.fields["pupils"].initial = [pupils.first().pk]
        self.bound_dates(pupils.values_list("school_id", flat=True).first() if pupils is not None else None)

    def clean(self):
        return _only_the_kinds_fields(super().clean())


class StaffReportForm(BoundedDatesMixin, _Submission):
    """Staff record an absence reported by phone, or mark a pupil absent without a report."""

    dates_ahead = ("starts_on", "ends_on")
    dates_back = ("starts_on",)

    KINDS = [*ReportForm.KINDS, (Kind.UNEXPLAINED, _("Absent without a report"))]

    pupil = forms.ModelChoiceField(label=_("Pupil"), queryset=None)
    kind = forms.ChoiceField(label=_("What"), choices=KINDS, widget=forms.RadioSelect)
    caller = forms.CharField(
        label=_("Who called?"),
        required=False,
        max_length=120,
        help_text=_("For example: mother, father, carer."),
    )
    starts_on = forms.DateField(label=_("Date"), widget=DateInput())
    ends_on = forms.DateField(label=_("Last day (optional)"), required=False, widget=DateInput())
    from_time = forms.TimeField(label=_("From"), required=False, widget=TimeInput())
    until_time = forms.TimeField(label=_("Until"), required=False, widget=TimeInput())
    note = forms.CharField(
        label=_("Note (optional)"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, pupils=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pupil"].queryset = pupils
        self.bound_dates(pupils.values_list("school_id", flat=True).first() if pupils is not None else None)
        self.fields["pupil"].label_from_instance = lambda p: (
            f"{p.full_name} · {p.group}" if p.group else p.full_name
        )

    def clean(self):
        return _only_the_kinds_fields(super().clean())


class RecoveryForm(StripBidiMixin, forms.Form):
    back_on = forms.DateField(label=_("Back at school on"), widget=DateInput())


class FollowUpForm(StripBidiMixin, forms.Form):
    note = forms.CharField(
        label=_("Note of the contact"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: called the mother, expected back on Monday."),
    )


class LeaveForm(BoundedDatesMixin, _Submission):
    dates_ahead = ("starts_on", "ends_on")

    pupils = ChildrenField(
        label=_("For whom?"),
        queryset=None,
        error_messages={"required": _("Please choose at least one child.")},
    )
    kind = forms.ChoiceField(
        label=_("Kind of leave"), choices=LeaveRequest.Kind.choices, widget=forms.RadioSelect
    )
    starts_on = forms.DateField(label=_("First day of leave"), widget=DateInput())
    ends_on = forms.DateField(label=_("Last day of leave"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    statement = forms.FileField(
        label=_("Employer's statement"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
        help_text=_(
            "A PDF or a photo (JPEG, PNG) of the statement, at most 10 MB. Needed for extra "
            "vacation leave; for other leave you may attach proof, e.g. an invitation."
        ),
    )
    explanation = forms.CharField(
        label=_("Explanation (if the school warns you)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, pupils=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pupils"].queryset = pupils
        if pupils is not None and pupils.count() == 1:
            self.fields["pupils"].initial = [pupils.first().pk]
        self.bound_dates(pupils.values_list("school_id", flat=True).first() if pupils is not None else None)

    def clean(self):
        data = super().clean()
        first, last = data.get("starts_on"), data.get("ends_on")
        if first and last and last < first:
            self.add_error("ends_on", _("The last day cannot be before the first day."))
        return data


class DecisionForm(StripBidiMixin, forms.Form):
    DECISIONS = [
        (LeaveRequest.Status.GRANTED, _("Grant")),
        (LeaveRequest.Status.REFUSED, _("Refuse")),
        (LeaveRequest.Status.FORWARDED, _("Forward to the attendance officer")),
    ]
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    reasons = forms.CharField(
        label=_("Reasons"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("A decision states its reasons; the parent reads them."),
    )
