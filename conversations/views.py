"""Planner pages. Parents: rounds, booking (several children in one step), their booking
with a calendar file, move and cancel. Staff: their rounds, publishing time, the slots with
bookings, who has not booked, booking on a family's behalf, a printable day, and (the
director) the planner's proposals at closing. Thin: reads from selectors, writes in services.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from klimop import access
from klimop.models import Guardian, Pupil

from . import rules, selectors, services
from .forms import AvailabilityForm
from .ical import booking_calendar
from .models import Availability, Slot


def _when(moment) -> str:
    return formats.date_format(rules.local(moment), "l j F, H:i")


def _slot_or_404(value) -> Slot:
    try:
        return Slot.objects.select_related("round", "staff__user").get(pk=int(value))
    except (TypeError, ValueError, Slot.DoesNotExist):
        raise Http404 from None


def _messages_of(exc: ValidationError) -> list[str]:
    return exc.messages


# --- parents ---------------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The parent's rounds and bookings; staff who are not parents go to their rounds."""
    if not access.is_guardian(request.user):
        if access.staff_member_of(request.user) is not None:
            return redirect("conversations:staff_rounds")
        raise Http404
    context = selectors.parent_card_context(request.user)
    context["bookings"] = selectors.upcoming_bookings_for(viewer=request.user)
    return render(request, "conversations/home.html", context)


def _choices_from_post(request, family: dict[int, Pupil]) -> list[tuple[Pupil, Slot]]:
    """``slot_<pupil>=<slot>`` per child, or ``run=<pupil>:<slot>,…`` (a suggestion);
    ``family``: the children the viewer may book for in the round, by id."""
    pairs: list[tuple[str, str]] = []
    if request.POST.get("run"):
        for part in request.POST["run"].split(","):
            pupil_id, _sep, slot_id = part.partition(":")
            pairs.append((pupil_id, slot_id))
    else:
        pairs = [
            (key.removeprefix("slot_"), value)
            for key, value in request.POST.items()
            if key.startswith("slot_") and value
        ]
    choices = []
    for pupil_id, slot_id in pairs:
        try:
            pupil = family[int(pupil_id)]
        except (ValueError, KeyError):
            raise Http404 from None  # someone else's child: as if it did not exist
        choices.append((pupil, _slot_or_404(slot_id)))
    return choices


