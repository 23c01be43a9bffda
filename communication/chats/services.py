"""Writes of chats: start conversations, send, acknowledge, read, moderate, leave, sync.

Who may reach whom: a guardian who may act for a child
(``access.pupils_actable_by``: gezag or granted, not barred, not a step-parent
without consent, not information-only) may start a chat with that child's
teachers; staff may start one with the guardians of pupils they teach (the
director, the office and the IB-er: the whole school). Parents only ever see
other people's names in a chat, never their contact details.

Office hours (docs/agreements.md): a staff member's message written outside their
working time gets ``deliver_at`` = their next opening; a parent's is delivered at once and
starts the answer clock, computed in working time. Notifications are rows
written in the same transaction (``notify``), so a broker outage loses nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, OuterRef, Q, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from klimop import access, media, worktime
from klimop import selectors as directory
from klimop.models import (
    Group,
    Guardian,
    GuardianRelation,
    Pupil,
    SchoolYear,
    StaffMember,
    User,
)
from klimop.notifications.services import notify
from klimop.text import sanitize_body

from .models import ChatSettings, Conversation, Message, Participant

MAX_BODY_CHARS = 4000
Kind = Conversation.Kind
# Parent messages in these kinds go to staff and start the answer clock; group
# conversations are announcements and parent-to-parent chats have no staff.
ANSWERED_KINDS = (Kind.DIRECT, Kind.CHILD)
Stops = ChatSettings.AcknowledgementStops


class _Text:
    """A translatable text with parameters, rendered in each recipient's language by ``notify``."""

    def __init__(self, msgid, **params):
        self.msgid, self.params = msgid, params

    def __str__(self) -> str:
        params = {k: str(v) for k, v in self.params.items()}
        return str(self.msgid) % params if params else str(self.msgid)


# --- who may start what ------------------------------------------------------------------


def pupils_to_chat_about(user):
    """Pupils a user may start a direct chat about (guardian: may act; staff: taught / school)."""
    if access.is_staff_user(user):
        return access.pupils_in_care_of(user)
    return access.pupils_actable_by(user).exclude(school__chat_settings__parents_may_start_chats=False)


def guardians_reachable_about(pupil: Pupil) -> list[Guardian]:
    """Guardians with an account who may act for the pupil: the ones staff may write to."""
    return list(
        Guardian.objects.filter(
            relations__pupil=pupil,
            relations__access__in=access.ACT_ACCESS,
            user__isnull=False,
            user__is_active=True,
        )
        .select_related("user")
        .order_by("last_name", "first_name")
    )


def _teacher_users(group: Group | None) -> list[User]:
    if group is None:
        return []
    return list(User.objects.filter(staff_members__groups=group, is_active=True).distinct().order_by("pk"))


def may_start_group_conversation(user, group: Group) -> bool:
    """A group's teachers and the school's management speak for a group (not the IB-er)."""
    return access.may_act_for_group(user, group)


def _add_participants(conversation: Conversation, users: Iterable[User], *, staff_ids: set[int]) -> None:
    Participant.objects.bulk_create(
        [Participant(conversation=conversation, user=u, is_staff=u.pk in staff_ids) for u in users],
        ignore_conflicts=True,
    )


def _staff_ids(users: Iterable[User]) -> set[int]:
    return set(StaffMember.objects.filter(user__in=list(users)).values_list("user_id", flat=True))


# --- starting conversations ----------------------------------------------------------------


def conversation_start_direct(
    *, actor: User, pupil: Pupil, guardians: Iterable[Guardian] = (), body: str = "", attachment=None
) -> Conversation:
    """Start (or continue) a chat about ``pupil``; see :func:`conversation_start_or_continue`."""
    conversation, _started = conversation_start_or_continue(
        actor=actor, pupil=pupil, guardians=guardians, body=body, attachment=attachment
    )
    return conversation


