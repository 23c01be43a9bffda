"""The user's notifications: a list page that marks them read, and the count in the navigation;
turning browser push on and off for one browser, and the service worker that shows the pushes."""

import hashlib
import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from klimop.http import AuthenticatedHttpRequest

from .forms import PushEndpointForm, PushSubscriptionForm
from .models import SESSION_PUSH_KEY
from .selectors import notifications_for, push_endpoints_of
from .services import (
    notification_mark_read,
    push_enabled,
    push_subscription_delete,
    push_subscription_save,
)


@login_required
def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(viewer=request.user), 25).get_page(request.GET.get("page"))
    # Show which were new on this visit, then mark them read.
    unread_ids = {n.pk for n in page if n.read_at is None}
    context = {"page": page, "unread_ids": unread_ids, "push_enabled": push_enabled()}
    if context["push_enabled"]:
        context["push_public_key"] = settings.WEBPUSH_VAPID_PUBLIC_KEY
        # The page tells this browser whether the server has its subscription, without
        # putting the subscription URLs themselves in the page.
        context["push_endpoint_hashes"] = [
            hashlib.sha256(endpoint.encode()).hexdigest()
            for endpoint in push_endpoints_of(viewer=request.user)
        ]
    response = render(request, "notifications/list.html", context)
    if unread_ids:
        notification_mark_read(actor=request.user, notification_ids=unread_ids)
    return response


@login_required
@require_POST
def notification_mark_all_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    notification_mark_read(actor=request.user)
    return redirect("notifications:notifications")


def _json_body(request: HttpRequest):
    if request.content_type != "application/json":
        return None
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None


def _bad_request(errors=None) -> JsonResponse:
    return JsonResponse({"ok": False, "errors": errors or {"body": ["invalid JSON"]}}, status=400)


@login_required
@require_POST
def push_subscribe(request: AuthenticatedHttpRequest) -> JsonResponse:
    """Save this browser's PushSubscription (JSON: ``{endpoint, keys: {p256dh, auth}}``)."""
    if not push_enabled():
        return JsonResponse({"ok": False}, status=404)
    data = _json_body(request)
    if not isinstance(data, dict):
        return _bad_request()
    form = PushSubscriptionForm.from_json(data)
    if not form.is_valid():
        return _bad_request(form.errors.get_json_data())
    subscription = push_subscription_save(
        actor=request.user, user_agent=request.headers.get("User-Agent", ""), **form.cleaned_data
    )
    # Logging out of this browser forgets it again (models.notifications).
    request.session[SESSION_PUSH_KEY] = sorted({*request.session.get(SESSION_PUSH_KEY, []), subscription.pk})
    return JsonResponse({"ok": True}, status=201)


@login_required
@require_POST
def push_unsubscribe(request: AuthenticatedHttpRequest) -> JsonResponse:
    """Forget one of the user's own browsers (JSON: ``{endpoint}``); 404 for anyone else's."""
    data = _json_body(request)
    if not isinstance(data, dict):
        return _bad_request()
    form = PushEndpointForm(
        data={"endpoint": data.get("endpoint")} if isinstance(data.get("endpoint"), str) else {}
    )
    if not form.is_valid():
        return _bad_request(form.errors.get_json_data())
    if not push_subscription_delete(actor=request.user, endpoint=form.cleaned_data["endpoint"]):
        return JsonResponse({"ok": False}, status=404)
    return JsonResponse({"ok": True})


@never_cache
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """static/js/sw.js at the site root, so the service worker's scope is the whole site."""
    found = finders.find("js/sw.js")
    if found:
        with open(found, "rb") as script:
            content = script.read()
    else:  # collected static files only
        with staticfiles_storage.open("js/sw.js") as script:
            content = script.read()
    return HttpResponse(content, content_type="text/javascript; charset=utf-8")


urlpatterns = [
    path("meldingen/", notification_list, name="notifications"),
    path("meldingen/gelezen/", notification_mark_all_read, name="notifications_read"),
    path("meldingen/push/aan/", push_subscribe, name="push_subscribe"),
    path("meldingen/push/uit/", push_unsubscribe, name="push_unsubscribe"),
    path("sw.js", service_worker, name="service_worker"),
]
