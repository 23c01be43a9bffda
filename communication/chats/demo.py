"""The chats' part of the demo school (``manage.py demo_school``, orchestrated by ``demo/``).

The per-child chats of every pupil (the hourly sync's work, right after the office's import) and
a few conversations in group 5a, each started and written through the chat services at the
moment it happened (``time_machine``): ouder@ asked leerkracht@ something two school days ago
and got an answer the next morning (in the child's per-child chat: starting a conversation
continues the one already going); a group conversation about the Christmas dinner has a
reply; another parent's question of last evening is still open, so leerkracht@'s dashboard
lists a parent waiting for an answer. Everyone read the old messages half an hour after they
arrived (``conversation_mark_read``, ``notification_mark_read``).
"""

from __future__ import annotations

import datetime as dt

import time_machine

from klimop import worktime
from klimop.demo import DemoSchool
from klimop.models import GuardianRelation, Pupil, School, User
from klimop.notifications.models import Notification
from klimop.notifications.services import notification_mark_read

from . import services
from .models import Conversation, Message

GROUP = "5a"
READ_AFTER = dt.timedelta(minutes=30)


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=worktime.AMSTERDAM)


def child_conversations_create(*, demo: DemoSchool, at: dt.datetime) -> None:
    """The per-child chats, made by the sync at ``at``."""
    with time_machine.travel(at, tick=False):
        services.child_conversations_sync(school_year=demo.year)


def conversations_create(
    *, demo: DemoSchool, teacher: User, parent: User, others: set[str], moment: dt.datetime
) -> None:
    """The conversations in group 5a (``teacher``'s), with ``parent`` and a neighbour: the
    first other parent (not in ``others``, the demo logins) with full access."""
    days = demo.school_days_before(moment, 3)  # newest first
    group = demo.groups[GROUP]
    pupil = Pupil.objects.filter(group=group, guardian_relations__guardian__user=parent).first()
    neighbour = (
        User.objects.filter(
            guardian__relations__pupil__group=group,
            is_active=True,
            guardian__relations__access=GuardianRelation.Access.FULL,
        )
        .exclude(email__in=others)
        .order_by("pk")
        .first()
    )
    if pupil is None or neighbour is None:
        return
    neighbours_child = Pupil.objects.filter(group=group, guardian_relations__guardian__user=neighbour).first()
    assert neighbours_child is not None  # found through that relation

    def at(moment: dt.datetime):
        return time_machine.travel(moment, tick=False)

    with at(_local(days[1], 19, 42)):
        direct = services.conversation_start_direct(
            actor=parent,
            pupil=pupil,
            body=f"Goedenavond, {pupil.first_name} heeft donderdag om 10:30 een afspraak bij de "
            "orthodontist. Mag ik haar om 10:10 bij het hek ophalen?",
        )
    with at(_local(days[0], 8, 12)):
        services.message_send(
            actor=demo.teacher_on(GROUP, days[0]),
            conversation=direct,
            body=f"Goedemorgen! Dat is goed, ik zorg dat {pupil.first_name} om 10:10 klaarstaat met "
            "jas en tas.",
        )
    with at(_local(days[1], 13, 5)):
        talk = services.conversation_start_group(
            actor=teacher,
            group=group,
            title="Kerstdiner: wie helpt er mee?",
            body="Beste ouders, voor het kerstdiner zoeken we nog vier ouders die willen helpen met "
            "opbouwen (16:30) en opruimen (19:30). Laat het hier weten!",
        )
    with at(_local(days[1], 18, 20)):
        services.message_send(actor=neighbour, conversation=talk, body="Ik help graag met opbouwen.")
    with at(moment - dt.timedelta(hours=14)):
        # Announced when it came in; nobody has read or answered it yet.
        services.conversation_start_direct(
            actor=neighbour,
            pupil=neighbours_child,
            body="Goedemorgen, is de gymles morgen binnen of buiten? Dan weet ik welke schoenen mee moeten.",
        )

    # History: the old messages have been read, each notification half an hour after it came;
    # what reaches someone only after the build (a teacher's next working day) is still unread.
    old = list(Message.objects.filter(conversation__in=[direct, talk]).order_by("created_at"))
    notes = Notification.objects.filter(cause__in=[f"message:{m.pk}" for m in old]).select_related("user")
    for note in sorted(notes, key=lambda n: (n.deliver_at, n.pk)):
        if demo.has_happened(note.deliver_at + READ_AFTER):
            with at(note.deliver_at + READ_AFTER):
                notification_mark_read(actor=note.user, notification_ids=[note.pk])
    read_at = max(m.deliver_at for m in old) + READ_AFTER
    if demo.has_happened(read_at):
        with at(read_at):
            for conversation in (direct, talk):
                for member in conversation.participants.select_related("user").order_by("pk"):
                    services.conversation_mark_read(actor=member.user, conversation=conversation)


def summary(school: School) -> dict[str, object]:
    chats = Conversation.objects.filter(school=school)
    return {
        "conversations": (
            f"{chats.filter(kind=Conversation.Kind.CHILD).count()} per-child chats, "
            f"{chats.exclude(kind=Conversation.Kind.CHILD).count()} other, "
            f"{Message.objects.filter(conversation__school=school).count()} messages"
        )
    }
