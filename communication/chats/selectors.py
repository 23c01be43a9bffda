"""Reads of chats as one viewer may see them.

A conversation is visible to its active participants only; a guardian additionally
needs the right to act for the child it is about (or for a child in its group), so a
parent who is barred later, or a step-parent whose consent was withdrawn, no longer
reads it. Messages are visible once delivered (``deliver_at <= now``), and always to
their sender. "Missing" and "not yours" are the same 404.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from klimop import access
from klimop.models import StaffMember

from .models import Conversation, Message, Participant

_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _guardian_scope(viewer) -> Q:
    """Conversations a guardian may still read: about a child (or group) they may act for.

    Chats about a pupil who left stay readable (closed, read-only) for the guardians
    who had the right to act; ``pupils_actable_by`` would hide them.
    """
    if not access.is_guardian(viewer):
        return Q(pk__in=[])
    may_act = Q(
        pupil__guardian_relations__guardian__user=viewer,
        pupil__guardian_relations__access__in=access.ACT_ACCESS,
    )
    group_ids = access.pupils_actable_by(viewer).values("group_id")
    return may_act | Q(pupil__isnull=True, group_id__in=group_ids)


def conversations_visible_to(viewer) -> QuerySet[Conversation]:
    if not viewer.is_authenticated or not viewer.is_active:
        return Conversation.objects.none()
    mine = Conversation.objects.filter(
        Exists(Participant.objects.filter(conversation=OuterRef("pk"), user=viewer, left_at__isnull=True))
    )
    if access.staff_member_of(viewer) is not None:
        return mine
    return mine.filter(pk__in=Conversation.objects.filter(_guardian_scope(viewer)).values("pk"))


def _visible_messages(viewer, now: dt.datetime) -> Q:
    return Q(deliver_at__lte=now) | Q(sender=viewer)


def conversations_for(*, viewer, now: dt.datetime | None = None) -> list[Conversation]:
    """The viewer's conversations, latest message first, with ``unread`` and the last message.

    Unread: messages delivered after the viewer's ``last_read_at``, not their own and not
    removed. Two queries whatever the number of conversations.
    """
    now = now or timezone.now()
    last_read = Participant.objects.filter(conversation=OuterRef(OuterRef("pk")), user=viewer).values(
        "last_read_at"
    )[:1]
    unread = (
        Message.objects.filter(conversation=OuterRef("pk"), deliver_at__lte=now, removed_at__isnull=True)
        .exclude(sender=viewer)
        .filter(deliver_at__gt=Coalesce(Subquery(last_read), Value(_EPOCH), output_field=DateTimeField()))
        .order_by()
        .values("conversation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    visible = Message.objects.filter(
        Q(conversation=OuterRef("pk")) & _visible_messages(viewer, now)
    ).order_by("-deliver_at", "-pk")
    return list(
        conversations_visible_to(viewer)
        .select_related("pupil", "group")
        .annotate(
            unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
            last_at=Subquery(visible.values("deliver_at")[:1]),
            last_body=Subquery(visible.values("body")[:1]),
            last_removed=Subquery(visible.values("removed_at")[:1]),
        )
        # Conversations with messages by their latest one; the still-empty ones (e.g. a
        # per-child chat nobody wrote in yet) after them.
        .order_by(F("last_at").desc(nulls_last=True), "-created_at", "-pk")
    )


def unread_conversation_count(*, viewer, now: dt.datetime | None = None) -> int:
    """How many conversations have unread messages (for the navigation badge)."""
    if not viewer.is_authenticated:
        return 0
    now = now or timezone.now()
    return (
        Participant.objects.filter(
            user=viewer, left_at__isnull=True, conversation__in=conversations_visible_to(viewer)
        )
        .filter(
            Exists(
                Message.objects.filter(
                    conversation=OuterRef("conversation"),
                    deliver_at__lte=now,
                    removed_at__isnull=True,
                )
                .exclude(sender=viewer)
                .filter(
                    deliver_at__gt=Coalesce(
                        OuterRef("last_read_at"), Value(_EPOCH), output_field=DateTimeField()
                    )
                )
            )
        )
        .count()
    )


def conversation_get_for(*, viewer, pk: int) -> Conversation:
    """One conversation the viewer takes part in, or 404 for "missing" and "not yours" alike."""
    try:
        return conversations_visible_to(viewer).select_related("pupil", "group", "school").get(pk=pk)
    except Conversation.DoesNotExist:
        raise Http404 from None


def participants_of(conversation: Conversation) -> list[Participant]:
    """Active participants with their names (no contact details are read for display)."""
    return list(
        conversation.participants.filter(left_at__isnull=True)
        .select_related("user")
        .order_by("-is_staff", "user__first_name", "user__last_name")
    )


def anything_new(*, viewer, conversation: Conversation, since: dt.datetime, now: dt.datetime) -> bool:
    """Whether :func:`messages_for` with ``since`` would return anything: one indexed query,
    so that a poll with nothing new costs next to nothing (``conversation_poll``)."""
    return (
        conversation.messages.filter(_visible_messages(viewer, now))
        .filter(Q(deliver_at__gt=since) | Q(sender=viewer, created_at__gt=since))
        .exists()
    )


def messages_for(
    *, viewer, conversation: Conversation, since: dt.datetime | None = None, now: dt.datetime | None = None
) -> list[Message]:
    """Messages of a conversation the viewer may see (delivered, or their own), oldest first.

    ``since``: only what became visible after that moment (polling) — delivered since,
    or written by the viewer since. By delivery time, not id: a held message written
    earlier becomes visible later. Callers must have fetched ``conversation`` through
    :func:`conversation_get_for`.
    """
    now = now or timezone.now()
    qs = conversation.messages.filter(_visible_messages(viewer, now)).select_related(
        "sender", "acknowledged_by"
    )
    if since is not None:
        qs = qs.filter(Q(deliver_at__gt=since) | Q(sender=viewer, created_at__gt=since))
    return list(qs.order_by("deliver_at", "pk"))


def read_by(message: Message, participants: list[Participant], now: dt.datetime) -> list[Participant]:
    """The other participants shown as having seen ``message`` at ``now`` (read receipts;
    a staff member's read outside working time shows from their next opening)."""
    shown = []
    for p in participants:
        if p.user_id == message.sender_id:
            continue
        receipt = p.receipt_as_of(now)
        if receipt is not None and receipt >= message.deliver_at:
            shown.append(p)
    return shown


def open_parent_messages_for(*, viewer, now: dt.datetime | None = None) -> list[Message]:
    """Parent messages waiting for the viewer's answer, the least time left first (dashboard)."""
    if access.staff_member_of(viewer) is None:
        return []
    now = now or timezone.now()
    return list(
        Message.objects.filter(
            needs_answer=True,
            answered_at__isnull=True,
            removed_at__isnull=True,
            conversation__in=conversations_visible_to(viewer),
            conversation__closed_at__isnull=True,
        )
        .exclude(sender__in=StaffMember.objects.values("user_id"))
        .select_related("sender", "conversation__pupil", "acknowledged_by")
        .order_by("answer_by", "pk")
    )


def groups_to_address(*, viewer) -> QuerySet:
    """Groups whose parents the viewer (staff) may start a group conversation with."""

    groups = access.groups_acted_for_by(viewer)
    return groups.select_related("school_year").order_by("-school_year__starts_on", "year", "name")


def parents_to_chat_with(*, viewer) -> list[tuple]:
    """(user, group) pairs: the parents a guardian may write to, one per shared group.

    Only other guardians (with an account) who may act for a child in a group where
    the viewer may act for a child; only when the school offers chats between
    parents. Names only: contact details never leave this selector.
    """
    from klimop.models import Group, User

    if not access.is_guardian(viewer):
        return []
    groups = list(
        Group.objects.filter(
            pk__in=access.pupils_actable_by(viewer).filter(left_on__isnull=True).values("group_id"),
        )
        .exclude(school__chat_settings__parent_to_parent_chats=False)
        .order_by("year", "name")
    )
    pairs: list[tuple[User, Group]] = []
    for group in groups:
        others = (
            User.objects.filter(
                guardian__relations__pupil__group=group,
                guardian__relations__pupil__left_on__isnull=True,
                guardian__relations__access__in=access.ACT_ACCESS,
                is_active=True,
            )
            .exclude(pk=viewer.pk)
            .distinct()
            .order_by("first_name", "last_name")
            .only("pk", "first_name", "last_name")
        )
        pairs.extend((user, group) for user in others)
    return pairs


def open_parent_message_ids(conversation: Conversation) -> set[int]:
    return set(
        conversation.messages.filter(
            needs_answer=True,
            answered_at__isnull=True,
            acknowledged_at__isnull=True,
        ).values_list("pk", flat=True)
    )


__all__ = [
    "anything_new",
    "conversation_get_for",
    "groups_to_address",
    "parents_to_chat_with",
    "conversations_for",
    "messages_for",
    "open_parent_messages_for",
    "participants_of",
    "read_by",
    "unread_conversation_count",
]


def message_get_for(*, viewer, pk: int, now: dt.datetime | None = None) -> Message:
    """One message the viewer may see (in their conversation, delivered or theirs), else 404."""
    now = now or timezone.now()
    try:
        return (
            Message.objects.filter(
                _visible_messages(viewer, now), conversation__in=conversations_visible_to(viewer)
            )
            .select_related("conversation")
            .get(pk=pk)
        )
    except Message.DoesNotExist:
        raise Http404 from None


def messages_export_for(*, viewer) -> list[dict]:
    """Everything the viewer wrote in chats (AVG art. 15/20: a guardian's own data), oldest first."""
    from django.utils.html import strip_tags

    rows = Message.objects.filter(sender=viewer).select_related("conversation").order_by("created_at", "pk")
    return [
        {
            "conversation": m.conversation.title or m.conversation.get_kind_display(),
            "kind": m.conversation.kind,
            "written_at": m.created_at.isoformat(),
            "delivered_at": m.deliver_at.isoformat(),
            "text": strip_tags(m.body).strip(),
            "attachment": m.attachment_name or None,
            "removed_at": m.removed_at.isoformat() if m.removed_at else None,
        }
        for m in rows
    ]