@transaction.atomic
def conversation_start_or_continue(
    *, actor: User, pupil: Pupil, guardians: Iterable[Guardian] = (), body: str = "", attachment=None
) -> tuple[Conversation, bool]:
    """A chat about ``pupil``: the one already going, else a new one. Returns it and whether
    it is new.

    A guardian reaches all teachers of the pupil's group (duo-teachers both); a staff
    member writes to the chosen ``guardians`` (who must be allowed to act for the
    pupil). One conversation per subject: when the actor already takes part in an open
    chat about the pupil with all of them, the message goes there instead of into a new
    thread; the per-child chat first (the school year's chat with the custodial parents
    and the teachers), else the direct chat with the latest message. Two quick submits
    wait for each other on the pupil's row, so they make one conversation. Raises
    ``PermissionDenied`` when the actor may not; the optional first message goes through
    :func:`message_send`.
    """
    if not pupils_to_chat_about(actor).filter(pk=pupil.pk).exists():
        raise PermissionDenied(_("You cannot start a conversation about this child."))
    # The lock: a second start about this child waits until the first one committed, then
    # finds its conversation (READ COMMITTED: each statement sees what was committed).
    pupil = Pupil.objects.select_for_update(of=("self",)).select_related("group").get(pk=pupil.pk)
    staff = access.staff_member_of(actor)
    if staff is None:
        teachers = _teacher_users(pupil.group)
        if not teachers:
            raise ValidationError(_("This child's group has no teacher to write to yet."))
        members, staff_ids = [actor, *teachers], {t.pk for t in teachers}
    else:
        allowed = {g.pk: g for g in guardians_reachable_about(pupil)}
        chosen = [allowed.get(g.pk) for g in guardians]
        if not chosen or None in chosen:
            raise ValidationError(_("Choose at least one parent who may be contacted about this child."))
        # chosen holds no None (refused above); mypy cannot see that through `None in chosen`.
        members, staff_ids = [actor, *[g.user for g in chosen]], {actor.pk}  # type: ignore[union-attr,list-item]
    conversation = _conversation_to_continue(actor=actor, pupil=pupil, members=members)
    started = conversation is None
    if conversation is None:
        conversation = Conversation.objects.create(
            kind=Kind.DIRECT,
            school_id=pupil.school_id,
            pupil=pupil,
            created_by=actor,
            title=pupil.full_name,
        )
        _add_participants(conversation, members, staff_ids=staff_ids)
    if body or attachment:
        message_send(actor=actor, conversation=conversation, body=body, attachment=attachment)
    return conversation, started


def _conversation_to_continue(*, actor: User, pupil: Pupil, members: list[User]) -> Conversation | None:
    """The open chat about ``pupil`` the actor sees in which all ``members`` take part: the
    per-child chat first, then the direct chat with the latest message. One query."""
    from .selectors import conversations_visible_to

    ids = {u.pk for u in members}
    latest = (
        Message.objects.filter(conversation=OuterRef("pk"))
        .order_by("-deliver_at", "-pk")
        .values("deliver_at")
    )
    return (
        conversations_visible_to(actor)
        .filter(pupil=pupil, kind__in=ANSWERED_KINDS, closed_at__isnull=True)
        .annotate(
            members_in=Count(
                "participants",
                filter=Q(participants__user__in=ids, participants__left_at__isnull=True),
                distinct=True,
            ),
            child_chat=Case(When(kind=Kind.CHILD, then=Value(0)), default=Value(1)),
            last_at=Subquery(latest[:1]),
        )
        .filter(members_in=len(ids))
        .order_by("child_chat", F("last_at").desc(nulls_last=True), "-created_at", "-pk")
        .first()
    )


@transaction.atomic
def conversation_start_group(*, actor: User, group: Group, title: str, body: str = "") -> Conversation:
    """A teacher-started conversation with the parents (who may act) of a group."""
    if not may_start_group_conversation(actor, group):
        raise PermissionDenied(_("You cannot start a conversation with this group."))
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Give the conversation a title.")})
    parents = list(
        User.objects.filter(
            guardian__relations__pupil__group=group,
            guardian__relations__pupil__left_on__isnull=True,
            guardian__relations__access__in=access.ACT_ACCESS,
            is_active=True,
        ).distinct()
    )
    conversation = Conversation.objects.create(
        kind=Kind.GROUP,
        school_id=group.school_id,
        group=group,
        created_by=actor,
        title=title[:140],
    )
    _add_participants(conversation, [actor, *parents], staff_ids={actor.pk})
    if body:
        message_send(actor=actor, conversation=conversation, body=body)
    return conversation


