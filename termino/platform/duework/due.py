"""The port through which a business's apps tell the platform when their periodic work is due.

A kind of work registers once, in its app's `ready()`:

    due.register("notifications.outbox", run=send_due_here, next_due=outbox_next_due)

- `run()` does the work in the business's schema (the worker has switched to it);
- `next_due()` reads, in that schema, when the work is due next (None: nothing pending).

Every write that creates due work says so with one call, in its transaction:

    due.mark("notifications.outbox", message.due_at)

The marks of one transaction are written when it commits (nothing is marked for work that rolled back),
together, as one `INSERT … ON CONFLICT DO UPDATE SET due_at = LEAST(due_at, new)` per business with the
earliest time of each kind: concurrent marks and runs serialise on the rows and the earliest time always
wins. (A booking marks five times: a confirmation, two reminders, the team's notice, the day's end.)
A mark lost to a crash between the commit and that statement is found again by the hourly sweep, which
asks every business's `next_due()` (docs/scaling.md, "Due work").
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

from .models import DueWork

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    name: str
    run: Callable[[], object]
    next_due: Callable[[], datetime | None]


_kinds: dict[str, Kind] = {}


def register(name: str, *, run: Callable[[], object], next_due: Callable[[], datetime | None]) -> None:
    """Make `name` a kind of due work (once per process, from an app's `ready()`)."""
    if name in _kinds and _kinds[name] != Kind(name, run, next_due):
        raise ValueError(f"due work {name!r} is registered twice")
    _kinds[name] = Kind(name, run, next_due)


def kinds() -> dict[str, Kind]:
    return dict(_kinds)


def mark(name: str, at: datetime) -> None:
    """Work of kind `name` is due in the current business at `at`; recorded once the transaction commits."""
    if name not in _kinds:
        raise ValueError(f"{name!r} is not a registered kind of due work")
    schema = connection.schema_name
    if not schema or schema == settings.PUBLIC_SCHEMA_NAME:
        raise ValueError("due work belongs to a business: mark it inside the business's schema")
    batch = _open_batch() if connection.in_atomic_block else None
    if batch is None:
        batch = _Marks()
    batch.add(schema, name, at)
    # Each mark registers the batch's write (a savepoint rolled back drops only its own marks' callbacks);
    # the first to run writes them all, the others find nothing left. robust: the commit has happened; a
    # failing write must not turn the request into an error (the sweep finds the work again).
    transaction.on_commit(batch.write, robust=True)


class _Marks:
    """The marks of one transaction, written on commit: per business, one statement for all its kinds."""

    def __init__(self):
        self.earliest: dict[tuple[str, str], datetime] = {}
        self.written = False

    def add(self, schema: str, kind: str, at: datetime) -> None:
        known = self.earliest.get((schema, kind))
        self.earliest[schema, kind] = at if known is None else min(known, at)

    def write(self) -> None:
        if self.written:
            return
        self.written = True
        for schema in sorted({schema for schema, _kind in self.earliest}):
            # Kinds in a fixed order: two transactions' statements lock their rows in the same order.
            marks = sorted((kind, at) for (name, kind), at in self.earliest.items() if name == schema)
            upsert_many(schema=schema, marks=marks)


def waiting() -> dict[tuple[str, str], datetime]:
    """The marks the current transaction writes when it commits: {(schema, kind): earliest time}."""
    batch = _open_batch()
    return dict(batch.earliest) if batch is not None else {}


def _open_batch() -> _Marks | None:
    """The batch one of whose writes still waits for this transaction's commit. A batch whose callbacks a
    rolled-back savepoint has all dropped is not found: a mark after that starts a new one. A batch that
    also holds a mark from a savepoint rolled back since writes its time too: that only brings a visit
    forward, whose run finds nothing due and records the true next time."""
    for _savepoints, callback, _robust in connection.run_on_commit:
        batch = getattr(callback, "__self__", None)
        if isinstance(batch, _Marks) and not batch.written:
            return batch
    return None


_TABLES = {
    "due": DueWork._meta.db_table,
    "tenant": DueWork._meta.get_field("tenant").related_model._meta.db_table,
}

# `claimed`: the version a run was handed. The run's own next due time replaces the row's only while no
# mark or other claim came in since (same version); otherwise the earlier of both stays.
UPSERT = """
INSERT INTO {public}.{due} AS d (tenant_id, kind, due_at, version)
SELECT t.id, %(kind)s::varchar, %(at)s::timestamptz, 1
FROM {public}.{tenant} AS t WHERE t.schema_name = %(schema)s
ON CONFLICT (tenant_id, kind) DO UPDATE SET
    due_at = CASE WHEN d.version = %(claimed)s::bigint THEN EXCLUDED.due_at
                  ELSE LEAST(d.due_at, EXCLUDED.due_at) END,
    version = d.version + 1
"""


UPSERT_MANY = """
INSERT INTO {public}.{due} AS d (tenant_id, kind, due_at, version)
SELECT t.id, m.kind, m.at, 1
FROM {public}.{tenant} AS t, unnest(%(kinds)s::varchar[], %(ats)s::timestamptz[]) AS m(kind, at)
WHERE t.schema_name = %(schema)s
ON CONFLICT (tenant_id, kind) DO UPDATE SET due_at = LEAST(d.due_at, EXCLUDED.due_at), version = d.version + 1
"""


def upsert_many(*, schema: str, marks: list[tuple[str, datetime]]) -> None:
    """Marks of several kinds (each kind once) in one statement."""
    sql = UPSERT_MANY.format(public=settings.PUBLIC_SCHEMA_NAME, **_TABLES)
    kinds, ats = zip(*marks, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"schema": schema, "kinds": list(kinds), "ats": list(ats)})


def upsert(*, schema: str, kind: str, at: datetime, claimed: int | None = None) -> None:
    """One statement, whatever schema the connection is in (the tables are named with `public`)."""
    sql = UPSERT.format(public=settings.PUBLIC_SCHEMA_NAME, **_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"kind": kind, "at": at, "schema": schema, "claimed": claimed})
