"""Absence and leave pages. Thin: reads through ``selectors``, writes through ``services``.

Parents: /afwezigheid/ (overview), /afwezigheid/ziekmelden/ and /afwezigheid/melden/,
recovery and withdrawal, /verlof/ (leave). Staff: /afwezigheid/vandaag/ (and its print
page), /afwezigheid/registreren/ (by phone, or absent without a report), follow-ups,
the register. The director decides leave in the admin.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from klimop import access, media, worktime
from klimop import selectors as directory

from . import rules, selectors, services, statutory
from .forms import FollowUpForm, LeaveForm, RecoveryForm, ReportForm, StaffReportForm
from .models import AbsenceReport

Kind = AbsenceReport.Kind


def _day(day: dt.date) -> str:
    return formats.date_format(day, "l j F")


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _staff_or_404(request):
    staff = access.staff_member_of(request.user)
    if staff is None:
        raise Http404
    return staff


def _default_first_day(school, now: dt.datetime) -> dt.date:
    """Today while lessons may still be ahead, else the next school day (an evening report
    is about tomorrow)."""
    settings = selectors.absence_settings_for(school)
    today = worktime.local_date(now)
    ahead = now < worktime.local_datetime(today, settings.lessons_end)
    day = today if ahead else today + dt.timedelta(days=1)
    return selectors.next_school_day(directory.school_calendar(school), day)


# --- parents -------------------------------------------------------------------------------------


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """A parent's children: report sick, open sicknesses (report recovery), coming and recent reports."""
    children = selectors.children_absences_for(viewer=request.user)
    if not children and access.staff_member_of(request.user) is not None:
        return redirect("absences:today")
    context = selectors.parent_card_context(request.user) if children else {"show": False}
    context["children"] = children
    context["today"] = selectors.local_today()
    if children:
        # "Back at school on": the next school day (a child reported sick today is not back today).
        school = children[0].pupil.school
        context["recover_default"] = selectors.next_school_day(
            directory.school_calendar(school), selectors.local_today() + dt.timedelta(days=1)
        )
    context["leave_requests"] = selectors.leave_requests_for_family(viewer=request.user)[:5]
    if not children:
        context["contact_school"] = directory.contact_school_for_empty_home()
    return render(request, "absences/overview.html", context)


