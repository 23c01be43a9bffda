"""What one page has read already: a memo that lives for one block of one request.

A parent's home shows six cards, and each asks the access rules which children the parent acts
for, which rounds of conversations are coming, what the school's calendar is. Inside
:func:`request_memo` each such read is made once and shared by the cards; outside it (services,
tasks, tests that change the data between two reads) every call reads the database, as always.
Nothing outlives the block, so the next request reads everything again. Only reads of a page
run inside one: a write inside the block would not be seen by the reads already memoised.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("klimop_request_memo", default=None)


@contextlib.contextmanager
def request_memo() -> Iterator[None]:
    """Share reads within this block (one page's rendering); a nested block shares the outer one."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def active() -> bool:
    """Whether this code runs inside a :func:`request_memo` block."""
    return _memo.get() is not None


def memoised(key: Hashable, read: Callable[[], T]) -> T:
    """``read()``, made once per key inside a :func:`request_memo` block (every time outside)."""
    memo = _memo.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]
