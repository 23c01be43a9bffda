"""Date fields bounded by the school's calendar, in the forms.

The bounds themselves are defined once, in :mod:`klimop.worktime`
(``latest_plannable_date``, ``earliest_recordable_date``), read for a school by
``klimop.selectors.date_bounds``. The services refuse a date outside them; the forms
tell the browser (``min``/``max`` on the date inputs, so the date picker stops there)
and refuse it early with the same message.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from . import selectors as directory
from . import worktime


def _day(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return worktime.local_date(value) if timezone.is_aware(value) else value.date()
    return value if isinstance(value, dt.date) else None


def _html_value(day: dt.date, widget, *, end_of_day: bool) -> str:
    if getattr(widget, "input_type", "") == "datetime-local":
        return f"{day.isoformat()}T{'23:59' if end_of_day else '00:00'}"
    return day.isoformat()


class BoundedDatesMixin:
    """For a ``forms.Form`` with date (or datetime) fields.

    ``dates_ahead``: fields that may not lie after the end of the next school year;
    ``dates_back``: fields that may not lie before the start of this school year. The
    form calls :meth:`bound_dates` with its school in ``__init__``; without a school
    the services alone check.
    """

    dates_ahead: tuple[str, ...] = ()
    dates_back: tuple[str, ...] = ()
    date_bounds: tuple[dt.date, dt.date] | None = None
    fields: dict[str, forms.Field]  # the form's (the mixin goes before forms.Form)

    def bound_dates(self, school) -> None:
        if school is None:
            return
        today = worktime.local_date(timezone.now())
        self.date_bounds = earliest, latest = directory.date_bounds(school, today)
        for name in self.dates_ahead:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["max"] = _html_value(latest, widget, end_of_day=True)
        for name in self.dates_back:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["min"] = _html_value(earliest, widget, end_of_day=False)

    def full_clean(self):
        super().full_clean()
        if self.date_bounds is None or not hasattr(self, "cleaned_data"):
            return
        earliest, latest = self.date_bounds
        for name in self.dates_ahead:
            day = _day(self.cleaned_data.get(name))
            if day is not None and day > latest:
                self.add_error(name, directory.too_far_ahead(latest))
        for name in self.dates_back:
            day = _day(self.cleaned_data.get(name))
            if day is not None and day < earliest:
                self.add_error(name, directory.too_long_ago(earliest))
