"""Chat pages: the inbox, one conversation (with polling for new messages), start, actions."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from klimop import access, media
from klimop.text import strip_bidi

from . import selectors, services
from .forms import GroupStartForm, MessageForm, ParentStartForm, StartForm


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "l j F, H:i")


SEARCH_MAX_CHARS = 100


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """What needs attention first (unread, then waiting for the viewer's answer), conversations
    without messages left out; a parent's by child. Staff find any child's chat (the empty
    per-child chats too) with ``?q=`` (a child's or a parent's name)."""
    conversations = selectors.conversations_for(viewer=request.user)
    is_staff = access.staff_member_of(request.user) is not None
    q = request.GET.get("q")
    found, more = (None, False)
    if is_staff and q is not None:
        q = strip_bidi(q).strip()[:SEARCH_MAX_CHARS]
        found, more = selectors.children_found(viewer=request.user, q=q)
    return render(
        request,
        "chats/inbox.html",
        {
            "conversations": conversations,
            "attention": [c for c in conversations if c.attention < 2],
            "others": [c for c in conversations if c.attention == 2],
            "sections": None
            if is_staff
            else selectors.inbox_sections(viewer=request.user, conversations=conversations),
            "is_staff": is_staff,
            "q": q or "",
            "found": found,
            "more_found": more,
            "search_limit": selectors.SEARCH_LIMIT,
            "may_start": services.pupils_to_chat_about(request.user).exists(),
            "may_start_group": is_staff and selectors.groups_to_address(viewer=request.user).exists(),
            "may_start_parent": not is_staff and bool(selectors.parents_to_chat_with(viewer=request.user)),
            "now": timezone.now(),
        },
    )


def _bubbles(request, conversation, msgs, participants):
    is_staff = access.staff_member_of(request.user) is not None
    now = timezone.now()
    return [
        {
            "message": m,
            "mine": m.sender_id == request.user.pk,
            "held": m.deliver_at > timezone.now(),
            "read_by": selectors.read_by(m, participants, now) if m.sender_id == request.user.pk else [],
            # "Read — I'll get back to you", shown once it reached the parent.
            "acknowledged": m.acknowledged_at is not None
            and m.acknowledged_at <= now
            and m.answered_at is None,
            "may_acknowledge": is_staff
            and m.needs_answer
            and m.answered_at is None
            and m.acknowledged_at is None
            and not conversation.is_closed,
            "may_remove": is_staff and conversation.kind == services.Kind.GROUP and m.removed_at is None,
            # Staff see by when a parent's question must be answered (and whether that passed).
            "answer_due": is_staff
            and m.needs_answer
            and m.answered_at is None
            and m.answer_by is not None
            and not conversation.is_closed,
            "overdue": m.answer_by is not None and m.answer_by < now,
        }
        for m in msgs
    ]


def _detail_context(request, conversation, form):
    participants = selectors.participants_of(conversation)
    msgs = selectors.messages_for(viewer=request.user, conversation=conversation)
    staff = access.staff_member_of(request.user)
    now = timezone.now()
    # The parent's own questions still waiting, as the parent sees it: an answer held until
    # the teacher's next opening has not reached them yet, an acknowledgement has once shown.
    staff_ids = {p.user_id for p in participants if p.is_staff}
    answers = [m.created_at for m in msgs if m.sender_id in staff_ids and m.deliver_at <= now]
    my_open = [
        m
        for m in msgs
        if m.sender_id == request.user.pk
        and m.needs_answer
        and not any(at >= m.created_at for at in answers)
        and not (m.acknowledged_at is not None and m.acknowledged_at <= now)
    ]
    return {
        "conversation": conversation,
        "title": services.conversation_title(conversation),
        "participants": participants,
        "bubbles": _bubbles(request, conversation, msgs, participants),
        "since": (now - POLL_OVERLAP).isoformat(),
        "form": form,
        "is_staff": staff is not None,
        "held_until": services.staff_delivery_time(staff, now) if staff is not None else None,
        "expect_answer_by": my_open[-1].answer_by if my_open else None,
        "may_leave": staff is None and conversation.kind in (services.Kind.GROUP, services.Kind.PARENTS),
        "now": now,
        "poll_every_ms": settings.KLIMOP_CHAT_POLL_SECONDS * 1000,
    }


def _add_errors(form, exc: ValidationError) -> None:
    """Put a service's ``ValidationError`` on the form: by field where it names one, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for text in ValidationError(errors).messages:
                form.add_error(field if field in form.fields else None, text)
    else:
        for text in exc.messages:
            form.add_error(None, text)


@login_required
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.conversation_get_for(viewer=request.user, pk=pk)
    if request.method == "POST":
        form = MessageForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                message = services.message_send(
                    actor=request.user,
                    conversation=conversation,
                    body=form.cleaned_data["body"],
                    attachment=form.cleaned_data.get("attachment"),
                )
            except PermissionDenied as exc:
                messages.error(request, str(exc))
                return redirect("chats:chat_detail", pk=conversation.pk)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                if message.deliver_at > message.created_at:
                    messages.info(
                        request,
                        _("Sent. It is outside your working time, so it will be delivered on %(when)s.")
                        % {"when": _when(message.deliver_at)},
                    )
                url = reverse("chats:chat_detail", args=[conversation.pk])
                return redirect(f"{url}#m{message.pk}")
    else:
        form = MessageForm()
    services.conversation_mark_read(actor=request.user, conversation=conversation)
    # A refused message comes back with its text and the reason. A plain POST says 400 (the
    # form is invalid); htmx swaps only 2xx answers, so an htmx POST gets the same page as 200.
    status = 400 if form.errors and not getattr(request, "htmx", False) else 200
    return render(
        request,
        "chats/detail.html",
        _detail_context(request, conversation, form),
        status=status,
    )


#: How far each poll's next ``since`` reaches back: longer than any write transaction takes.
POLL_OVERLAP = dt.timedelta(seconds=30)


@login_required
@require_GET
def conversation_poll(request: HttpRequest, pk: int) -> HttpResponse:
    """What became visible since ``since`` (the previous answer's time), as an HTML fragment.

    Polled every 10 s by static/js/chats.js; the page de-duplicates by message id. Nothing
    new (most polls): ``204 No Content`` after one query (``selectors.poll_state``: may the
    viewer read it, and is anything new), besides the session's two; the navigation's unread
    badge then keeps its own 30-second refresh.

    The next ``since`` (``X-Since``) reaches back :data:`POLL_OVERLAP`: a message is stamped
    when it is written but visible only once its transaction commits, so a poll that ran in
    between must not move past it (it would never be shown without a reload).
    """
    now = timezone.now()
    try:
        since = dt.datetime.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        since = None
    if since is None or since.tzinfo is None or since > now:
        since = now - dt.timedelta(minutes=1)
    visible, new = selectors.poll_state(viewer=request.user, conversation_id=pk, since=since, now=now)
    if not visible:
        raise Http404
    if not new:
        nothing = HttpResponse(status=204)
        nothing["X-Since"] = (now - POLL_OVERLAP).isoformat()
        nothing["Cache-Control"] = "no-store"
        return nothing
    conversation = selectors.conversation_get_for(viewer=request.user, pk=pk)
    msgs = selectors.messages_for(viewer=request.user, conversation=conversation, since=since, now=now)
    if msgs:
        services.conversation_mark_read(actor=request.user, conversation=conversation)
    participants = selectors.participants_of(conversation)
    response = render(
        request,
        "chats/_messages.html",
        {
            "bubbles": _bubbles(request, conversation, msgs, participants),
            "conversation": conversation,
        },
    )
    response["X-Since"] = (now - POLL_OVERLAP).isoformat()
    response["X-Unread-Chats"] = str(selectors.unread_conversation_count(viewer=request.user, now=now))
    response["Cache-Control"] = "no-store"
    return response


@login_required
def conversation_start(request: HttpRequest) -> HttpResponse:
    pupils = (
        services.pupils_to_chat_about(request.user)
        .select_related("group")
        .order_by("first_name", "last_name")
    )
    is_staff = access.staff_member_of(request.user) is not None
    initial = {"pupil": request.GET.get("pupil")} if request.GET.get("pupil") else None
    form = StartForm(request.POST or None, pupils=pupils, initial=initial)
    if request.method == "POST" and form.is_valid():
        pupil = form.cleaned_data["pupil"]
        try:
            conversation, started = services.conversation_start_or_continue(
                actor=request.user,
                pupil=pupil,
                guardians=services.guardians_reachable_about(pupil) if is_staff else (),
                body=form.cleaned_data["body"],
            )
        except (PermissionDenied, ValidationError) as exc:
            for text in getattr(exc, "messages", [str(exc)]):
                form.add_error(None, text)
        else:
            if not started:
                # One conversation per subject: the message went into the one already going.
                messages.info(
                    request,
                    _("There already is a conversation about %(child)s; your message is below.")
                    % {"child": pupil.first_name},
                )
            return redirect("chats:chat_detail", pk=conversation.pk)
    elif request.method == "POST" and not pupils.exists():
        raise Http404
    return render(
        request,
        "chats/start.html",
        {
            "form": form,
            "is_staff": is_staff,
            "has_pupils": pupils.exists(),
        },
    )


@login_required
def conversation_start_group(request: HttpRequest) -> HttpResponse:
    """Staff: a conversation with all parents of one of their groups (announcement-like)."""
    if access.staff_member_of(request.user) is None:
        raise Http404
    groups = selectors.groups_to_address(viewer=request.user)
    initial = {"group": request.GET.get("group")} if request.GET.get("group") else None
    form = GroupStartForm(request.POST or None, groups=groups, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            conversation = services.conversation_start_group(
                actor=request.user,
                group=form.cleaned_data["group"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
            )
        except (PermissionDenied, ValidationError) as exc:
            for text in getattr(exc, "messages", [str(exc)]):
                form.add_error(None, text)
        else:
            return redirect("chats:chat_detail", pk=conversation.pk)
    return render(
        request,
        "chats/start_group.html",
        {
            "form": form,
            "has_groups": groups.exists(),
        },
        status=400 if form.errors else 200,
    )


@login_required
def conversation_start_parent(request: HttpRequest) -> HttpResponse:
    """A parent writes to another parent of a shared group; names only, never contact details."""
    if not access.is_guardian(request.user):
        raise Http404
    pairs = selectors.parents_to_chat_with(viewer=request.user)
    form = ParentStartForm(request.POST or None, pairs=pairs)
    if request.method == "POST" and form.is_valid():
        other, group = form.cleaned_data["other"]
        try:
            conversation = services.conversation_start_parents(
                actor=request.user,
                other=other,
                group=group,
                body=form.cleaned_data["body"],
            )
        except (PermissionDenied, ValidationError) as exc:
            for text in getattr(exc, "messages", [str(exc)]):
                form.add_error(None, text)
        else:
            return redirect("chats:chat_detail", pk=conversation.pk)
    return render(
        request,
        "chats/start_parent.html",
        {
            "form": form,
            "has_parents": bool(pairs),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def message_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    message = selectors.message_get_for(viewer=request.user, pk=pk)
    try:
        services.message_acknowledge(actor=request.user, message=message)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("chats:chat_detail", pk=message.conversation_id)


@login_required
@require_POST
def message_remove(request: HttpRequest, pk: int) -> HttpResponse:
    message = selectors.message_get_for(viewer=request.user, pk=pk)
    try:
        services.message_remove(actor=request.user, message=message)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The message was removed."))
    return redirect("chats:chat_detail", pk=message.conversation_id)


@login_required
@require_POST
def conversation_leave(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.conversation_get_for(viewer=request.user, pk=pk)
    try:
        services.conversation_leave(actor=request.user, conversation=conversation)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("chats:chat_detail", pk=pk)
    messages.success(request, _("You left the conversation."))
    return redirect("chats:chat_inbox")


@login_required
@require_GET
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    message = selectors.message_get_for(viewer=request.user, pk=pk)
    if not message.attachment or message.removed_at is not None:
        raise Http404
    is_pdf = message.attachment_kind == message.AttachmentKind.PDF
    return media.private_file_response(
        message.attachment,
        content_type=message.attachment_content_type,
        download_name=media.safe_download_name(message.attachment_name) if is_pdf else None,
    )


@login_required
@require_GET
def unread_counts(request: HttpRequest) -> HttpResponse:
    """The navigation's badges, polled by static/js/klimop.js so they stay right without reloading."""
    from klimop.notifications.selectors import notifications_for

    response = JsonResponse(
        {
            "chats": selectors.unread_conversation_count(viewer=request.user),
            "notifications": notifications_for(viewer=request.user, unread_only=True).count(),
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The viewer's own chat messages as a JSON download (privacy request)."""
    response = JsonResponse(
        {
            "exported_at": timezone.localtime().isoformat(),
            "messages": selectors.messages_export_for(viewer=request.user),
        },
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
    response["Content-Disposition"] = 'attachment; filename="klimop-berichten.json"'
    response["Cache-Control"] = "no-store"
    return response