@login_required
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Book a time per child; a family with more than one child to book gets back-to-back
    suggestions. A slot taken meanwhile: a clear message and the current free times (409).
    A booking sent by the page's script (``HX-Request``) gets only part of the page back: for
    one child refused, with no other child left to book, that child's part
    (``conversations/_round_refused.html``), read afresh; else the booking part
    (``conversations/_round_book.html``). Without the script, the whole page."""
    round_ = selectors.round_get_for_parent(viewer=request.user, pk=pk)
    errors: list[str] = []
    status = 200
    taken: list[int] = []
    choices: list[tuple[Pupil, Slot]] = []
    family: dict[int, Pupil] = {}
    if request.method == "POST":
        family = {p.pk: p for p in rules.pupils_bookable_by(request.user, round_).select_related("group")}
        choices = _choices_from_post(request, family)
        try:
            made = services.bookings_create(actor=request.user, round_=round_, choices=choices)
        except ValidationError as exc:
            errors = _messages_of(exc)
            status = 409 if isinstance(exc, services.SlotTaken | services.AlreadyBooked) else 400
            if isinstance(exc, services.SlotTaken) and exc.slot_id is not None:
                taken = [exc.slot_id]
        else:
            if len(made) == 1:
                messages.success(
                    request,
                    _("Booked: %(when)s. We sent a confirmation.") % {"when": _when(made[0].slot.starts_at)},
                )
                to = reverse("conversations:booking_detail", args=[made[0].pk])
            else:
                messages.success(
                    request, _("Booked %(n)s conversations. We sent a confirmation.") % {"n": len(made)}
                )
                to = reverse("conversations:round", args=[round_.pk])
            # The page's script follows HX-Redirect itself, so the message is shown once.
            return HttpResponseClientRedirect(to) if request.htmx else redirect(to)
    if status == 409 and request.htmx and len(choices) == 1:
        # The page's script replaces only this child's part: the rest of the page stays as it is.
        child = selectors.refused_child_plan(
            viewer=request.user, round_=round_, pupil=choices[0][0], taken=taken, family=family
        )
        if child is not None:
            return render(
                request, "conversations/_round_refused.html", {"child": child, "errors": errors}, status=409
            )
    plan = selectors.parent_round(viewer=request.user, round_=round_, taken=taken)
    template = "conversations/_round_book.html" if errors and request.htmx else "conversations/round.html"
    return render(request, template, {"plan": plan, "errors": errors}, status=status)


@login_required
@require_GET
def booking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    booking = selectors.booking_get_for(viewer=request.user, pk=pk)
    now = timezone.now()
    may_change = services.may_change(booking, request.user, now)
    free = []
    if may_change:
        free = [
            s
            for s in selectors.free_slots(booking.round, group=booking.slot.group, now=now)
            if access.staff_member_of(request.user) is not None
            or services.change_cutoff(booking.round, s) > now
        ]
    return render(
        request,
        "conversations/booking.html",
        {
            "booking": booking,
            "may_change": may_change,
            "free_days": selectors.days_of(free),
            "cutoff": services.change_cutoff(booking.round, booking.slot),
            "attends": booking.round.child_attends(booking.pupil),
            "is_staff_view": not access.can_act_for_pupil(request.user, booking.pupil),
        },
    )


@login_required
@require_GET
def booking_ics(request: HttpRequest, pk: int) -> HttpResponse:
    booking = selectors.booking_get_for(viewer=request.user, pk=pk)
    response = HttpResponse(booking_calendar(booking), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="oudergesprek-{booking.pk}.ics"'
    return response


@login_required
@require_POST
def booking_move(request: HttpRequest, pk: int) -> HttpResponse:
    booking = selectors.booking_get_for(viewer=request.user, pk=pk)
    try:
        moved = services.booking_move(
            actor=request.user, booking=booking, slot=_slot_or_404(request.POST.get("slot"))
        )
    except ValidationError as exc:
        for message in _messages_of(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("Moved to %(when)s.") % {"when": _when(moved.slot.starts_at)})
    return redirect("conversations:booking_detail", booking.pk)


@login_required
@require_POST
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    booking = selectors.booking_get_for(viewer=request.user, pk=pk)
    round_id, staff_view = booking.round_id, not access.can_act_for_pupil(request.user, booking.pupil)
    try:
        services.booking_cancel(actor=request.user, booking=booking)
    except ValidationError as exc:
        for message in _messages_of(exc):
            messages.error(request, message)
        return redirect("conversations:booking_detail", booking.pk)
    messages.success(request, _("The conversation has been cancelled."))
    if staff_view:
        return redirect("conversations:staff_round", round_id)
    return redirect("conversations:round", round_id)


# --- staff -------------------------------------------------------------------------------------------


def _staff_or_404(request):
    staff = access.staff_member_of(request.user)
    if staff is None:
        raise Http404
    return staff


@login_required
@require_GET
def staff_rounds(request: HttpRequest) -> HttpResponse:
    _staff_or_404(request)
    context = selectors.staff_card_context(request.user)
    return render(request, "conversations/staff_rounds.html", context)


@login_required
def staff_round(request: HttpRequest, pk: int) -> HttpResponse:
    """The teacher's round: publish time (POST), slots with bookings, who has not booked."""
    staff = _staff_or_404(request)
    round_ = selectors.round_get_for_staff(viewer=request.user, pk=pk)
    groups = rules.staff_groups_in_round(request.user, round_)
    form = AvailabilityForm(
        request.POST or None,
        groups=groups,
        initial={
            "date": round_.first_date,
            "starts": dt.time(13, 0),
            "ends": services.planner_settings_for(round_.school).conversations_end_by,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            availability = services.availability_add(
                actor=request.user,
                round_=round_,
                group=data["group"],
                date=data["date"],
                starts=data["starts"],
                ends=data["ends"],
                breaks=data["breaks"],
                location=data["location"],
                staff=staff,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(
                request, _("%(n)s conversation times published.") % {"n": availability.slots.count()}
            )
            return redirect("conversations:staff_round", round_.pk)
    view = selectors.staff_round(viewer=request.user, round_=round_)
    families = services.families(view.unbooked)
    return render(
        request,
        "conversations/staff_round.html",
        {
            "view": view,
            "form": form,
            "families": families,
            "staff": staff,
            "free_slots": list(selectors.free_slots(round_).filter(group__in=groups)),
            "end_by": services.planner_settings_for(round_.school).conversations_end_by,
        },
    )


@login_required
@require_POST
def availability_delete(request: HttpRequest, pk: int, availability_pk: int) -> HttpResponse:
    round_ = selectors.round_get_for_staff(viewer=request.user, pk=pk)
    availability = get_object_or_404(Availability, pk=availability_pk, round=round_)
    try:
        services.availability_delete(actor=request.user, availability=availability)
    except ValidationError as exc:
        for message in _messages_of(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("The times have been removed."))
    return redirect("conversations:staff_round", round_.pk)


@login_required
@require_POST
def staff_book(request: HttpRequest, pk: int) -> HttpResponse:
    """Book on a family's behalf (a parent phoned, or has no account)."""
    round_ = selectors.round_get_for_staff(viewer=request.user, pk=pk)
    groups = rules.staff_groups_in_round(request.user, round_)
    pupil = get_object_or_404(
        Pupil, pk=request.POST.get("pupil") or 0, group__in=groups, left_on__isnull=True
    )
    guardian = None
    if request.POST.get("guardian"):
        guardian = get_object_or_404(
            Guardian,
            pk=request.POST["guardian"],
            relations__pupil=pupil,
            relations__access__in=access.ACT_ACCESS,
        )
    try:
        services.bookings_create(
            actor=request.user,
            round_=round_,
            guardian=guardian,
            choices=[(pupil, _slot_or_404(request.POST.get("slot")))],
        )
    except ValidationError as exc:
        for message in _messages_of(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("Booked for %(child)s.") % {"child": pupil.first_name})
    return redirect("conversations:staff_round", round_.pk)


@login_required
@require_POST
def separate_toggle(request: HttpRequest, pk: int, pupil_pk: int) -> HttpResponse:
    round_ = selectors.round_get_for_staff(viewer=request.user, pk=pk)
    pupil = get_object_or_404(Pupil, pk=pupil_pk)
    try:
        services.separate_bookings_set(
            actor=request.user, round_=round_, pupil=pupil, allowed=request.POST.get("allowed") == "1"
        )
    except ValidationError as exc:
        for message in _messages_of(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("Saved for %(child)s.") % {"child": pupil.first_name})
    return redirect("conversations:staff_round", round_.pk)


@login_required
@require_GET
def day_print(request: HttpRequest, pk: int, day: str) -> HttpResponse:
    """A printable day: per teacher, each time with the child, group and parents."""
    _staff_or_404(request)
    round_ = selectors.round_get_for_staff(viewer=request.user, pk=pk)
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    slots = selectors.day_schedule(viewer=request.user, round_=round_, day=date)
    by_teacher: dict = {}
    for slot in slots:
        by_teacher.setdefault(slot.staff, []).append(slot)
    return render(
        request,
        "conversations/day.html",
        {
            "round": round_,
            "day": date,
            "by_teacher": by_teacher.items(),
            "booked": sum(1 for s in slots if s.booking),
            "total": len(slots),
        },
    )


@login_required
def proposals(request: HttpRequest, pk: int) -> HttpResponse:
    """The director lets the planner propose times for families that did not book, and confirms."""
    round_ = selectors.round_get_for_staff(viewer=request.user, pk=pk)
    if not rules.manages_round(request.user, round_):
        raise PermissionDenied
    if request.method == "POST":
        pairs = []
        for value in request.POST.getlist("pair"):
            pupil_id, _sep, slot_id = value.partition(":")
            pupil = get_object_or_404(Pupil, pk=pupil_id, group__in=round_.groups.all())
            pairs.append((pupil, _slot_or_404(slot_id)))
        booked, problems = services.proposals_confirm(actor=request.user, round_=round_, pairs=pairs)
        if booked:
            messages.success(
                request, _("%(n)s conversations booked; the families are notified.") % {"n": booked}
            )
        for problem in problems:
            messages.error(request, problem)
        return redirect("conversations:staff_round", round_.pk)
    proposed = services.proposals_for(actor=request.user, round_=round_)
    return render(
        request,
        "conversations/proposals.html",
        {
            "round": round_,
            "proposals": proposed,
            "unplaced": selectors.unbooked_pupils(round_).count() - len(proposed),
        },
    )
