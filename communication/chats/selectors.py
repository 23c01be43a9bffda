"""Reads of chats as one viewer may see them.

A conversation is visible to its active participants only; a guardian additionally
needs the right to act for the child it is about (or for a child in its group), so a
parent who is barred later, or a step-parent whose consent was withdrawn, no longer
reads it. Messages are visible once delivered (``deliver_at <= now``), and always to
their sender. "Missing" and "not yours" are the same 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from klimop import access
from klimop.models import Guardian, GuardianRelation, Pupil, StaffMember

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


def _open_questions() -> QuerySet[Message]:
    """Parents' messages still waiting for a staff answer (acknowledged ones too: "read, I'll
    get back to you" is not an answer)."""
    return Message.objects.filter(
        needs_answer=True, answered_at__isnull=True, removed_at__isnull=True
    ).exclude(sender__in=StaffMember.objects.values("user_id"))


def conversations_for(
    *, viewer, now: dt.datetime | None = None, include_empty: bool = False
) -> list[Conversation]:
    """The viewer's conversations, what needs attention first, with ``unread``, the last message
    and ``attention`` (0 unread, 1 waiting for the viewer's answer, 2 the rest).

    Unread: messages delivered after the viewer's ``last_read_at``, not their own and not
    removed. Waiting for the viewer's answer: for staff, a parent's question without an
    answer (``waiting_until``: the earliest answer-by time; the least time left first); for a
    parent, a chat with the school or another parent in which the other side wrote last. The
    rest by their latest message. Conversations without any message (a per-child chat nobody
    wrote in yet) only with ``include_empty``: they would fill a teacher's inbox. One query
    whatever the number of conversations.
    """
    now = now or timezone.now()
    is_staff = access.staff_member_of(viewer) is not None
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
    qs = (
        conversations_visible_to(viewer)
        .select_related("pupil__group", "group")
        .annotate(
            unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
            last_at=Subquery(visible.values("deliver_at")[:1]),
            last_body=Subquery(visible.values("body")[:1]),
            last_removed=Subquery(visible.values("removed_at")[:1]),
            last_sender=Subquery(visible.values("sender_id")[:1]),
        )
    )
    if is_staff:
        open_questions = _open_questions().filter(
            conversation=OuterRef("pk"), conversation__closed_at__isnull=True
        )
        qs = qs.annotate(
            waiting_until=Subquery(open_questions.order_by("answer_by", "pk").values("answer_by")[:1])
        )
    else:
        qs = qs.annotate(
            last_by_staff=Exists(
                Participant.objects.filter(
                    conversation=OuterRef("pk"), user=OuterRef("last_sender"), is_staff=True
                )
            )
        )
    if not include_empty:
        qs = qs.filter(last_at__isnull=False)
    # Annotated rows with the attributes set below (the stubs type only the annotations).
    rows: list[Any] = list(qs.order_by(F("last_at").desc(nulls_last=True), "-created_at", "-pk"))
    for c in rows:
        if is_staff:
            waiting = c.waiting_until is not None
        else:
            c.waiting_until = None
            waiting = (
                c.closed_at is None
                and c.last_sender is not None
                and c.last_sender != viewer.pk
                and (
                    c.last_by_staff
                    if c.kind in (Conversation.Kind.DIRECT, Conversation.Kind.CHILD)
                    else c.kind == Conversation.Kind.PARENTS
                )
            )
        c.attention = 0 if c.unread else 1 if waiting else 2
    # Stable: within "waiting" the least time left first, else by the latest message (above).
    rows.sort(key=lambda c: (c.attention, (c.waiting_until or _EPOCH) if c.attention == 1 else _EPOCH))
    return rows


@dataclass
class InboxSection:
    """One heading of a parent's inbox: a child (``pupil``) or the school and its groups."""

    pupil: Pupil | None
    conversations: list[Conversation] = field(default_factory=list)
    may_start: bool = False

    @property
    def attention(self) -> int:
        return min((getattr(c, "attention", 2) for c in self.conversations), default=3)