def shared_groups(user_a, user_b) -> list[Group]:
    """Groups in which both users are guardians who may act for a child."""
    a = access.pupils_actable_by(user_a).values("group_id")
    b = access.pupils_actable_by(user_b).values("group_id")
    return list(Group.objects.filter(pk__in=a).filter(pk__in=b))


@transaction.atomic
def conversation_start_parents(*, actor: User, other: User, group: Group, body: str = "") -> Conversation:
    """Parent to parent, within a group they share; neither sees the other's contact details."""
    if not access.is_guardian(actor) or not access.is_guardian(other) or actor.pk == other.pk:
        raise PermissionDenied(_("You cannot start this conversation."))
    if group not in shared_groups(actor, other):
        raise PermissionDenied(_("You cannot start this conversation."))
    if ChatSettings.objects.filter(school_id=group.school_id, parent_to_parent_chats=False).exists():
        raise PermissionDenied(_("Your school does not offer chats between parents."))
    conversation = Conversation.objects.create(
        kind=Kind.PARENTS,
        school_id=group.school_id,
        group=group,
        created_by=actor,
    )
    _add_participants(conversation, [actor, other], staff_ids=set())
    if body:
        message_send(actor=actor, conversation=conversation, body=body)
    return conversation


# --- messages ---------------------------------------------------------------------------------


def _active_participant(actor: User, conversation: Conversation) -> Participant:
    from .selectors import conversations_visible_to

    if not conversations_visible_to(actor).filter(pk=conversation.pk).exists():
        raise PermissionDenied(_("You are not part of this conversation."))
    return Participant.objects.get(conversation=conversation, user=actor)


def staff_delivery_time(staff: StaffMember, now: dt.datetime) -> dt.datetime:
    """When a message a staff member writes at ``now`` reaches parents: their next opening
    (after the last entered school year: in the next year of the national calendar)."""
    return directory.staff_delivery_time(sender=staff.user, school=staff.school, now=now)


def answer_calendar(conversation: Conversation) -> worktime.WorkCalendar:
    """The working time in which a parent's message is answered.

    The working days of the staff who answer in this conversation, together (duo-teachers
    of a per-child chat: the days either of them works, so a day neither works never
    counts): the school's calendar on the union of their weekdays. Only when no staff
    member of the school takes part, the school's whole calendar.
    """
    members = StaffMember.objects.filter(
        school_id=conversation.school_id,
        user__chat_participations__conversation=conversation,
        user__chat_participations__left_at__isnull=True,
    )
    weekdays: set[int] = set()
    for member in members:
        weekdays |= member.working_weekdays
    calendar = directory.school_calendar(conversation.school)
    return calendar.for_weekdays(weekdays) if weekdays else calendar


def _attach(message: Message, attachment, *, conversation: Conversation, is_staff: bool) -> None:
    """Check and store an upload: a PDF by signature, an image decoded and re-encoded."""
    name = getattr(attachment, "name", "") or ""
    attachment.seek(0)
    head = attachment.read(8)
    attachment.seek(0)
    if head.startswith(b"%PDF") or name.lower().endswith(".pdf"):
        media.check_pdf(attachment)
        media.save_file(message.attachment, "file.pdf", attachment)
        message.attachment_kind = Message.AttachmentKind.PDF
        message.attachment_content_type = "application/pdf"
        message.attachment_name = media.safe_download_name(name)
        return
    if conversation.kind == Kind.GROUP and not is_staff:
        # No parent photos in group conversations: other parents' children may be in them.
        raise ValidationError({"attachment": _("Parents cannot share photos in a group conversation.")})
    processed = media.process_photo(attachment)
    media.save_file(message.attachment, processed.image.name, processed.image)
    message.attachment_kind = Message.AttachmentKind.IMAGE
    message.attachment_content_type = processed.content_type
    message.attachment_name = (name or "foto")[:120]


