"""Beat's dispatcher over the due index, the runs it starts, and the hourly sweep that repairs the index.

- `due_dispatch` (beat, every 30 s): claims the rows whose time has come — one index range scan, in
  batches, `FOR UPDATE SKIP LOCKED` so two dispatchers never claim the same row — pushes each claimed row
  `DUE_LEASE_SECONDS` ahead and bumps its version, and queues one `duework.run` per claimed business and
  kind. A row whose run never happens (lost task, crashed worker) is due again when the lease ends.
- `due_run` (a worker, in the business's schema): the kind's `run()`, then its `next_due()`, written back
  by `finish`: replaced only if nothing marked the row since the claim, else the earlier time stays.
- `due_repair` (the hourly sweep, one task per live business): writes every kind's `next_due()` with
  LEAST, so work whose mark was lost (a crash between commit and mark) is dispatched within 30 s after.
"""

import logging
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from termino.platform.tenancy.models import CLOSED_STATUSES, POOL_STATUSES

from . import due

logger = logging.getLogger(__name__)

CLAIM_BATCH = 1000
NOT_LIVE = {*POOL_STATUSES, *CLOSED_STATUSES}

CLAIM = """
WITH ready AS (
    SELECT id FROM {public}.{due} WHERE due_at <= %(now)s ORDER BY due_at LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE {public}.{due} AS d SET due_at = %(until)s, version = d.version + 1
FROM ready, {public}.{tenant} AS t
WHERE d.id = ready.id AND t.id = d.tenant_id
RETURNING t.schema_name, t.status, d.kind, d.version
"""

FORGET = """
DELETE FROM {public}.{due} AS d USING {public}.{tenant} AS t
WHERE d.tenant_id = t.id AND t.schema_name = %(schema)s AND d.kind = %(kind)s AND d.version = %(claimed)s
"""


def _sql(template: str) -> str:
    return template.format(public=settings.PUBLIC_SCHEMA_NAME, **due._TABLES)


def due_claim(*, now: datetime, limit: int = CLAIM_BATCH) -> list[tuple[str, str, str, int]]:
    """Up to `limit` due rows, leased: (schema, status, kind, version)."""
    # At least a second: a row leased to `now` would be claimed again in the same cycle.
    until = now + timedelta(seconds=max(settings.DUE_LEASE_SECONDS, 1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_sql(CLAIM), {"now": now, "until": until, "limit": limit})
        return cursor.fetchall()


def due_dispatch(*, now: datetime | None = None) -> list[tuple[str, str]]:
    """Queue a run for every business and kind whose time has come; returns the (schema, kind) visited.

    Rows of businesses that are not live (suspended, cancelled) or of kinds no longer registered are only
    leased: they come back after the lease, and a business that comes back to life finds its work waiting.
    """
    now = now or timezone.now()
    kinds = due.kinds()
    visited = []
    while True:
        rows = due_claim(now=now)
        for schema, status, kind, version in rows:
            if status in NOT_LIVE:
                continue
            if kind not in kinds:
                logger.warning("due work of unknown kind %r in %s: not dispatched", kind, schema)
                continue
            current_app.send_task(
                "duework.run", kwargs={"schema_name": schema, "kind": kind, "claimed": version}
            )
            visited.append((schema, kind))
        if len(rows) < CLAIM_BATCH:
            return visited


def finish(*, schema: str, kind: str, claimed: int | None, next_at: datetime | None) -> None:
    """After a run: the row holds `next_at`, or goes when nothing is pending — unless a mark came in since
    the claim, whose time then stays (LEAST)."""
    if next_at is not None:
        due.upsert(schema=schema, kind=kind, at=next_at, claimed=claimed)
    elif claimed is not None:
        with connection.cursor() as cursor:
            cursor.execute(_sql(FORGET), {"schema": schema, "kind": kind, "claimed": claimed})


def due_run(*, kind: str, claimed: int | None) -> object:
    """Run one kind of work in the current business and record when it is due next.

    A run that raises leaves its row leased: it is dispatched again when the lease ends.
    """
    registered = due.kinds().get(kind)
    if registered is None:
        logger.warning("due work of unknown kind %r: nothing run", kind)
        return None
    result = registered.run()
    finish(schema=connection.schema_name, kind=kind, claimed=claimed, next_at=registered.next_due())
    return result


def due_repair() -> dict[str, str | None]:
    """The sweep in one business: every kind's next due time, written with LEAST (a mark lost to a crash
    between commit and mark comes back here)."""
    found = {}
    for name, kind in due.kinds().items():
        at = kind.next_due()
        if at is not None:
            due.upsert(schema=connection.schema_name, kind=name, at=at)
        found[name] = at.isoformat() if at else None
    return found