@login_required
def report(request: HttpRequest, kind: str | None = None) -> HttpResponse:
    """Report one or more children: sick, an appointment, or a later arrival."""
    children = (
        rules.children_reportable_by(request.user)
        .select_related("group", "school")
        .order_by("date_of_birth", "first_name")
    )
    pupils = list(children)
    if not pupils:
        raise Http404
    school = pupils[0].school
    now = timezone.now()
    if request.method == "POST":
        allowed = {str(p.pk) for p in pupils}
        if any(pk not in allowed for pk in request.POST.getlist("pupils")):
            raise Http404  # someone else's child: not found, like a missing one
    chosen = request.GET.get("soort") or kind
    initial = {
        "kind": chosen if chosen in ReportForm.KIND_VALUES else Kind.SICK,
        "starts_on": _default_first_day(school, now),
    }
    form = ReportForm(request.POST or None, pupils=children, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            reports = services.absence_reports_create(
                actor=request.user,
                pupils=list(data["pupils"]),
                kind=data["kind"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                from_time=data["from_time"],
                until_time=data["until_time"],
                note=data["note"],
                submission=data["submission"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            _reported_message(request, reports)
            return redirect("absences:overview")
    settings = selectors.absence_settings_for(school)
    cutoff = selectors.cutoff_of(school, settings)
    return render(
        request,
        "absences/report.html",
        {
            "form": form,
            "school": school,
            "cutoff": cutoff,
            "pupils": pupils,
            "after_cutoff": selectors.is_after_cutoff(school, now, settings)
            and worktime.is_working_day(directory.school_calendar(school), worktime.local_date(now)),
            "via_portal": settings.sick_reports_via_portal,
            "lessons_start": settings.lessons_start,
        },
    )


def _reported_message(request, reports: services.Reports) -> None:
    names = ", ".join(r.pupil.first_name for r in reports)
    first = reports[0]
    if first.kind == Kind.SICK:
        text = _("%(names)s reported sick from %(day)s. Get well soon!")
    elif first.kind == Kind.APPOINTMENT:
        text = _("The appointment of %(names)s on %(day)s has been passed on to the teacher.")
    else:
        text = _("The teacher knows that %(names)s will arrive later on %(day)s.")
    messages.success(request, text % {"names": names, "day": _day(first.starts_on)})
    # A child who was already reported for that time is named right under it: the parent
    # must not read "reported" and think every child they ticked went through again.
    for skipped in reports.skipped:
        messages.warning(request, skipped.message)
    if any(r.reported_late for r in reports):
        school = first.school
        messages.warning(
            request,
            _(
                "Your report came in after %(cutoff)s and is marked late. For anything urgent, call the "
                "school: %(phone)s."
            )
            % {"cutoff": selectors.cutoff_of(school).strftime("%H:%M"), "phone": school.phone or "-"},
        )


@login_required
def recover(request: HttpRequest, pk: int) -> HttpResponse:
    """Report recovery of an open sickness (the day the child is back at school)."""
    report_ = selectors.report_get_for(viewer=request.user, pk=pk)
    if not report_.is_open:
        messages.info(request, _("This sickness has already been closed."))
        return redirect("absences:overview")
    initial = {
        "back_on": selectors.next_school_day(
            directory.school_calendar(report_.school), selectors.local_today() + dt.timedelta(days=1)
        )
    }
    form = RecoveryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            report_ = services.absence_report_recover(
                actor=request.user, report=report_, back_on=form.cleaned_data["back_on"]
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            if report_.cancelled_at:
                messages.success(
                    request,
                    _("The sick report of %(name)s has been withdrawn.") % {"name": report_.pupil.first_name},
                )
            else:
                messages.success(
                    request,
                    _("Good to hear %(name)s is better! See you at school on %(day)s.")
                    % {"name": report_.pupil.first_name, "day": _day(form.cleaned_data["back_on"])},
                )
            return redirect(_back(request, "absences:overview"))
    return render(request, "absences/recover.html", {"form": form, "report": report_})


def _back(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse(default)


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    report_ = selectors.report_get_for(viewer=request.user, pk=pk)
    try:
        services.absence_report_cancel(actor=request.user, report=report_)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The report has been withdrawn."))
    return redirect(_back(request, "absences:overview"))


# --- staff ---------------------------------------------------------------------------------------


def _day_from(request) -> dt.date:
    raw = request.GET.get("datum", "")
    try:
        return dt.date.fromisoformat(raw) if raw else selectors.local_today()
    except ValueError:
        return selectors.local_today()


def _today_context(request):
    staff = _staff_or_404(request)
    day = _day_from(request)
    cal = directory.school_calendar(staff.school)
    rows = selectors.absences_on(viewer=request.user, day=day, cal=cal)
    settings = selectors.absence_settings_for(staff.school)
    today = selectors.local_today()
    return {
        "staff": staff,
        "school": staff.school,
        "day": day,
        "is_today": day == today,
        "groups": selectors.by_group(rows),
        "count": len(rows),
        "late_count": sum(1 for r in rows if r.reported_late),
        "is_school_day": worktime.is_working_day(cal, day),
        "cutoff": selectors.cutoff_of(staff.school, settings),
        "now": timezone.now(),
        "previous": day - dt.timedelta(days=1),
        "next": day + dt.timedelta(days=1),
    }


@login_required
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    """Staff: who is absent today (or ?datum=) in their groups, or the whole school."""
    context = _today_context(request)
    context["follow_ups"] = selectors.open_follow_ups_for(viewer=request.user)
    context["follow_up_form"] = FollowUpForm()
    return render(request, "absences/today.html", context)


@login_required
@require_GET
def today_print(request: HttpRequest) -> HttpResponse:
    return render(request, "absences/today_print.html", _today_context(request))


@login_required
def staff_report(request: HttpRequest) -> HttpResponse:
    """Staff record a report made by phone, or mark a pupil absent without a report."""
    _staff_or_404(request)
    pupils = list(
        rules.pupils_in_care_of(request.user)
        .select_related("group", "school")
        .order_by("group__year", "group__name", "first_name")
    )
    if not pupils:
        raise Http404
    school = pupils[0].school
    initial = {
        "kind": request.GET.get("soort", Kind.SICK),
        "starts_on": selectors.local_today(),
        "pupil": request.GET.get("leerling"),
    }
    form = StaffReportForm(
        request.POST or None,
        pupils=rules.pupils_in_care_of(request.user)
        .select_related("group")
        .order_by("group__year", "group__name", "first_name"),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        channel = (
            AbsenceReport.Channel.SCHOOL if data["kind"] == Kind.UNEXPLAINED else AbsenceReport.Channel.PHONE
        )
        try:
            reports = services.absence_reports_create(
                actor=request.user,
                pupils=[data["pupil"]],
                kind=data["kind"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                from_time=data["from_time"],
                until_time=data["until_time"],
                note=data["note"],
                caller=data["caller"],
                channel=channel,
                submission=data["submission"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            report_ = reports[0]
            if report_.kind == Kind.UNEXPLAINED:
                messages.success(
                    request,
                    _(
                        "%(name)s is marked absent without a report. The parents are "
                        "notified within office hours."
                    )
                    % {"name": report_.pupil.first_name},
                )
            else:
                messages.success(
                    request,
                    _("The report for %(name)s has been recorded.") % {"name": report_.pupil.first_name},
                )
            return redirect(f"{reverse('absences:today')}?datum={report_.starts_on.isoformat()}")
    return render(request, "absences/staff_report.html", {"form": form, "school": school})


@login_required
@require_POST
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = selectors.follow_up_get_for(viewer=request.user, pk=pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            services.follow_up_complete(
                actor=request.user, follow_up=follow_up, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("The follow-up for %(name)s is marked done.") % {"name": follow_up.pupil.first_name},
            )
    else:
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return redirect(_back(request, "absences:today"))


@login_required
@require_GET
def register(request: HttpRequest) -> HttpResponse:
    """Director, office, IB-er: the statutory threshold (16 hours in four school weeks) and long
    absence, with a CSV export of the threshold list."""
    staff = _staff_or_404(request)
    if not rules.may_see_school_register(request.user):
        raise Http404
    today_ = selectors.local_today()
    year = selectors.current_school_year(staff.school, today_)
    if year is None:
        return render(request, "absences/register.html", {"year": None})
    over, long_rows = selectors.school_register(viewer=request.user, school_year=year, today=today_)
    if request.GET.get("format") == "csv":
        return _threshold_csv(over, year)
    return render(
        request,
        "absences/register.html",
        {
            "year": year,
            "over": over,
            "long_rows": long_rows,
            "threshold": statutory.UNEXPLAINED_THRESHOLD_HOURS,
            "weeks": statutory.UNEXPLAINED_WINDOW_SCHOOL_WEEKS,
            "long_days": statutory.LONG_ABSENCE_SCHOOL_DAYS,
        },
    )


def _csv_safe(value: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas (CSV injection)."""
    return f"'{value}" if value[:1] in {"=", "+", "-", "@"} else value


def _threshold_csv(rows, year) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = worktime.local_date(timezone.now()).isoformat()
    response["Content-Disposition"] = f'attachment; filename="verzuim-16-uur-{stamp}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM correctly
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            _("Pupil"),
            _("Group"),
            _("External id"),
            _("Start date"),
            _("Threshold reached on"),
            _("Hours in four school weeks"),
            _("Hours this school year"),
        ]
    )
    for row in rows:
        writer.writerow(
            [
                _csv_safe(row.pupil.full_name),
                _csv_safe(row.pupil.group.name if row.pupil.group else ""),
                _csv_safe(row.pupil.external_id),
                row.hit.started_on.isoformat(),
                row.hit.reached_on.isoformat(),
                f"{row.hit.hours:.2f}".replace(".", ","),
                f"{row.total_hours:.2f}".replace(".", ","),
            ]
        )
    return response


@login_required
@require_GET
def pupil_register(request: HttpRequest, pk: int) -> HttpResponse:
    """One pupil's absences this school year, by kind (staff in whose care the pupil is; parents)."""
    pupil = selectors.pupil_get_for_register(viewer=request.user, pk=pk)
    today_ = selectors.local_today()
    year = selectors.current_school_year(pupil.school, today_)
    if year is None:
        raise Http404
    data = selectors.pupil_register(pupil=pupil, school_year=year, today=today_)
    return render(
        request,
        "absences/pupil_register.html",
        {
            "register": data,
            "pupil": pupil,
            "year": year,
            "is_staff": rules.is_staff_for(request.user, pupil),
            "threshold": statutory.UNEXPLAINED_THRESHOLD_HOURS,
        },
    )


# --- leave ---------------------------------------------------------------------------------------


@login_required
@require_GET
def leave_list(request: HttpRequest) -> HttpResponse:
    requests_ = selectors.leave_requests_for_family(viewer=request.user)
    if not access.is_guardian(request.user):
        raise Http404
    may_request = rules.children_reportable_by(request.user).exists()
    return render(request, "absences/leave_list.html", {"requests": requests_, "may_request": may_request})


_PENDING = "absences_leave_statement"


def _pending_statement(request, submission) -> services.Statement | None:
    """A statement uploaded with an earlier try of this same form (kept so nothing is lost)."""
    pending = request.session.get(_PENDING)
    if not pending or pending.get("submission") != str(submission):
        return None
    try:
        with default_storage.open(pending["path"], "rb") as handle:
            content = ContentFile(handle.read(), name=pending["path"].rsplit("/", 1)[-1])
    except (FileNotFoundError, OSError):
        return None
    return services.Statement(content=content, content_type=pending["content_type"], name=pending["name"])


def _keep_statement(request, submission, statement: services.Statement) -> None:
    _forget_statement(request)
    statement.content.seek(0)
    ext = "pdf" if statement.content_type == "application/pdf" else statement.content.name.rsplit(".", 1)[-1]
    path = default_storage.save(f"private/leave/pending/{uuid.uuid4().hex}.{ext}", statement.content)
    request.session[_PENDING] = {
        "submission": str(submission),
        "path": path,
        "name": statement.name,
        "content_type": statement.content_type,
    }
    statement.content.seek(0)


def _forget_statement(request) -> None:
    pending = request.session.pop(_PENDING, None)
    if pending:
        media.delete_files([pending["path"]])


@login_required
def leave_create(request: HttpRequest) -> HttpResponse:
    """Request leave for one or more children; the statutory rules are checked as it is made."""
    children = (
        rules.children_reportable_by(request.user)
        .select_related("group", "school")
        .order_by("date_of_birth", "first_name")
    )
    pupils = list(children)
    if not pupils:
        raise Http404
    school = pupils[0].school
    if request.method == "POST":
        allowed = {str(p.pk) for p in pupils}
        if any(pk not in allowed for pk in request.POST.getlist("pupils")):
            raise Http404
    form = LeaveForm(
        request.POST or None,
        request.FILES or None,
        pupils=children,
        initial={"kind": request.GET.get("soort", "")},
    )
    check = None
    if request.method == "POST":
        valid = form.is_valid()
        data = form.cleaned_data
        submission = request.POST.get("submission", "")
        if request.POST.get("forget_statement"):
            _forget_statement(request)
        statement, upload = None, data.get("statement")
        if upload:
            try:
                statement = services.leave_statement_process(upload)
            except ValidationError as exc:
                form.add_error("statement", exc)
        else:
            statement = _pending_statement(request, submission)
        if valid and not form.errors:
            pupils_chosen = list(data["pupils"])
            try:
                leave = services.leave_request_create(
                    actor=request.user,
                    pupils=pupils_chosen,
                    kind=data["kind"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    reason=data["reason"],
                    explanation=data["explanation"],
                    statement=statement,
                    submission=data["submission"],
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
                check = services.leave_request_check(
                    actor=request.user,
                    pupils=pupils_chosen,
                    kind=data["kind"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    has_statement=statement is not None,
                )
            else:
                _forget_statement(request)
                messages.success(
                    request,
                    _(
                        "Your leave request has been sent to the director. You will be "
                        "notified of the decision here and by e-mail."
                    ),
                )
                return redirect("absences:leave_detail", pk=leave.pk)
        if upload and statement is not None:
            # Something else needs fixing: keep the checked file, so the parent need not pick it again.
            _keep_statement(request, submission, statement)
    else:
        _forget_statement(request)
    pending = request.session.get(_PENDING) if request.method == "POST" else None
    if pending and pending.get("submission") != request.POST.get("submission"):
        pending = None
    settings = selectors.absence_settings_for(school)
    return render(
        request,
        "absences/leave_form.html",
        {
            "form": form,
            "school": school,
            "pending": pending,
            "check": check,
            "warnings": [services.WARNING_MESSAGES[w] for w in (check.warnings if check else [])],
            "guidance": settings.leave_guidance,
            "via_portal": settings.leave_requests_via_portal,
            "max_days": statutory.LEAVE_MAX_SCHOOL_DAYS,
        },
    )


@login_required
@require_GET
def leave_check(request: HttpRequest) -> JsonResponse:
    """The form's live preview: school days, refusals and warnings for the dates chosen so far."""
    ids = request.GET.getlist("pupils")
    pupils = list(
        rules.children_reportable_by(request.user)
        .filter(pk__in=[i for i in ids if i.isdigit()])
        .select_related("school")
    )
    try:
        first = dt.date.fromisoformat(request.GET.get("starts_on", ""))
        last = dt.date.fromisoformat(request.GET.get("ends_on", ""))
    except ValueError:
        return JsonResponse({"ok": False})
    if not pupils or len(pupils) != len(ids):
        return JsonResponse({"ok": False})
    try:
        check = services.leave_request_check(
            actor=request.user,
            pupils=pupils,
            kind=request.GET.get("kind", ""),
            starts_on=first,
            ends_on=last,
            has_statement=request.GET.get("statement") == "1",
        )
    except (ValidationError, Http404):
        return JsonResponse({"ok": False})
    return JsonResponse(
        {
            "ok": True,
            "school_days": check.school_days,
            "errors": [str(e) for e in check.errors],
            "warnings": [str(services.WARNING_MESSAGES[w]) for w in check.warnings],
            "for_attendance_officer": check.for_attendance_officer,
        }
    )


@login_required
@require_GET
def leave_detail(request: HttpRequest, pk: int) -> HttpResponse:
    leave = selectors.leave_request_get_for(viewer=request.user, pk=pk)
    return render(
        request,
        "absences/leave_detail.html",
        {
            "leave": leave,
            "objection": services.objection_text(leave) if leave.is_decided else "",
            "is_family": access.is_guardian(request.user),
        },
    )


@login_required
@require_POST
def leave_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    leave = selectors.leave_request_get_for(viewer=request.user, pk=pk)
    try:
        services.leave_request_withdraw(actor=request.user, leave_request=leave)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Your leave request has been withdrawn."))
    return redirect("absences:leave_detail", pk=leave.pk)


@login_required
@require_GET
def leave_decision_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The decision as a letter, to print (or save as PDF from the browser's print dialog)."""
    leave = selectors.leave_request_get_for(viewer=request.user, pk=pk)
    if not leave.is_decided:
        raise Http404
    return render(
        request,
        "absences/leave_print.html",
        {
            "leave": leave,
            "objection": services.objection_text(leave),
            "school": leave.school,
        },
    )


@login_required
@require_GET
def leave_statement(request: HttpRequest, pk: int) -> HttpResponse:
    """The attached statement, for the family and the school's managers only."""
    leave = selectors.leave_request_get_for(viewer=request.user, pk=pk)
    if not leave.statement:
        raise Http404
    return media.private_file_response(
        leave.statement,
        content_type=leave.statement_content_type,
        download_name=leave.statement_name,
        as_attachment=leave.statement_content_type == "application/pdf",
    )