@transaction.atomic
def message_send(*, actor: User, conversation: Conversation, body: str, attachment=None) -> Message:
    """Send a message in a conversation the actor takes part in.

    Staff: held until their next working moment (``deliver_at``), and the open parent
    messages of the conversation count as answered. Parents: delivered at once; in a
    chat with staff it needs an answer by ``answer_by`` (school setting, in working
    days of the recipients). The other participants are notified (cause
    ``message:<id>``) from ``deliver_at`` on; ``notify`` keeps staff notifications out
    of their own non-working time. Raises ``ValidationError`` for empty, too long or
    unacceptable input, ``PermissionDenied`` for a conversation the actor is not in
    or that is closed.
    """
    participant = _active_participant(actor, conversation)
    conversation = Conversation.objects.select_for_update().select_related("school").get(pk=conversation.pk)
    if conversation.is_closed:
        raise PermissionDenied(_("This conversation is closed."))
    text = (body or "").strip()
    if len(text) > MAX_BODY_CHARS:
        raise ValidationError(
            {"body": _("A message can be at most %(n)s characters.") % {"n": MAX_BODY_CHARS}}
        )
    clean = sanitize_body(text) if text else ""
    if not clean and attachment is None:
        raise ValidationError({"body": _("Write a message first.")})
    now = timezone.now()
    staff = access.staff_member_of(actor)
    message = Message(conversation=conversation, sender=actor, body=clean, created_at=now, deliver_at=now)
    if staff is not None:
        message.deliver_at = staff_delivery_time(staff, now)
    elif (
        conversation.kind in ANSWERED_KINDS
        and conversation.participants.filter(is_staff=True, left_at__isnull=True).exists()
    ):
        school = conversation.school
        cal = answer_calendar(conversation)
        # Every question gets an answer-by time, also in the summer before the next school
        # year is entered: the calendar goes on with the national calendar.
        message.answer_by = worktime.answer_by(cal, now, school.remind_after_working_days)
        message.escalate_at = worktime.answer_by(cal, now, school.escalate_after_working_days)
        # Remind at the opening of the deadline's day: a working day's notice.
        message.remind_at = max(now, worktime.opening_of(cal, message.answer_by))
        message.needs_answer = True
    if attachment is not None:
        try:
            _attach(message, attachment, conversation=conversation, is_staff=staff is not None)
        except ValidationError as exc:
            raise ValidationError({"attachment": exc.messages}) from None
        except media.StorageError:
            raise ValidationError(
                {"attachment": media.storage_failed(_("your message was not sent")).messages}
            ) from None
    try:
        # The fields the user chose are validated here; the table's check constraints hold what
        # this function computes (delivery after writing, a complete answer clock) and are
        # enforced by the database on save: checking them first cost eight queries a message.
        message.full_clean(exclude=["body"] if not clean else None, validate_constraints=False)
        message.save()
    except Exception:
        # The message is not kept (this transaction rolls back): neither is its file.
        media.delete_files([message.attachment.name] if message.attachment else [])
        raise
    if staff is not None:
        conversation.messages.filter(needs_answer=True, answered_at__isnull=True).exclude(
            sender__staff_members__isnull=False
        ).update(answered_at=now)
    _record_read(participant, staff, now)
    recipients = User.objects.filter(
        chat_participations__conversation=conversation, chat_participations__left_at__isnull=True
    ).exclude(pk=actor.pk)
    notify(
        users=recipients,
        cause=f"message:{message.pk}",
        message="chat.message",
        params={"name": actor.get_full_name(), **conversation_params(conversation)},
        url=reverse("chats:chat_detail", args=[conversation.pk]),
        deliver_at=message.deliver_at,
    )
    return message


def display_name(user: User) -> str:
    """A person's name as other participants see it: never their e-mail address."""
    return user.get_full_name() or _("Unknown person")


