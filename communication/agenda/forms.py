"""The staff form for planning an event. It only collects input; rules are in the service."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from klimop import worktime
from klimop.bounds import BoundedDatesMixin
from klimop.text import StripBidiMixin

from .models import DEFAULT_REMIND_DAYS_BEFORE, Event


class EventForm(StripBidiMixin, BoundedDatesMixin, forms.Form):
    dates_ahead = ("starts_on", "ends_on")

    group = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_("For"),
        empty_label=_("The whole school"),
    )
    title = forms.CharField(label=_("Title"), max_length=140)
    kind = forms.ChoiceField(label=_("Kind"), choices=Event.Kind.choices, initial=Event.Kind.ACTIVITY)
    starts_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    all_day = forms.BooleanField(label=_("All day"), required=False)
    start_time = forms.TimeField(
        label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    end_time = forms.TimeField(
        label=_("Until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    ends_on = forms.DateField(
        label=_("Last day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Only for events that last several days."),
    )
    location = forms.CharField(label=_("Location"), max_length=140, required=False)
    bring = forms.CharField(
        label=_("Please bring"),
        max_length=300,
        required=False,
        help_text=_("Something the children should bring. Parents need at least two school days."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    important = forms.BooleanField(label=_("Important: remind parents beforehand"), required=False)
    remind_days_before = forms.IntegerField(
        label=_("Remind parents (days before)"),
        min_value=1,
        max_value=90,
        initial=DEFAULT_REMIND_DAYS_BEFORE,
    )
    confirm_short_notice = forms.BooleanField(
        label=_("Yes, ask parents to bring this at short notice"), required=False
    )

    def __init__(self, *args, groups, whole_school_allowed: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups
        self.bound_dates(groups.values_list("school_id", flat=True).first())
        if not whole_school_allowed:
            self.fields["group"].required = True
            self.fields["group"].empty_label = None

    @classmethod
    def initial_for(cls, event: Event) -> dict:
        start = event.starts_at and event.starts_at.astimezone(worktime.AMSTERDAM)
        end = event.ends_at and event.ends_at.astimezone(worktime.AMSTERDAM)
        return {
            "group": event.group_id,
            "title": event.title,
            "kind": event.kind,
            "starts_on": event.starts_on,
            "all_day": event.all_day,
            "start_time": start.time() if start else None,
            "end_time": end.time() if end else None,
            "ends_on": event.ends_on if event.ends_on != event.starts_on else None,
            "location": event.location,
            "bring": event.bring,
            "description": event.description,
            "important": event.important,
            "remind_days_before": event.remind_days_before,
        }

    def clean(self):
        data = super().clean()
        day = data.get("starts_on")
        if day is None:
            return data
        last = data.get("ends_on") or day
        if last < day:
            self.add_error("ends_on", _("The last day cannot be before the first day."))
            return data
        if data.get("all_day"):
            return data
        start, end = data.get("start_time"), data.get("end_time")
        if start is None:
            self.add_error("start_time", _("Enter a start time, or choose all day."))
            return data
        end = (
            end or (dt.datetime.combine(day, start, tzinfo=worktime.AMSTERDAM) + dt.timedelta(hours=1)).time()
        )
        data["starts_at"] = dt.datetime.combine(day, start, tzinfo=worktime.AMSTERDAM)
        data["ends_at"] = dt.datetime.combine(last, end, tzinfo=worktime.AMSTERDAM)
        if data["ends_at"] < data["starts_at"]:
            self.add_error("end_time", _("The event cannot end before it starts."))
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        all_day = bool(d.get("all_day"))
        return {
            "group": d.get("group"),
            "title": d["title"],
            "kind": d["kind"],
            "all_day": all_day,
            "starts_on": d["starts_on"],
            "ends_on": d.get("ends_on"),
            "starts_at": None if all_day else d.get("starts_at"),
            "ends_at": None if all_day else d.get("ends_at"),
            "location": d.get("location", ""),
            "bring": d.get("bring", ""),
            "description": d.get("description", ""),
            "important": bool(d.get("important")),
            "remind_days_before": d["remind_days_before"],
            "short_notice_confirmed": bool(d.get("confirm_short_notice")),
        }
