"""Reads one request repeats, made once per request.

A booking reads the business's settings in its view, its service and its team notice, the webhook endpoints
for its customer and its appointment event, and the primary domain for its two links: the same rows, a few
milliseconds each. Inside a request (`RequestMemoMiddleware`) `remembered()` keeps what the first read
loaded; outside one (tasks, shell, tests calling services) every call reads again.

The memo lives for one request, so a change another process commits is seen by the next request, as with
any read made at the start of this one. A change this request makes through the ORM (`post_save`,
`post_delete`: `forget_on_change`) ends the memo of that read for the rest of the request, so a write that
is later rolled back is never remembered either.
"""

import copy
from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

from django.db import connection
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")
_memo: ContextVar[dict | None] = ContextVar("request_memo", default=None)
_DIRTY = object()  # written in this request: read from the database from now on
_MISSING = object()


def remembered(key: str, load: Callable[[], T]) -> T:
    """`load()`, once per request and schema; a model instance or a list comes back as a copy each time, so
    a caller that changes it in memory does not change it for the others."""
    memo = _memo.get()
    if memo is None:
        return load()
    slot = (connection.schema_name, key)
    value = memo.get(slot, _MISSING)
    # Written in this request, in whatever schema: "tenancy.primary_domain:7" once any primary domain was.
    if value is _DIRTY or memo.get((None, key.partition(":")[0])) is _DIRTY:
        return load()
    if value is _MISSING:
        value = memo[slot] = load()
    if isinstance(value, list):
        return list(value)
    return copy.copy(value) if hasattr(value, "_state") else value


def forget(key: str) -> None:
    """No more memo of `key` (and of `key:<anything>`) in this request, in any schema."""
    memo = _memo.get()
    if memo is None:
        return
    memo[(None, key)] = _DIRTY  # also for reads not made yet, in any schema
    for slot in list(memo):
        if slot[0] is not None and (slot[1] == key or slot[1].startswith(f"{key}:")):
            memo[slot] = _DIRTY


def forget_on_change(key: str, *models) -> None:
    """Writes to `models` through the ORM end the memo of `key` for the rest of the request."""
    for model in models:
        for signal in (post_save, post_delete):
            signal.connect(
                lambda **_kwargs: forget(key), sender=model, weak=False, dispatch_uid=f"memo:{key}:{model}"
            )


class RequestMemoMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _memo.set({})
        try:
            return self.get_response(request)
        finally:
            _memo.reset(token)