def conversation_params(conversation: Conversation) -> dict:
    """The conversation as a notification names it (rendered when read:
    chats.notification_messages.conversation_title)."""
    return {
        "conversation": conversation.title,
        "kind": conversation.kind,
        "group": conversation.group.name if conversation.kind == Kind.PARENTS else "",  # type: ignore[union-attr]
    }


def conversation_title(conversation: Conversation):
    if conversation.title:
        return conversation.title
    if conversation.kind == Kind.PARENTS:
        # A parents' chat always has its group (Conversation's constraint per kind).
        return _Text(gettext_lazy("Parents of group %(group)s"), group=conversation.group.name)  # type: ignore[union-attr]
    return conversation.get_kind_display()


@transaction.atomic
def message_acknowledge(*, actor: User, message: Message) -> Message:
    """ "Read — I'll get back to you": one tap by a staff participant; stops the reminder.

    Escalation still follows if the message is not answered by the escalation time.
    Idempotent: a second tap keeps the first acknowledgement. Tapped outside the staff
    member's working time, it reaches the parent (and counts) from their next opening.
    """
    message = Message.objects.select_for_update().select_related("conversation").get(pk=message.pk)
    participant = _active_participant(actor, message.conversation)
    if not participant.is_staff or not message.needs_answer:
        raise PermissionDenied(_("Only staff can acknowledge a parent's message."))
    if message.acknowledged_at is None and message.answered_at is None:
        staff = access.staff_member_of(actor)
        now = timezone.now()
        message.acknowledged_at = staff_delivery_time(staff, now) if staff is not None else now
        message.acknowledged_by = actor
        message.save(update_fields=["acknowledged_at", "acknowledged_by"])
        notify(
            users=[message.sender],
            cause=f"message-ack:{message.pk}",
            message="chat.acknowledged",
            params={"name": actor.get_full_name()},
            url=reverse("chats:chat_detail", args=[message.conversation_id]),
            deliver_at=message.acknowledged_at,
        )
    return message


def conversation_mark_read(*, actor: User, conversation: Conversation) -> None:
    """The actor has seen everything delivered so far (read receipts, unread counts)."""
    participant = Participant.objects.filter(
        conversation=conversation, user=actor, left_at__isnull=True
    ).first()
    if participant is not None:
        _record_read(
            participant, access.staff_member_of(actor) if participant.is_staff else None, timezone.now()
        )


def _record_read(participant: Participant, staff: StaffMember | None, now: dt.datetime) -> None:
    """Private: store a read; a staff member's read outside working time shows from their next
    opening (``Participant.receipt_as_of``). Trusts its caller's access check."""
    fields: dict[str, dt.datetime | None] = {"last_read_at": now}
    visible = participant.receipt_as_of(now)
    shows_from = staff_delivery_time(staff, now) if staff is not None else now
    if shows_from <= now:
        fields.update(receipt_at=now, held_receipt_at=None, held_receipt_from=None)
    else:
        # Fold an earlier held read that is already shown into the receipt, then hold this one.
        fields.update(receipt_at=visible, held_receipt_at=now, held_receipt_from=shows_from)
    Participant.objects.filter(pk=participant.pk).update(**fields)


@transaction.atomic
def message_remove(*, actor: User, message: Message) -> Message:
    """Moderation: a staff participant removes a message in a group conversation."""
    message = Message.objects.select_for_update().select_related("conversation").get(pk=message.pk)
    participant = _active_participant(actor, message.conversation)
    if not participant.is_staff or message.conversation.kind != Kind.GROUP:
        raise PermissionDenied(_("You cannot remove this message."))
    if message.removed_at is None:
        message.removed_at = timezone.now()
        message.removed_by = actor
        message.save(update_fields=["removed_at", "removed_by"])
    return message


@transaction.atomic
def conversation_leave(*, actor: User, conversation: Conversation) -> None:
    """A parent leaves a group (or parent-to-parent) conversation; they no longer see it."""
    participant = _active_participant(actor, conversation)
    if participant.is_staff or conversation.kind not in (Kind.GROUP, Kind.PARENTS):
        raise PermissionDenied(_("You cannot leave this conversation."))
    Participant.objects.filter(pk=participant.pk).update(left_at=timezone.now())


