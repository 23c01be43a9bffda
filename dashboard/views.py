"""The pages that put every feature together: a parent's home and the staff dashboard.

Above the features (posts, chats, absences, the planner, the quality card), so the core
never imports a feature. The features' own cards are template includes and tags.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from communication.chats.selectors import open_parent_messages_for
from communication.posts import selectors as post_selectors
from communication.posts import services as post_services
from klimop import access, selectors

HOME_POSTS = 5


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Parents land on their children; staff who are not parents on their dashboard."""
    children = selectors.children_for_guardian(viewer=request.user)
    if not children and access.is_staff_user(request.user):
        return redirect("staff_dashboard")
    context = {"children": children}
    if not children:
        context["contact_school"] = selectors.contact_school_for_empty_home()
        return render(request, "dashboard/home.html", context)
    # The newest posts of the children's groups and the school; the full,
    # paged timeline is at /berichten/. Posts shown here count as read, as there.
    posts = list(post_selectors.timeline_for(viewer=request.user)[:HOME_POSTS])
    context["posts"] = posts
    response = render(request, "dashboard/home.html", context)
    post_services.post_mark_read(actor=request.user, posts=[p for p in posts if not p.is_read])
    return response


@login_required
def staff_dashboard(request: HttpRequest) -> HttpResponse:
    staff = access.staff_member_of(request.user)
    if staff is None:
        return redirect("home")
    groups = list(selectors.groups_for_staff(viewer=request.user))
    now = timezone.now()
    return render(
        request,
        "dashboard/staff_dashboard.html",
        {
            "staff": staff,
            "groups": groups,
            "now": now,
            "open_messages": open_parent_messages_for(viewer=request.user, now=now),
        },
    )
