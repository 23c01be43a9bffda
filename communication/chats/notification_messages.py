"""The chats' notifications (klimop.notifications.messages): rendered in the reader's language."""

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from klimop.notifications.messages import register_message, when

from .models import Conversation

#: The school's clock, as the chats write a moment ("dinsdag 3 november 14:30").
WHEN_FORMAT = "l j F H:i"
_MOMENT = dt.datetime(2026, 11, 3, 13, 30, tzinfo=dt.UTC)
#: A conversation as the parameters name it (chats.services.conversation_params).
_CONVERSATION = {"conversation": "", "kind": Conversation.Kind.PARENTS, "group": "5a"}


def conversation_title(params: dict) -> str:
    """chats.services.conversation_title, in the reader's language."""
    if params["conversation"]:
        return params["conversation"]
    if params["kind"] == Conversation.Kind.PARENTS:
        return _("Parents of group %(group)s") % {"group": params["group"]}
    try:
        return str(Conversation.Kind(params["kind"]).label)
    except ValueError:
        return str(params["kind"])


def _name(params: dict) -> str:
    return params["name"] or _("Unknown person")


def _in_conversation(params: dict) -> str:
    return _("In: %(conversation)s") % {"conversation": conversation_title(params)}


register_message(
    "chat.message",
    title=lambda p: _("New message from %(name)s") % {"name": _name(p)},
    body=_in_conversation,
    example={"name": "Ms Jansen", **_CONVERSATION},
)
register_message(
    "chat.acknowledged",
    title=lambda p: _("%(name)s has read your message and will get back to you") % {"name": _name(p)},
    example={"name": "Ms Jansen"},
)
register_message(
    "chat.answer_reminder",
    title=lambda p: (
        _("A parent's message awaits your answer (by %(when)s)") % {"when": when(p["when"], WHEN_FORMAT)}
    ),
    body=_in_conversation,
    example={"when": _MOMENT, **_CONVERSATION},
)
register_message(
    "chat.answer_escalation",
    title=lambda p: (
        _("A parent's message was not answered in time (%(title)s)") % {"title": conversation_title(p)}
    ),
    body=gettext_lazy("It should have been answered by %(when)s."),
    example={"when": _MOMENT, **_CONVERSATION},
    formats={"when": WHEN_FORMAT},
)
