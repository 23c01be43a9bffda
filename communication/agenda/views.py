"""Agenda pages: list and month views, event detail, staff forms, and the iCalendar feed."""

from __future__ import annotations

import calendar
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from conversations.selectors import bookings_for_feed
from klimop import access

from . import ical, selectors, services
from .forms import EventForm
from .models import FeedToken

LIST_DAYS_AHEAD = 120


def _filter_group(request: HttpRequest, choices):
    """The group chosen in ``?groep=``, only among the viewer's own choices (else none)."""
    wanted = request.GET.get("groep", "")
    for group, _label in choices:
        if str(group.pk) == wanted:
            return group
    return None


def _weeks(items, start: dt.date, end: dt.date) -> list[dict]:
    """Items grouped by the ISO week in which they (or their visible part) start."""
    weeks: dict[dt.date, list] = {}
    for item in items:
        first = max(item.starts_on, start)
        weeks.setdefault(selectors.week_start(first), []).append(item)
    return [
        {
            "monday": monday,
            "friday": monday + dt.timedelta(days=4),
            "number": monday.isocalendar()[1],
            "items": week_items,
        }
        for monday, week_items in sorted(weeks.items())
    ]


def _base_context(request: HttpRequest) -> dict:
    choices = selectors.filter_groups_for(request.user)
    group = _filter_group(request, choices)
    return {
        "filter_choices": choices,
        "filter_group": group,
        "can_plan": services.groups_plannable_by(request.user).exists()
        or access.is_school_manager(request.user),
        "today": selectors.today_local(),
    }


@login_required
@require_GET
def agenda_list(request: HttpRequest) -> HttpResponse:
    context = _base_context(request)
    today = context["today"]
    end = today + dt.timedelta(days=LIST_DAYS_AHEAD)
    items = selectors.agenda_for(viewer=request.user, start=today, end=end, group=context["filter_group"])
    context.update(weeks=_weeks(items, today, end), month=today.replace(day=1))
    return render(request, "agenda/list.html", context)


@login_required
@require_GET
def agenda_month(request: HttpRequest, year: int, month: int) -> HttpResponse:
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise Http404
    context = _base_context(request)
    first = dt.date(year, month, 1)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    grid_start = selectors.week_start(first)
    grid_end = selectors.week_start(last) + dt.timedelta(days=6)
    items = selectors.agenda_for(
        viewer=request.user, start=grid_start, end=grid_end, group=context["filter_group"]
    )
    weeks = []
    day = grid_start
    while day <= grid_end:
        week = []
        for _i in range(7):
            week.append(
                {"date": day, "in_month": day.month == month, "items": [i for i in items if i.covers(day)]}
            )
            day += dt.timedelta(days=1)
        weeks.append({"number": week[0]["date"].isocalendar()[1], "days": week})
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = last + dt.timedelta(days=1)
    month_items = [i for i in items if i.ends_on >= first and i.starts_on <= last]
    context.update(
        month=first,
        weeks=weeks,
        month_items=month_items,
        previous=previous,
        following=following,
        weekday_names=[dt.date(2024, 1, d) for d in range(1, 8)],  # a Monday to a Sunday
    )
    return render(request, "agenda/month.html", context)


@login_required
@require_GET
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_get_for(viewer=request.user, pk=pk)
    return render(
        request,
        "agenda/detail.html",
        {
            "event": event,
            "can_edit": services.can_edit_event(request.user, event),
        },
    )


def _event_form(request: HttpRequest, **kwargs) -> EventForm:
    return EventForm(
        request.POST or None,
        groups=services.groups_plannable_by(request.user),
        whole_school_allowed=access.is_school_manager(request.user),
        **kwargs,
    )


def _save(request: HttpRequest, form: EventForm, save) -> HttpResponse | None:
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        event = save(**form.service_kwargs())
    except ValidationError as error:
        form.add_error(None, error)
        return None
    except PermissionDenied:
        form.add_error("group", _("You cannot plan events for this group."))
        return None
    messages.success(request, _("The event is in the agenda."))
    return redirect("agenda:event_detail", pk=event.pk)


@login_required
def event_create(request: HttpRequest) -> HttpResponse:
    if access.staff_member_of(request.user) is None:
        raise PermissionDenied
    form = _event_form(request)
    response = _save(request, form, lambda **kw: services.event_create(actor=request.user, **kw))
    return response or render(request, "agenda/form.html", {"form": form})


@login_required
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_get_for(viewer=request.user, pk=pk)
    if not services.can_edit_event(request.user, event):
        raise PermissionDenied
    form = _event_form(request, initial=EventForm.initial_for(event))
    response = _save(request, form, lambda **kw: services.event_update(actor=request.user, event=event, **kw))
    return response or render(request, "agenda/form.html", {"form": form, "event": event})


@login_required
def event_delete(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_get_for(viewer=request.user, pk=pk)
    if not services.can_edit_event(request.user, event):
        raise PermissionDenied
    if request.method == "POST":
        services.event_delete(actor=request.user, event=event)
        messages.success(request, _("The event was removed from the agenda."))
        return redirect("agenda:agenda")
    return render(request, "agenda/confirm_delete.html", {"event": event})


# --- the private feed ----------------------------------------------------------------------


@login_required
@never_cache
def feed_settings(request: HttpRequest) -> HttpResponse:
    token = FeedToken.objects.filter(user=request.user, revoked_at__isnull=True).first()
    https_url = webcal_url = ""
    if token is not None:
        https_url = request.build_absolute_uri(reverse("agenda:agenda_feed", args=[token.token]))
        webcal_url = "webcal://" + https_url.split("://", 1)[1]
    return render(
        request,
        "agenda/feed.html",
        {
            "token": token,
            "https_url": https_url,
            "webcal_url": webcal_url,
        },
    )


@login_required
@require_POST
def feed_settings_change(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action")
    if action == "create":
        services.feed_token_get_or_create(actor=request.user)
        messages.success(request, _("Your private agenda link is ready."))
    elif action == "renew":
        services.feed_token_renew(actor=request.user)
        messages.success(request, _("You have a new link; the old one no longer works."))
    elif action == "revoke":
        services.feed_token_revoke(actor=request.user)
        messages.success(request, _("Your agenda link no longer works."))
    return redirect("agenda:agenda_feed_settings")


@require_GET
@never_cache
def agenda_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed: no login, the token is the identity; 404 for unknown or revoked tokens."""
    feed = (
        FeedToken.objects.select_related("user")
        .filter(token=token, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404
    today = selectors.today_local()
    items = selectors.agenda_for(viewer=feed.user, start=today - dt.timedelta(days=180))
    # No session here: the feed speaks the language its owner chose in Klimop.
    with translation.override(feed.user.language):
        bookings = bookings_for_feed(feed.user, today - dt.timedelta(days=180))
        body = ical.build_feed(items, name=_("Klimop agenda"), extra_events=bookings)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="klimop.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
