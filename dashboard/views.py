"""The pages that put every feature together: a parent's home and the staff dashboard.

Above the features (posts, chats, absences, the planner, the quality card), so the core
never imports a feature. The features' own cards are template includes and tags.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from communication.chats.selectors import open_parent_messages_for
from communication.posts import selectors as post_selectors
from communication.posts import services as post_services
from klimop import access, selectors
from klimop.memo import request_memo
from klimop.notifications.services import push_enabled

from .selectors import group_pupils_for, group_summaries_for, no_children_reason, quick_actions_for

HOME_POSTS = 5


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Parents land on their children; staff who are not parents on their dashboard.

    The cards read the parent's children, rounds and school calendar once (``klimop.memo``);
    posts shown here count as read once the page is made, outside that block."""
    with request_memo():
        response, shown = _home(request)
    post_services.post_mark_read(actor=request.user, posts=[p for p in shown if not p.is_read])
    return response


def _home(request: HttpRequest) -> tuple[HttpResponse, list]:
    children = selectors.children_for_guardian(viewer=request.user)
    if not children and access.is_staff_user(request.user):
        return redirect("staff_dashboard"), []
    context: dict[str, Any] = {"children": children, "push_invite": push_enabled()}
    if context["push_invite"]:
        context["push_public_key"] = settings.WEBPUSH_VAPID_PUBLIC_KEY
    if not children:
        context["contact_school"] = selectors.contact_school_for_empty_home()
        context["no_children_reason"] = no_children_reason(viewer=request.user)
        return render(request, "dashboard/home.html", context), []
    context["quick_actions"] = quick_actions_for(viewer=request.user)
    # The newest posts of the children's groups and the school; the full,
    # paged timeline is at /berichten/. Posts shown here count as read, as there.
    posts = list(post_selectors.timeline_for(viewer=request.user)[:HOME_POSTS])
    context["posts"] = posts
    return render(request, "dashboard/home.html", context), posts


def _group_param(request: HttpRequest) -> int | None:
    try:
        return int(request.GET["groep"])
    except (KeyError, ValueError):
        return None


@login_required
def staff_dashboard(request: HttpRequest) -> HttpResponse:
    """A teacher's groups with every pupil; for the whole school (director, office, care
    coordinator) a summary per group, its pupils on demand: ``?groep=<pk>`` opens that group
    (the page's script asks with HX-Request and gets only the pupil list)."""
    with request_memo():  # the cards share one calendar per school, one reading of the rules
        return _staff_dashboard(request)


def _staff_dashboard(request: HttpRequest) -> HttpResponse:
    staff = access.staff_member_of(request.user)
    if staff is None:
        return redirect("home")
    open_group = _group_param(request) if staff.sees_whole_school else None
    pupils = group_pupils_for(viewer=request.user, pk=open_group) if open_group is not None else []
    if open_group is not None and request.htmx:
        return render(request, "dashboard/_pupil_list.html", {"pupils": pupils})
    if staff.sees_whole_school:
        groups = group_summaries_for(viewer=request.user)
    else:
        groups = list(selectors.groups_for_staff(viewer=request.user))
    now = timezone.now()
    return render(
        request,
        "dashboard/staff_dashboard.html",
        {
            "staff": staff,
            "groups": groups,
            "open_group": open_group,
            "pupils": pupils,
            "now": now,
            "open_messages": open_parent_messages_for(viewer=request.user, now=now),
        },
    )
