"""The user's notifications: a list page that marks them read, and the count in the navigation."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from ..selectors.notifications import notifications_for
from ..services.notifications import notification_mark_read


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(viewer=request.user), 25).get_page(request.GET.get("page"))
    # Show which were new on this visit, then mark them read.
    unread_ids = {n.pk for n in page if n.read_at is None}
    response = render(
        request, "communication/notifications/list.html", {"page": page, "unread_ids": unread_ids}
    )
    if unread_ids:
        notification_mark_read(actor=request.user, notification_ids=unread_ids)
    return response


@login_required
@require_POST
def notification_mark_all_read(request: HttpRequest) -> HttpResponse:
    notification_mark_read(actor=request.user)
    return redirect("communication:notifications")


urlpatterns = [
    path("meldingen/", notification_list, name="notifications"),
    path("meldingen/gelezen/", notification_mark_all_read, name="notifications_read"),
]