# --- the per-child chats of a school year -------------------------------------------------------


@transaction.atomic
def child_conversations_sync(*, school_year: SchoolYear, actor: User | None = None) -> dict[str, int]:
    """Create and update the per-child chat of every pupil in the school year (system action).

    Members: the parents with gezag and full access (with an account) and the
    teachers of the child's group; anyone else is marked as left. Chats (of any kind)
    about pupils who left are closed read-only. Idempotent: a second run changes nothing.
    """
    now = timezone.now()
    counts = {"created": 0, "joined": 0, "left": 0, "closed": 0}
    pupils = list(
        Pupil.objects.filter(group__school_year=school_year, left_on__isnull=True)
        .select_related("group")
        .prefetch_related("group__teachers", "guardian_relations__guardian")
    )
    existing = {c.pupil_id: c for c in Conversation.objects.filter(kind=Kind.CHILD, pupil__in=pupils)}
    members: dict[int, dict[int, Participant]] = defaultdict(dict)
    for participant in Participant.objects.filter(conversation__in=list(existing.values())):
        members[participant.conversation_id][participant.user_id] = participant
    # In bulk: a school's first sync makes a chat for each of its hundreds of pupils.
    new = [p for p in pupils if p.pk not in existing]
    if new:
        Conversation.objects.bulk_create(
            Conversation(kind=Kind.CHILD, school_id=p.school_id, pupil=p, title=p.full_name) for p in new
        )
        existing.update((c.pupil_id, c) for c in Conversation.objects.filter(kind=Kind.CHILD, pupil__in=new))
        counts["created"] = len(new)
    reopened = [c.pk for c in existing.values() if c.closed_at is not None]
    if reopened:
        Conversation.objects.filter(pk__in=reopened).update(closed_at=None)
    joining: list[Participant] = []
    rejoining: list[int] = []
    gone: list[int] = []
    for pupil in pupils:
        conversation = existing[pupil.pk]
        staff_ids = {t.user_id for t in pupil.group.teachers.all()}  # type: ignore[union-attr]  # pupils in a group
        parent_ids = {
            r.guardian.user_id
            for r in pupil.guardian_relations.all()
            if r.kind == GuardianRelation.Kind.PARENT_WITH_AUTHORITY
            and r.access in access.ACT_ACCESS
            and r.guardian.user_id is not None
        }
        wanted = staff_ids | parent_ids
        present = members[conversation.pk]
        for user_id in sorted(wanted):
            current = present.get(user_id)
            if current is None:
                joining.append(
                    Participant(conversation=conversation, user_id=user_id, is_staff=user_id in staff_ids)
                )
            elif current.left_at is not None:
                rejoining.append(current.pk)
        gone += [p.pk for uid, p in present.items() if uid not in wanted and p.left_at is None]
    Participant.objects.bulk_create(joining, batch_size=1000)
    if rejoining:
        Participant.objects.filter(pk__in=rejoining).update(left_at=None, joined_at=now)
    counts["joined"] = len(joining) + len(rejoining)
    if gone:
        counts["left"] = Participant.objects.filter(pk__in=gone).update(left_at=now)
    counts["closed"] = Conversation.objects.filter(
        school_id=school_year.school_id,
        closed_at__isnull=True,
        pupil__left_on__isnull=False,
    ).update(closed_at=now)
    return counts


def child_conversations_sync_all(*, today: dt.date | None = None) -> dict[str, int]:
    """Keep every school's per-child chats in step with the directory (beat, hourly).

    For each school: the school year containing ``today``, and also the next one
    when it starts within a week, so the chats are there on the first school day.
    Then every chat about a pupil who left is closed. Idempotent.
    """
    today = today or worktime.local_date(timezone.now())
    totals = {"created": 0, "joined": 0, "left": 0, "closed": 0}
    years = SchoolYear.objects.filter(
        starts_on__lte=today + dt.timedelta(days=7),
        ends_on__gte=today,
    )
    for school_year in years:
        for key, value in child_conversations_sync(school_year=school_year).items():
            totals[key] += value
    totals["closed"] += close_conversations_of_left_pupils()
    return totals


