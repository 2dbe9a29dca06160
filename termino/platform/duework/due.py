"""The port through which a business's apps tell the platform when their periodic work is due.

A kind of work registers once, in its app's `ready()`:

    due.register("notifications.outbox", run=send_due_here, next_due=outbox_next_due)

- `run()` does the work in the business's schema (the worker has switched to it);
- `next_due()` reads, in that schema, when the work is due next (None: nothing pending).

Every write that creates due work says so with one call, in its transaction:

    due.mark("notifications.outbox", message.due_at)

The mark is written when the transaction commits (nothing is marked for work that rolled back) as one
`INSERT … ON CONFLICT DO UPDATE SET due_at = LEAST(due_at, new)`: concurrent marks and runs serialise on
the row and the earliest time always wins. A mark lost to a crash between the commit and that statement is
found again by the hourly sweep, which asks every business's `next_due()` (docs/scaling.md, "Due work").
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

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
    # robust: the commit has happened; a failing mark must not turn the request into an error (the sweep
    # finds the work again).
    transaction.on_commit(partial(upsert, schema=schema, kind=name, at=at), robust=True)


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


def upsert(*, schema: str, kind: str, at: datetime, claimed: int | None = None) -> None:
    """One statement, whatever schema the connection is in (the tables are named with `public`)."""
    sql = UPSERT.format(public=settings.PUBLIC_SCHEMA_NAME, **_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"kind": kind, "at": at, "schema": schema, "claimed": claimed})