def inbox_sections(*, viewer, conversations: list[Conversation]) -> list[InboxSection]:
    """A parent's inbox by child: a section per child they may act for (or have chats about),
    then one for the school-wide and group conversations. Sections with something that needs
    attention first, then by the child's name. One query (the children), whatever their number."""
    from .services import pupils_to_chat_about

    children = {
        p.pk: p
        for p in access.pupils_actable_by(viewer)
        .select_related("group")
        .annotate(may_start=Exists(pupils_to_chat_about(viewer).filter(pk=OuterRef("pk"))))
    }
    sections: dict[int | None, InboxSection] = {
        pk: InboxSection(pupil=p, may_start=p.may_start) for pk, p in children.items()
    }
    school = InboxSection(pupil=None)
    for c in conversations:
        if c.pupil_id is None:
            school.conversations.append(c)
            continue
        if c.pupil_id not in sections:  # a child who left: its chats stay readable
            sections[c.pupil_id] = InboxSection(pupil=c.pupil)
        sections[c.pupil_id].conversations.append(c)
    ordered = sorted(
        sections.values(),
        key=lambda s: (min(s.attention, 2), s.pupil.first_name, s.pupil.last_name, s.pupil.pk),  # type: ignore[union-attr]
    )
    if school.conversations:
        # After the children, unless something in it needs attention more than they do.
        at = next((i for i, s in enumerate(ordered) if min(s.attention, 2) > school.attention), len(ordered))
        ordered.insert(at, school)
    return ordered


@dataclass
class ChildFound:
    """A child found by the staff search, with the parents who may be contacted and the
    viewer's conversations about them (the empty per-child chat included)."""

    pupil: Pupil
    parents: list[str]
    conversations: list[Conversation]


SEARCH_LIMIT = 50


def children_found(*, viewer, q: str, now: dt.datetime | None = None) -> tuple[list[ChildFound], bool]:
    """Staff: the children in their care whose first name, last name or a parent's name (a
    parent who may act for them) matches every word of ``q`` (empty: all of them), with the
    viewer's conversations about each. At most ``SEARCH_LIMIT``; the bool says whether there
    were more. Never outside ``access.pupils_in_care_of``. Three queries, whatever the school's
    size."""
    if access.staff_member_of(viewer) is None:
        return [], False
    now = now or timezone.now()
    pupils = access.pupils_in_care_of(viewer)
    for word in q.split()[:5]:
        parent_named = GuardianRelation.objects.filter(
            Q(guardian__first_name__icontains=word) | Q(guardian__last_name__icontains=word),
            pupil=OuterRef("pk"),
            access__in=access.ACT_ACCESS,
        )
        pupils = pupils.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Exists(parent_named)
        )
    contactable = GuardianRelation.objects.filter(access__in=access.ACT_ACCESS).select_related("guardian")
    found = list(
        pupils.select_related("group")
        .prefetch_related(
            Prefetch(
                "guardian_relations",
                queryset=contactable.order_by("guardian__last_name", "guardian__first_name", "pk"),
                to_attr="contactable",
            )
        )
        .order_by("first_name", "last_name", "pk")[: SEARCH_LIMIT + 1]
    )
    more = len(found) > SEARCH_LIMIT
    found = found[:SEARCH_LIMIT]
    visible = Message.objects.filter(
        Q(conversation=OuterRef("pk")) & _visible_messages(viewer, now)
    ).order_by("-deliver_at", "-pk")
    about: dict[int, list[Conversation]] = {}
    for c in (
        conversations_visible_to(viewer)
        .filter(pupil__in=[p.pk for p in found])
        .annotate(last_at=Subquery(visible.values("deliver_at")[:1]))
        # "child" sorts before "direct": the per-child chat first, then by latest message.
        .order_by("kind", F("last_at").desc(nulls_last=True), "-created_at", "-pk")
    ):
        about.setdefault(c.pupil_id or 0, []).append(c)
    return [
        ChildFound(
            pupil=p,
            parents=[r.guardian.full_name for r in p.contactable],
            conversations=about.get(p.pk, []),
        )
        for p in found
    ], more


def unread_conversation_count(*, viewer, now: dt.datetime | None = None) -> int:
    """How many conversations have unread messages (for the navigation badge).

    The same rule as ``conversations_for``'s ``unread`` and ``conversations_visible_to``,
    written as one fixed SQL statement: the badge is on every page, and building the
    equivalent nested ORM query cost more than running it (tests/test_nav_counts.py
    checks both agree)."""
    if not viewer.is_authenticated or not viewer.is_active:
        return 0
    now = now or timezone.now()
    ops = connection.ops
    params = {
        "user": viewer.pk,
        "now": ops.adapt_datetimefield_value(now),
        "epoch": ops.adapt_datetimefield_value(_EPOCH),
    }
    scope = ""
    if access.staff_member_of(viewer) is None:
        # A guardian reads a chat about a child they may act for (also after it left), or a
        # group's chat when one of their children they may act for is in that group.
        scope = "AND " + _GUARDIAN_SCOPE
    with connection.cursor() as cursor:
        cursor.execute(_UNREAD_SQL.format(scope=scope.format(**_TABLES), **_TABLES), params)
        return cursor.fetchone()[0]


