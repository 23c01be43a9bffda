"""Post pages: the parents' timeline, a post, the staff's own posts, write/edit/delete, files."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from klimop import access, media

from . import selectors, services
from .forms import SCHOOL, PostForm


def _staff_or_404(request):
    staff = access.staff_member_of(request.user)
    if staff is None:
        raise Http404
    return staff


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "l j F, H:i")


@login_required
@require_GET
def timeline(request: HttpRequest) -> HttpResponse:
    """All posts of the viewer's children's groups and school, newest first, paged."""
    paginator = Paginator(selectors.timeline_for(viewer=request.user), selectors.PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    posts = list(page.object_list)
    # Unread markers come from the query above; shown posts count as read from now on.
    services.post_mark_read(
        actor=request.user, posts=[p for p in posts if not p.is_read and p.publish_at <= timezone.now()]
    )
    return render(request, "posts/timeline.html", {"page": page, "posts": posts})


@login_required
@require_GET
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = selectors.post_get_for(viewer=request.user, pk=pk)
    if post.publish_at <= timezone.now():
        services.post_mark_read(actor=request.user, posts=[post])
    return render(request, "posts/detail.html", {"post": post})


@login_required
@require_GET
def my_posts(request: HttpRequest) -> HttpResponse:
    _staff_or_404(request)
    rows = selectors.posts_by_author(viewer=request.user)
    return render(request, "posts/mine.html", {"rows": rows, "now": timezone.now()})


def _form_context(request, form, *, groups, post=None, kept=()):
    now = timezone.now()
    publish_now, held = services.publication_time(author=request.user, now=now)
    consent = [(g, selectors.pupils_not_to_recognise(group=g)) for g in groups]
    data = request.POST if request.method == "POST" else {}
    photos = list(post.photos.all()) if post is not None else []
    return {
        "form": form,
        "post": post,
        "held_until": publish_now if held else None,
        "consent_lists": consent,
        "now": now,
        "photos": [(p, data.get(f"alt-photo-{p.pk}", p.alt_text)) for p in photos],
        "kept": [(u, data.get(f"alt-pending-{u.pk}", u.alt_text)) for u in kept],
        "has_photos": bool(photos) or any(u.is_photo for u in kept),
    }


def _keep_uploads(request, *, editing: bool = False) -> tuple[list, dict[str, list[str]]]:
    """Before anything else is checked, the files of a submitted post form are kept for their
    author (checked and stored as a post's are), so a form that comes back with an error still
    has them. Returns the kept uploads (from before, minus those the author removed, then the
    new ones) and the messages of refused files and of ids that are not the author's."""
    removed = {value for value in request.POST.getlist("remove_pending") if value.isdigit()}
    if removed:
        services.pending_uploads_discard(actor=request.user, ids=[int(v) for v in removed])
    requested = [v for v in request.POST.getlist("pending") if v not in removed]
    kept = selectors.pending_uploads_of(viewer=request.user, ids=requested)
    errors: dict[str, list[str]] = {}
    if len(kept) < len({v for v in requested if v.isdigit()}) or any(not v.isdigit() for v in requested):
        errors["photos"] = [services.not_kept_message()]
    new = services.pending_uploads_store(
        actor=request.user,
        photos=request.FILES.getlist("photos"),
        attachments=request.FILES.getlist("attachments"),
        alt_texts=request.POST.getlist("photo_alt_new"),
        editing=editing,
    )
    for name, messages_ in new.errors.items():
        errors.setdefault(name, []).extend(messages_)
    return kept + new.uploads, errors


def _pending_alt(request, kept) -> dict[int, str]:
    return {u.pk: request.POST.get(f"alt-pending-{u.pk}", u.alt_text) for u in kept if u.is_photo}


def _apply_errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _saved_message(request, post, *, verb):
    if post.publish_at > timezone.now():
        if post.held_for_office_hours:
            text = _(
                "Your post is %(verb)s. It is outside your working time, so parents will see it on %(when)s."
            )
        else:
            text = _("Your post is %(verb)s and will be published on %(when)s.")
    else:
        text = _("Your post is %(verb)s and published. Parents are notified.")
    messages.success(request, text % {"verb": verb, "when": _when(post.publish_at)})


@login_required
def post_create(request: HttpRequest) -> HttpResponse:
    staff = _staff_or_404(request)
    groups = list(selectors.groups_postable_by(request.user))
    may_school = services.may_post_to_school(request.user, staff.school)
    if not groups and not may_school:
        raise Http404
    form = PostForm(
        request.POST or None,
        groups=groups,
        may_post_to_school=may_school,
        initial={"audience": request.GET.get("group", ""), "kind": "atmosphere"},
    )
    kept: list = []
    if request.method == "POST":
        kept, upload_errors = _keep_uploads(request)
        if form.is_valid() and not upload_errors:
            data = form.cleaned_data
            group = form.selected_group()
            try:
                post = services.post_create(
                    actor=request.user,
                    group=group,
                    school=staff.school if data["audience"] == SCHOOL else None,
                    kind=data["kind"],
                    title=data["title"],
                    body=data["body"],
                    publish_at=data["publish_at"],
                    pending=[u.pk for u in kept],
                    pending_alt=_pending_alt(request, kept),
                    consent_confirmed=data["consent_confirmed"],
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error("audience", str(exc))
            else:
                _saved_message(request, post, verb=_("saved"))
                return redirect("posts:my_posts")
        for name, errors in upload_errors.items():
            for error in errors:
                form.add_error(name, error)
    return render(request, "posts/form.html", _form_context(request, form, groups=groups, kept=kept))


@login_required
@require_GET
def publication_preview(request: HttpRequest) -> JsonResponse:
    """When a post would be published (for the form, as the author picks a time)."""
    _staff_or_404(request)
    requested = None
    if request.GET.get("at"):
        field = forms.DateTimeField()
        try:
            requested = field.clean(request.GET["at"])
        except ValidationError:
            return JsonResponse({"text": _("Enter a valid date and time.")}, status=400)
    try:
        when, held = services.publication_time(author=request.user, requested=requested)
    except ValidationError as exc:
        return JsonResponse({"text": exc.messages[0], "held": False}, status=400)
    if when <= timezone.now():
        text = _("If you publish now, parents will see this post at once.")
    elif held:
        text = _("That is outside your working time: parents will see this post on %(when)s.")
    else:
        text = _("Parents will see this post on %(when)s.")
    return JsonResponse({"text": text % {"when": _when(when)}, "held": held})


@login_required
def post_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_or_404(request)
    post = selectors.post_get_for_author(viewer=request.user, pk=pk)
    initial = {"kind": post.kind, "title": post.title, "body": services.body_for_editing(post.body)}
    if post.publish_at > timezone.now() and not post.held_for_office_hours:
        initial["publish_at"] = timezone.localtime(post.publish_at)
    form = PostForm(request.POST or None, editing=post, initial=initial)
    kept: list = []
    if request.method == "POST":
        kept, upload_errors = _keep_uploads(request, editing=True)
        if form.is_valid() and not upload_errors:
            data = form.cleaned_data
            try:
                post = services.post_update(
                    actor=request.user,
                    post=post,
                    kind=data["kind"],
                    title=data["title"],
                    body=data["body"],
                    publish_at=data["publish_at"],
                    pending=[u.pk for u in kept],
                    pending_alt=_pending_alt(request, kept),
                    photo_alt={
                        p.pk: request.POST[f"alt-photo-{p.pk}"]
                        for p in post.photos.all()
                        if f"alt-photo-{p.pk}" in request.POST
                    },
                    consent_confirmed=data["consent_confirmed"],
                    remove_photo_ids=[p.pk for p in data["remove_photos"]],
                    remove_attachment_ids=[a.pk for a in data["remove_attachments"]],
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                _saved_message(request, post, verb=_("changed"))
                return redirect("posts:my_posts")
        for name, errors in upload_errors.items():
            for error in errors:
                form.add_error(name, error)
    groups = [post.group] if post.group_id else []
    return render(
        request, "posts/form.html", _form_context(request, form, groups=groups, post=post, kept=kept)
    )


@login_required
def post_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_or_404(request)
    post = selectors.post_get_for_author(viewer=request.user, pk=pk)
    if request.method == "POST":
        services.post_delete(actor=request.user, post=post)
        messages.success(request, _("The post has been deleted."))
        return redirect("posts:my_posts")
    return render(request, "posts/delete.html", {"post": post})


@login_required
@require_GET
def photo(request: HttpRequest, pk: int, size: str = "full") -> HttpResponse:
    """A photo, only for who may see its post, never before publication (author excepted)."""
    item = selectors.photo_get_for(viewer=request.user, pk=pk)
    field = item.thumbnail if size == "thumb" else item.image
    return media.private_file_response(field, content_type=item.content_type)


@login_required
@require_GET
def pending_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """The thumbnail of a photo kept for the post form, only for the person who chose it."""
    item = selectors.pending_upload_get_for(viewer=request.user, pk=pk)
    return media.private_file_response(item.thumbnail, content_type=item.content_type)


@login_required
@require_POST
def post_thank(request: HttpRequest, pk: int) -> HttpResponse:
    """A parent's one-tap thank-you (``thanked=1``) or taking it back (``thanked=0``).

    A plain form post goes back to the page it came from; an HTMX request (``HX-Request``)
    gets the button itself, redrawn.
    """
    post = selectors.post_get_for(viewer=request.user, pk=pk)
    services.post_thank(actor=request.user, post=post, thanked=request.POST.get("thanked") != "0")
    if getattr(request, "htmx", False):
        post = selectors.post_get_for(viewer=request.user, pk=pk)
        return render(request, "posts/_thanks.html", {"post": post, "next": request.POST.get("next", "")})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("posts:post_detail", args=[post.pk])
    return redirect(f"{back.split('#')[0]}#post-{post.pk}")


@login_required
@require_GET
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.attachment_get_for(viewer=request.user, pk=pk)
    return media.private_file_response(
        item.file, content_type="application/pdf", download_name=item.name, as_attachment=True
    )
