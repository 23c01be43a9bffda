"""Directory pages: a pupil, one's own details, school and language choice, health check."""

from __future__ import annotations

import hmac

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import access, health, selectors, services
from .forms import ContactDetailsForm, NameForm
from .http import AuthenticatedHttpRequest


@login_required
def pupil_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pupil = selectors.pupil_get_for(viewer=request.user, pk=pk)
    guardians = selectors.guardians_of_pupil_for(viewer=request.user, pupil=pupil)
    return render(request, "klimop/pupil_detail.html", {"pupil": pupil, "guardians": guardians})


@login_required
def contact_details(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A guardian checks and corrects the contact details the school has of them."""
    records = access.guardian_records_of(request.user)
    if not records:
        return redirect("home")
    guardian = records[0]
    form = ContactDetailsForm(
        request.POST or None,
        initial={
            "email": guardian.email,
            "phone": guardian.phone,
            "notify_by_email": request.user.notify_by_email,
        },
    )
    if request.method == "POST" and form.is_valid():
        pending = services.guardian_update_contact(
            actor=request.user,
            guardian=guardian,
            email=form.cleaned_data["email"],
            phone=form.cleaned_data["phone"],
            notify_by_email=form.cleaned_data["notify_by_email"],
        )
        messages.success(request, _("Your contact details have been saved."))
        if pending:
            messages.info(
                request,
                _(
                    "We have sent a link to %(email)s. The school uses the new address once you "
                    "have opened that link; until then it keeps the previous one."
                )
                % {"email": form.cleaned_data["email"].strip().lower()},
            )
        return redirect("contact_details")
    return render(request, "klimop/contact_details.html", {"form": form, "guardian": guardian})


@login_required
def my_name(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The person keeps the name on their login current (school managers cannot)."""
    user = request.user
    form = NameForm(
        request.POST or None, initial={"first_name": user.first_name, "last_name": user.last_name}
    )
    if request.method == "POST" and form.is_valid():
        services.user_update_name(actor=user, **form.cleaned_data)
        messages.success(request, _("Your name has been saved."))
        return redirect("my_name")
    return render(request, "klimop/my_name.html", {"form": form})


@login_required
def contact_email_confirm(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    """The person opens the link from their new mailbox and confirms (a POST, not the GET)."""
    error, email = None, None
    try:
        email = services.guardian_contact_email_pending(token=token)
    except ValidationError as e:
        error = e.messages[0]
    if request.method == "POST" and error is None:
        try:
            services.guardian_confirm_contact_email(actor=request.user, token=token)
        except (ValidationError, PermissionDenied) as e:
            error = " ".join(getattr(e, "messages", [str(e)]))
        else:
            messages.success(request, _("Thank you: the school now uses %(email)s.") % {"email": email})
            return redirect("contact_details")
    return render(
        request,
        "klimop/contact_email_confirm.html",
        {"email": email, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_POST
def school_switch(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A person on the staff of two schools chooses the school they work in now."""
    from .middleware import ACTIVE_SCHOOL_SESSION_KEY

    try:
        school_id = int(request.POST.get("school", ""))
    except ValueError:
        school_id = None
    records = {r.school_id: r for r in access.staff_records_of(request.user)}
    if school_id not in records:
        messages.error(request, _("You do not work at that school."))
        return redirect("home")
    request.session[ACTIVE_SCHOOL_SESSION_KEY] = school_id
    messages.success(request, _("You now work in %(school)s.") % {"school": records[school_id].school})
    return redirect("home")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch between Dutch and English; stored on the user when logged in, else in a cookie."""
    from django.conf import settings

    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    response = redirect(next_url)
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("Unknown language."))
        return response
    if request.user.is_authenticated:
        services.user_set_language(actor=request.user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """static/img/favicon.ico at /favicon.ico, where browsers look on pages without an icon
    link of their own (the admin's before it has one, a PDF, a JSON answer)."""
    found = finders.find("img/favicon.ico")
    if found:
        with open(found, "rb") as icon:
            content = icon.read()
    else:  # collected static files only
        with staticfiles_storage.open("img/favicon.ico") as icon:
            content = icon.read()
    response = HttpResponse(content, content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness, for load balancers and docker: 200 while this process and its database answer,
    503 otherwise. Redis is not asked: pages work without it (klimop/health.py)."""
    checks = health.liveness()
    return _health_answer(checks, details=False)


@never_cache
@require_GET
def healthz_ready(request: HttpRequest) -> JsonResponse:
    """Readiness, for operators and monitoring: database, broker, cache, beat's heartbeat and
    the outbox; 503 when any fails. Anyone sees ok/fail per part; the admin's staff and a
    monitor with ``Authorization: Bearer <KLIMOP_HEALTH_TOKEN>`` also see ages and counts."""
    return _health_answer(health.readiness(), details=_may_see_health_details(request))


def _may_see_health_details(request: HttpRequest) -> bool:
    from django.conf import settings

    user = request.user
    if user.is_authenticated and (user.is_staff or user.is_superuser):
        return True
    token = settings.KLIMOP_HEALTH_TOKEN
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def _health_answer(checks: list[health.Check], *, details: bool) -> JsonResponse:
    answer = health.report(checks, details=details)
    return JsonResponse(answer, status=200 if answer["status"] == "ok" else 503)