def close_conversations_of_left_pupils(*, school_id: int | None = None) -> int:
    """Close (read-only) every open chat about a pupil who left the school (system action)."""
    qs = Conversation.objects.filter(closed_at__isnull=True, pupil__left_on__isnull=False)
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    return qs.update(closed_at=timezone.now())


# --- the answer clock (periodic sweeps; system actions) -------------------------------------------


def _open_messages():
    return Message.objects.filter(
        needs_answer=True,
        answered_at__isnull=True,
        removed_at__isnull=True,
        conversation__closed_at__isnull=True,
    )


def answer_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind the staff participants of unanswered parent messages whose remind time came.

    An acknowledgement stops the reminder unless the school set it to stop nothing
    (``ChatSettings.acknowledgement_stops``).
    At most once per message: ``reminded_at`` is set under a row lock in the same
    transaction, and the notification's unique (user, cause) holds even if it is not.
    ``notify`` delivers each reminder within the recipient's own working time.
    """
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        due = list(
            _open_messages()
            .select_for_update(skip_locked=True, of=("self",))
            .filter(reminded_at__isnull=True, remind_at__lte=now)
            .exclude(
                # The acknowledgement stops the reminder unless the school chose "nothing"
                # (no settings row: the default, "reminder").
                Q(acknowledged_at__isnull=False)
                & ~Q(
                    conversation__school_id__in=ChatSettings.objects.filter(
                        acknowledgement_stops=Stops.NOTHING
                    ).values("school_id")
                )
            )
            .select_related("conversation")
        )
        for message in due:
            staff = User.objects.filter(
                chat_participations__conversation=message.conversation_id,
                chat_participations__left_at__isnull=True,
                chat_participations__is_staff=True,
            )
            sent += notify(
                users=staff,
                cause=f"answer-reminder:{message.pk}",
                message="chat.answer_reminder",
                params={"when": message.answer_by, **conversation_params(message.conversation)},
                url=reverse("chats:chat_detail", args=[message.conversation_id]),
            )
            message.reminded_at = now
            message.save(update_fields=["reminded_at"])
    return sent


def answer_escalations_send(*, now: dt.datetime | None = None) -> int:
    """Tell the school's director(s) about parent messages unanswered past the school's maximum.

    Only an answer stops escalation, unless the school lets the acknowledgement stop
    it too (``ChatSettings.acknowledgement_stops == "both"``). Once per message.
    """
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        due = list(
            _open_messages()
            .select_for_update(skip_locked=True, of=("self",))
            .filter(escalated_at__isnull=True, escalate_at__lte=now)
            .exclude(
                acknowledged_at__isnull=False,
                conversation__school__chat_settings__acknowledgement_stops=Stops.BOTH,
            )
            .select_related("conversation")
        )
        for message in due:
            directors = User.objects.filter(
                staff_members__school_id=message.conversation.school_id,
                staff_members__role=StaffMember.Role.DIRECTOR,
                is_active=True,
            )
            sent += notify(
                users=directors,
                cause=f"answer-escalation:{message.pk}",
                message="chat.answer_escalation",
                params={"when": message.answer_by, **conversation_params(message.conversation)},
                url=reverse("chats:chat_detail", args=[message.conversation_id]),
            )
            message.escalated_at = now
            message.save(update_fields=["escalated_at"])
    return sent


__all__ = [
    "answer_escalations_send",
    "answer_reminders_send",
    "child_conversations_sync",
    "child_conversations_sync_all",
    "conversation_leave",
    "conversation_mark_read",
    "conversation_start_direct",
    "conversation_start_group",
    "conversation_start_or_continue",
    "conversation_start_parents",
    "message_acknowledge",
    "message_remove",
    "message_send",
]