def poll_state(*, viewer, conversation_id: int, since: dt.datetime, now: dt.datetime) -> tuple[bool, bool]:
    """For an open chat page's poll: (may the viewer read this conversation, is anything new
    since ``since``) in one fixed SQL statement — the same rules as
    :func:`conversations_visible_to` and :func:`anything_new` (tests/test_chats.py compares
    them). Most polls find nothing new and answer from this one query."""
    if not viewer.is_authenticated or not viewer.is_active:
        return False, False
    ops = connection.ops
    params = {
        "user": viewer.pk,
        "conversation": conversation_id,
        "now": ops.adapt_datetimefield_value(now),
        "since": ops.adapt_datetimefield_value(since),
    }
    with connection.cursor() as cursor:
        cursor.execute(_POLL_SQL.format(scope=_GUARDIAN_SCOPE.format(**_TABLES), **_TABLES), params)
        row = cursor.fetchone()
    if row is None:
        return False, False
    return True, bool(row[0])


_TABLES = {
    "participant": Participant._meta.db_table,
    "conversation": Conversation._meta.db_table,
    "message": Message._meta.db_table,
    "relation": GuardianRelation._meta.db_table,
    "guardian": Guardian._meta.db_table,
    "pupil": Pupil._meta.db_table,
    "staff": StaffMember._meta.db_table,
    # The access states a guardian acts with: constants of the code, never input.
    "act": ", ".join(f"'{value}'" for value in access.ACT_ACCESS if str(value).isalpha()),
}
_UNREAD_SQL = """
SELECT COUNT(*) FROM {participant} p
JOIN {conversation} c ON c.id = p.conversation_id
WHERE p.user_id = %(user)s AND p.left_at IS NULL {scope}
AND EXISTS (
    SELECT 1 FROM {message} m
    WHERE m.conversation_id = p.conversation_id AND m.deliver_at <= %(now)s
    AND m.removed_at IS NULL AND m.sender_id <> %(user)s
    AND m.deliver_at > COALESCE(p.last_read_at, %(epoch)s)
)
"""
_POLL_SQL = """
SELECT EXISTS (
    SELECT 1 FROM {message} m
    WHERE m.conversation_id = c.id
    AND (m.deliver_at <= %(now)s OR m.sender_id = %(user)s)
    AND (m.deliver_at > %(since)s OR (m.sender_id = %(user)s AND m.created_at > %(since)s))
)
FROM {participant} p
JOIN {conversation} c ON c.id = p.conversation_id
WHERE p.conversation_id = %(conversation)s AND p.user_id = %(user)s AND p.left_at IS NULL
AND (EXISTS (SELECT 1 FROM {staff} s WHERE s.user_id = %(user)s) OR {scope})
"""
#: A guardian reads a conversation about a child they may act for, or a group's when one of
#: the children they may act for is in that group (``_guardian_scope``).
_GUARDIAN_SCOPE = """
(
    c.pupil_id IN (
        SELECT r.pupil_id FROM {relation} r JOIN {guardian} g ON g.id = r.guardian_id
        WHERE g.user_id = %(user)s AND r.access IN ({act})
    )
    OR (c.pupil_id IS NULL AND c.group_id IN (
        SELECT pu.group_id FROM {pupil} pu
        JOIN {relation} r ON r.pupil_id = pu.id JOIN {guardian} g ON g.id = r.guardian_id
        WHERE g.user_id = %(user)s AND r.access IN ({act}) AND pu.left_on IS NULL
    ))
)
"""


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
        _open_questions()
        .filter(conversation__in=conversations_visible_to(viewer), conversation__closed_at__isnull=True)
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
    "children_found",
    "inbox_sections",
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
            "written_at": timezone.localtime(m.created_at).isoformat(),
            "delivered_at": timezone.localtime(m.deliver_at).isoformat(),
            "text": strip_tags(m.body).strip(),
            "attachment": m.attachment_name or None,
            "removed_at": timezone.localtime(m.removed_at).isoformat() if m.removed_at else None,
        }
        for m in rows
    ]
