"""The registry of notification messages: a message id and its parameters, rendered when read.

A notification stores *what* happened (``message = "post.published"``, ``params = {"group":
"5a"}``), not finished text: the notifications page, the push and the e-mail render it in
the reader's language of that moment. Each feature registers its own messages in a
``notification_messages`` module of its app, which the notifications app imports when
Django starts (``apps.ready``, like the admin's autodiscovery), so the core never imports a
feature.

A message's ``example`` parameters are its schema: every parameter the message uses, with
a value of its type. ``notify`` refuses parameters that miss one; a ``datetime`` is stored
as an ISO string and shown on the school's clock (Europe/Amsterdam) in the reader's
language, a ``date`` likewise; anything else is shown as it is.

``title`` and ``body`` are lazy translations with ``%(name)s`` placeholders, or a function
of the parameters (their Python values: datetimes are aware) for a text that is more than
one sentence with blanks, called with the reader's language active.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise

from klimop.worktime import AMSTERDAM

#: How a datetime or a date parameter is written, unless the message says otherwise.
DATETIME_FORMAT = "l j F, H:i"
DATE_FORMAT = "l j F"

Text = str | Promise | Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class MessageKind:
    id: str
    title: Text
    body: Text = ""
    example: Mapping[str, Any] = field(default_factory=dict)
    formats: Mapping[str, str] = field(default_factory=dict)
    derive: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def shown(self, name: str, value: Any) -> str:
        """One parameter as the reader sees it, in the active language."""
        if isinstance(value, dt.datetime):
            return formats.date_format(
                timezone.localtime(value, AMSTERDAM), self.formats.get(name, DATETIME_FORMAT)
            )
        if isinstance(value, dt.date):
            return formats.date_format(value, self.formats.get(name, DATE_FORMAT))
        return str(value)


REGISTRY: dict[str, MessageKind] = {}


def register_message(
    message_id: str,
    *,
    title: Text,
    body: Text = "",
    example: Mapping[str, Any] | None = None,
    formats: Mapping[str, str] | None = None,
    derive: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> MessageKind:
    """Register a message kind (from a feature's ``notification_messages`` module).

    ``derive`` adds parameters worked out from the stored ones when rendered, in the
    reader's language (a round's name: its title, or its kind's label)."""
    kind = MessageKind(message_id, title, body, dict(example or {}), dict(formats or {}), derive)
    if message_id in REGISTRY and REGISTRY[message_id] != kind:
        raise ValueError(f"Notification message {message_id!r} is registered twice")
    REGISTRY[message_id] = kind
    return kind


def encode_params(message_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as stored (JSON); refuses an unknown message or a missing parameter."""
    kind = REGISTRY.get(message_id)
    if kind is None:
        raise ValueError(f"Unknown notification message {message_id!r}")
    missing = set(kind.example) - set(params)
    if missing:
        raise ValueError(f"Notification message {message_id!r} misses {sorted(missing)}")
    stored: dict[str, Any] = {}
    for name, value in params.items():
        example = kind.example.get(name)
        if isinstance(example, dt.date) and value is not None and type(value) is not type(example):
            raise TypeError(f"Parameter {name!r} of {message_id!r} must be a {type(example).__name__}")
        if isinstance(value, dt.datetime):
            if timezone.is_naive(value):
                raise ValueError(f"Parameter {name!r} of {message_id!r} is a naive datetime")
            value = value.astimezone(dt.UTC).isoformat()
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, Promise):
            raise TypeError(f"Parameter {name!r} of {message_id!r} is a translation: give its key instead")
        elif isinstance(value, (list, tuple)):
            # Rows of plain values (dates as ISO strings): the message function reads them.
            value = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        stored[name] = value
    return stored


def _decoded(kind: MessageKind, params: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(params)
    for name, example in kind.example.items():
        value = values.get(name)
        if not isinstance(value, str):
            continue
        if isinstance(example, dt.datetime):
            values[name] = parse_datetime(value) or value
        elif isinstance(example, dt.date):
            values[name] = parse_date(value) or value
    if kind.derive is not None:
        values.update(kind.derive(values))
    return values


def _fill(kind: MessageKind, text: Text, values: dict[str, Any]) -> str:
    if callable(text) and not isinstance(text, Promise):
        return text(values)
    text = str(text)
    if "%(" not in text:
        return text
    return text % {name: kind.shown(name, value) for name, value in values.items()}


def render(message_id: str, params: Mapping[str, Any], *, strict: bool = False) -> tuple[str, str] | None:
    """(title, body) in the active language; None for a message that is not (or no longer)
    registered or whose stored parameters do not fit it: the caller shows the stored text.
    ``strict`` raises instead (``notify``: a message that cannot be rendered is a bug)."""
    kind = REGISTRY.get(message_id)
    if kind is None:
        if strict:
            raise ValueError(f"Unknown notification message {message_id!r}")
        return None
    try:
        values = _decoded(kind, params)
        return _fill(kind, kind.title, values), _fill(kind, kind.body, values)
    except (KeyError, TypeError, ValueError):
        if strict:
            raise
        return None


def when(value: dt.datetime, fmt: str = DATETIME_FORMAT) -> str:
    """A moment for a message function: on the school's clock, in the active language."""
    return formats.date_format(timezone.localtime(value, AMSTERDAM), fmt)


def day(value: dt.date, fmt: str = DATE_FORMAT) -> str:
    """A day for a message function, in the active language."""
    return formats.date_format(value, fmt)
