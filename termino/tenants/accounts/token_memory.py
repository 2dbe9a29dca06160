"""Each process remembers the API tokens it has seen, so a staff API request does not query its token.

Per business, a dictionary: SHA-256 of a key → the rows of the token and its user, as the statement loaded
them. It is trusted only while the business's auth version in Redis (the default cache, keyed by schema) is
the one the dictionary was filled under; a process re-reads that version at most every
API_TOKEN_LOCAL_SECONDS, per business. Every committed change to a token or a person (revoked, created,
expired ones removed, deactivated, new password, new role, deleted) moves the version, so no process
accepts a revoked token or a deactivated person for longer than that interval. The process that made the
change forgets at once. Without Redis nothing is remembered: each request reads the database, as before.
A token's expiry is checked on every use from the remembered row; so is its user's `is_active`. A change
that sends no signal (a bulk `update()`, raw SQL) is seen once the row is older than
API_TOKEN_MEMORY_SECONDS, when it is read again.
"""

import contextlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models.signals import post_delete, post_save

from termino.shared import cache_version
from termino.shared.db.commit import after_commit_once

KEY = "auth-version"
# Bounds per process: a flood of hosts or of valid keys starts the dictionaries again rather than grow them.
# As many businesses as the routing keeps hosts: a web pod may serve a share of 10,000 and more (hosts
# hashed onto the pods), and a bound below its share would start the dictionary again every few minutes.
MAX_BUSINESSES = 20_000
MAX_TOKENS = 1_000  # per business


class _Business:
    __slots__ = ("checked_at", "rows", "version")

    def __init__(self):
        self.version = None
        self.checked_at = float("-inf")
        self.rows: dict[str, tuple] = {}


_businesses: dict[str, _Business] = {}


def _fresh(schema: str) -> _Business | None:
    """The business's dictionary if it may be used now (re-reading the version when due), else None."""
    memory = _businesses.get(schema)
    now = time.monotonic()
    if memory is not None and now - memory.checked_at < settings.API_TOKEN_LOCAL_SECONDS:
        return memory
    try:
        version = cache_version.read(cache, KEY)
    except Exception:
        version = None
    if version is None:  # Redis away (the degrading cache answers None): trust nothing
        _businesses.pop(schema, None)
        return None
    if memory is None or memory.version != version:
        if len(_businesses) >= MAX_BUSINESSES:
            _businesses.clear()
        memory = _Business()
        memory.version = version
        _businesses[schema] = memory
    memory.checked_at = now
    return memory


def recall(token_hash: str) -> tuple | None:
    """The remembered (token row, user row) of a key's hash in the current business, or None."""
    memory = _fresh(connection.schema_name)
    entry = None if memory is None else memory.rows.get(token_hash)
    if entry is None or time.monotonic() - entry[1] > settings.API_TOKEN_MEMORY_SECONDS:
        return None
    return entry[0]


def remember(token_hash: str, rows: tuple) -> None:
    """Keep a key's rows after a `recall` missed: only if that recall found the business's version."""
    memory = _businesses.get(connection.schema_name)
    if memory is None:
        return  # not trusted (no Redis): nothing is kept
    if len(memory.rows) >= MAX_TOKENS:
        memory.rows = {}
    memory.rows[token_hash] = (rows, time.monotonic())


def used(token_hash: str, last_used_at_index: int, at) -> None:
    """The token was just marked used (by this or another request): remember it, so the next requests of
    the minute do not try to mark it again."""
    memory = _businesses.get(connection.schema_name)
    entry = memory.rows.get(token_hash) if memory is not None else None
    if entry is not None:
        (token_row, user_row), loaded_at = entry
        token_row = (*token_row[:last_used_at_index], at, *token_row[last_used_at_index + 1 :])
        memory.rows[token_hash] = ((token_row, user_row), loaded_at)


def forget() -> None:
    """Move the current business's auth version: every process forgets its tokens (this one at once, the
    others within API_TOKEN_LOCAL_SECONDS). After the commit too, so that a row another request loads in
    between (before the change is visible) is not kept under the new version."""
    schema = connection.schema_name

    def move():
        _businesses.pop(schema, None)
        with contextlib.suppress(Exception):  # Redis away: nothing is trusted until it is back
            cache_version.move(cache, KEY)

    move()
    if connection.in_atomic_block:
        after_commit_once(("token-memory", schema), move)


def forget_all_here() -> None:
    """This process forgets every business's tokens (the suite does it between tests)."""
    _businesses.clear()


def _token_changed(sender, **kwargs):
    forget()


def _user_changed(sender, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a login: nothing a token relies on (the most frequent save of a person)
    forget()


def connect() -> None:
    from .models import ApiToken, User

    post_save.connect(_token_changed, sender=ApiToken, dispatch_uid="token-memory-token-save")
    post_delete.connect(_token_changed, sender=ApiToken, dispatch_uid="token-memory-token-delete")
    post_save.connect(_user_changed, sender=User, dispatch_uid="token-memory-user-save")
    post_delete.connect(_token_changed, sender=User, dispatch_uid="token-memory-user-delete")
