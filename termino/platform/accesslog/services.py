"""Moving the buffered entries into the table (every minute) and deleting old ones (nightly).

The flush renames the buffer to a processing list (atomic: new requests go on filling a fresh buffer),
writes it to the table in batches, each in one INSERT and one transaction, and trims each batch off the
processing list after its commit. A flush that dies half-way resumes from the processing list; at worst
the one batch committed just before the crash is written twice. Parsing user agents happens here, not
in the request (about a millisecond per new user agent string).
"""

import functools
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from ua_parser import parse as parse_user_agent

from . import buffer
from .models import PATH_MAX, REFERRER_MAX, AccessLogEntry
from .recording import primary_language

logger = logging.getLogger(__name__)

FLUSH_LOCK_SECONDS = 300
VISITOR = re.compile(r"^[0-9a-f]{16}$")


@functools.lru_cache(maxsize=4096)
def browser_and_os(user_agent: str) -> tuple[str, str]:
    """("Chrome", "Windows"), ("Mobile Safari", "iOS"), …; "Other" when ua-parser knows neither."""
    if not user_agent:
        return "", ""
    result = parse_user_agent(user_agent)
    browser = result.user_agent.family if result.user_agent else "Other"
    system = result.os.family if result.os else "Other"
    return browser[:50], system[:50]


def _checked(row: AccessLogEntry) -> AccessLogEntry:
    """The table's constraints, checked here: one bad entry must not make a whole batch fail for ever."""
    if not VISITOR.match(row.visitor):
        raise ValueError("visitor is not a pseudonym")
    if not 100 <= row.status <= 599 or not -1440 <= row.utc_offset_minutes <= 1440:
        raise ValueError("status or offset out of range")
    if not row.path.startswith("/"):
        raise ValueError("path is not absolute")
    return row


def _row(raw: bytes) -> AccessLogEntry | None:
    try:
        entry = json.loads(raw)
        browser, system = browser_and_os(str(entry.get("u", "")))
        return _checked(
            AccessLogEntry(
                at=datetime.fromtimestamp(float(entry["t"]), tz=UTC),
                utc_offset_minutes=int(entry["o"]),
                host=str(entry["h"])[:253],
                schema=str(entry["s"])[:63],
                method=str(entry["m"])[:10],
                path=str(entry["p"])[:PATH_MAX] or "/",
                status=int(entry["c"]),
                response_bytes=int(entry["b"]) if entry.get("b") is not None else None,
                referrer=str(entry.get("r", ""))[:REFERRER_MAX],
                browser=browser,
                os=system,
                language=primary_language(str(entry.get("l", ""))),
                visitor=str(entry["v"]),
            )
        )
    except (ValueError, KeyError, TypeError) as exc:
        logger.warning("access log: dropped a malformed entry: %s", exc)
        return None


def access_log_flush(*, batch_size: int = 2000) -> int:
    """Write the buffered entries to the table; returns how many were written. Runs in `public`."""
    connection.set_schema_to_public()
    client = buffer.client()
    lock = client.lock(buffer.FLUSH_LOCK_KEY, timeout=FLUSH_LOCK_SECONDS, blocking=False)
    if not lock.acquire(blocking=False):
        return 0  # the previous flush is still going
    written = 0
    try:
        if not client.exists(buffer.PROCESSING_KEY):
            try:
                client.rename(buffer.BUFFER_KEY, buffer.PROCESSING_KEY)
            except redis.ResponseError:  # no buffer: nothing was requested since the last flush
                return 0
        while True:
            raw = client.lrange(buffer.PROCESSING_KEY, 0, batch_size - 1)
            if not raw:
                break
            rows = [row for row in map(_row, raw) if row is not None]
            with transaction.atomic():
                AccessLogEntry.objects.bulk_create(rows)
            client.ltrim(buffer.PROCESSING_KEY, len(raw), -1)
            written += len(rows)
        client.delete(buffer.PROCESSING_KEY)
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            logger.warning("access log: the flush took longer than its lock (%s s)", FLUSH_LOCK_SECONDS)
    return written


def access_log_prune(
    *, now: datetime | None = None, days: int | None = None, batch_size: int = 10_000
) -> int:
    """Delete entries older than ACCESS_LOG_DAYS, in batches (short transactions); returns how many."""
    connection.set_schema_to_public()
    days = days if days is not None else int(getattr(settings, "ACCESS_LOG_DAYS", 14))
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(AccessLogEntry.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        deleted += AccessLogEntry.objects.filter(pk__in=ids).delete()[0]
