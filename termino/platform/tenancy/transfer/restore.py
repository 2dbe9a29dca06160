"""Restore: one business replaced in place by an export of itself from an earlier time, nothing else touched.

The everyday case is "we deleted our customers this morning": a backup of the database from before is
restored into a scratch server, `tenant_export` writes the business from there, and this puts it back over
the live business (docs/operations.md). Other businesses and the platform's rows are never touched.

What the file brings back: every table of the business's schema as it was in the file, and its uploaded
files that are gone here (none is deleted). What stays as it is now ("live"), because it records what has
happened since and must not be undone or lost:
- the platform rows: address and domains, billing account and Stripe ids, status, SMS lock (`public`);
- the logins (unless `logins="file"`): people, their passwords, permissions, API tokens and sessions; a
  person in the file who no longer exists here comes back deactivated, so what they did still names them;
- the privacy audit trail as it is now (append-only: a restore never rewrites it), the customers' privacy
  requests, the login history and the retention runs: rows of both, the live row winning;
- the message outbox: rows of both, the live row winning, so a message sent since the backup is never sent
  again; a message from the file that is still queued but due before now is skipped ("restored after its
  send time"), not sent late.
Rows kept from now may point at rows the file does not have (a message about an appointment booked after
the backup): such a reference is set to NULL where the column allows it, else the kept row is dropped.

Erasures are re-applied: every customer erased here after the file was made (an `erase` event in the live
audit trail) is erased again if the file brings them back, and the latest restriction of processing is
re-applied too. That is how retention and Art. 17 survive a restore (docs/operations.md).

Id sequences continue above both the file's and the live values, so no id (and no booking link) is ever
handed out twice. Everything happens in one transaction; any failure leaves the business as it was.
"""

import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from ..models import POOL_STATUSES, Tenant
from .common import (
    PUBLIC,
    REDACTED,
    Progress,
    TransferError,
    _copy_settings,
    _q,
    _quiet,
    applied_migrations,
    schema_sequences,
    schema_tables,
)
from .importer import (
    _copy_in,
    _deferrable_check,
    _migrations_check,
    _read_manifest,
    _safe_path,
    _tables_check,
    archive_verify,
)

LOGIN_TABLES = (
    "accounts_user_groups",
    "accounts_user_user_permissions",
    "accounts_apitoken",
    "django_session",
)
# Rows of both, the live row winning (merged by id).
MERGED_TABLES = (
    "accounts_loginevent",
    "privacy_privacyrequest",
    "notifications_outboxmessage",
    "retention_retentionrun",
)
# Live only: the audit trail is append-only and a restore must not bring back rows a retention purge removed.
LIVE_TABLES = ("privacy_personaldataevent",)
OUTBOX = "notifications_outboxmessage"
STALE_REASON = "Restored from a backup after its send time; not sent (it would be late or a duplicate)."
LOCK_TIMEOUT = "15s"


@dataclass
class RestorePlan:
    """What a restore would do, for the confirmation: rows per table now and in the file."""

    tenant: Tenant
    schema: str
    made_at: str
    source_database: str
    redacted: bool
    rows_now: dict[str, int]
    rows_in_file: dict[str, int]

    def changed(self) -> list[tuple[str, int, int]]:
        names = sorted(set(self.rows_now) | set(self.rows_in_file))
        return [
            (n, self.rows_now.get(n, 0), self.rows_in_file.get(n, 0))
            for n in names
            if self.rows_now.get(n, 0) != self.rows_in_file.get(n, 0)
        ]


@dataclass
class RestoreResult:
    tenant: Tenant
    schema: str
    tables: int
    rows: int
    seconds: float
    erasures_reapplied: list[int] = field(default_factory=list)
    restrictions_reapplied: int = 0
    deactivated_users: list[str] = field(default_factory=list)
    stale_messages_skipped: int = 0
    dropped_rows: dict[str, int] = field(default_factory=dict)
    media_added: int = 0
    notes: list[str] = field(default_factory=list)
    safety_export: object = None  # set by backups.services.business_restore


def _business(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first() or Tenant.objects.filter(schema_name=slug).first()
    if tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME or tenant.status in POOL_STATUSES:
        raise TransferError(f"no business with the address {slug!r} in this database")
    return tenant


def _open(path) -> tuple[zipfile.ZipFile, dict]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise TransferError(f"{path} cannot be read as a business export: {exc}") from exc
    try:
        return archive, _read_manifest(archive)
    except BaseException:
        archive.close()
        raise


def _source_check(manifest: dict, tenant: Tenant, *, other_source: bool) -> None:
    source = manifest["source"]
    if source["schema"] != tenant.schema_name and not other_source:
        raise TransferError(
            f"the file holds business {source['slug']} ({source['schema']}), not {tenant.slug} "
            f"({tenant.schema_name}); pass --other-source to restore another business's data into it"
        )


def _row_counts(schema: str, tables) -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {_q(schema, table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def restore_plan(*, path, slug: str, other_source: bool = False) -> RestorePlan:
    """Check the file against the live business and say what would change. Raises TransferError."""
    tenant = _business(slug)
    archive, manifest = _open(path)
    with archive:
        _source_check(manifest, tenant, other_source=other_source)
        schema = tenant.schema_name
        _migrations_check(applied_migrations(schema), manifest, f"the live schema {schema}")
        _tables_check(schema_tables(schema), manifest, schema)
        return RestorePlan(
            tenant=tenant,
            schema=schema,
            made_at=manifest["created_at"],
            source_database=manifest["source"].get("database", ""),
            redacted=bool(manifest.get("redacted")),
            rows_now=_row_counts(schema, [t["name"] for t in manifest["tables"]]),
            rows_in_file={t["name"]: t["rows"] for t in manifest["tables"]},
        )


# --- Rows kept from now ------------------------------------------------------------------------------------


def _copy_out(cursor, schema: str, table: str, columns) -> bytes:
    column_list = ", ".join(_q(c) for c, _kind in columns)
    data = bytearray()
    with cursor.copy(f"COPY {_q(schema, table)} ({column_list}) TO STDOUT") as copy:
        for chunk in copy:
            data += bytes(chunk)
    return bytes(data)


def _copy_back(cursor, schema: str, table: str, columns, data: bytes) -> None:
    if not data:
        return
    column_list = ", ".join(_q(c) for c, _kind in columns)
    with cursor.copy(f"COPY {_q(schema, table)} ({column_list}) FROM STDIN") as copy:
        copy.write(data)


def _ids(cursor, schema: str, table: str) -> list[int]:
    cursor.execute(f"SELECT id FROM {_q(schema, table)}")
    return [row[0] for row in cursor.fetchall()]


def _foreign_keys(cursor, schema: str, table: str) -> list[tuple[str, str, str, bool]]:
    """(column, referenced table, referenced column, nullable) of each single-column FK of `table`."""
    cursor.execute(
        """SELECT a.attname, rt.relname, ra.attname, NOT a.attnotnull
           FROM pg_constraint c
           JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
           JOIN pg_class rt ON rt.oid = c.confrelid
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
           JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
           WHERE n.nspname = %s AND t.relname = %s AND c.contype = 'f' AND cardinality(c.conkey) = 1""",
        [schema, table],
    )
    return cursor.fetchall()


def _detach_dangling(cursor, schema: str, table: str) -> int:
    """References of kept rows to rows the file does not have: NULL where allowed, else the row goes."""
    dropped = 0
    for column, target, target_column, nullable in _foreign_keys(cursor, schema, table):
        here = f"{_q(schema, table)}.{_q(column)}"
        missing = (
            f"{_q(column)} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {_q(schema, target)} r WHERE r.{_q(target_column)} = {here})"
        )
        if nullable:
            cursor.execute(f"UPDATE {_q(schema, table)} SET {_q(column)} = NULL WHERE {missing}")
        else:
            cursor.execute(f"DELETE FROM {_q(schema, table)} WHERE {missing}")
            dropped += cursor.rowcount
    return dropped


def _sequences_after(cursor, schema: str, manifest: dict, live: dict[tuple[str, str], int]) -> None:
    """Each id sequence continues above the file's value, the live value and every id present."""
    source = {(s["table"], s["column"]): s for s in manifest["sequences"]}
    for sequence, table, column in schema_sequences(schema):
        cursor.execute(f"SELECT max({_q(column)}) FROM {_q(schema, table)}")
        highest = cursor.fetchone()[0] or 0
        known = source.get((table, column))
        file_next = 1 if known is None else known["last_value"] + (1 if known["is_called"] else 0)
        following = max(file_next, live.get((table, column), 1), highest + 1)
        cursor.execute(
            "SELECT setval(%s::regclass, %s, %s)",
            [_q(schema, sequence), max(following - 1, 1), following > 1],
        )


def _live_sequences(cursor, schema: str) -> dict[tuple[str, str], int]:
    values = {}
    for sequence, table, column in schema_sequences(schema):
        cursor.execute(f"SELECT last_value, is_called FROM {_q(schema, sequence)}")
        last_value, is_called = cursor.fetchone()
        values[(table, column)] = last_value + (1 if is_called else 0)
    return values


# --- The restore -------------------------------------------------------------------------------------------


def _load(cursor, archive, manifest: dict, schema: str, *, keep_logins: bool, say: Progress) -> dict:
    """Inside the caller's transaction: the file's rows, merged with what stays live. Returns facts."""
    tables = {t["name"]: t for t in manifest["tables"]}
    columns = schema_tables(schema)
    facts: dict = {"dropped": {}, "deactivated": [], "stale": 0}
    _copy_settings(cursor)
    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    # Everything that stays as it is now, read before the tables are emptied (their locks taken first, in
    # the same order TRUNCATE takes them below, so a request in flight finishes before we read).
    cursor.execute("LOCK TABLE " + ", ".join(_q(schema, name) for name in sorted(tables)))
    live_sequences = _live_sequences(cursor, schema)
    keep = [*MERGED_TABLES, *LIVE_TABLES, *(("accounts_user", *LOGIN_TABLES) if keep_logins else ())]
    kept = {name: _copy_out(cursor, schema, name, columns[name]) for name in keep if name in tables}
    live_ids = {name: _ids(cursor, schema, name) for name in (*MERGED_TABLES, "accounts_user")}
    live_users = live_ids["accounts_user"] if keep_logins else []

    cursor.execute("TRUNCATE " + ", ".join(_q(schema, name) for name in sorted(tables)))
    for name in sorted(tables):
        began = time.monotonic()
        _copy_in(cursor, archive, schema, tables[name])
        say(f"  {name:<40} {tables[name]['rows']:>9} rows  {time.monotonic() - began:.2f} s")

    if keep_logins:
        file_users = set(_ids(cursor, schema, "accounts_user"))
        cursor.execute(f"DELETE FROM {_q(schema, 'accounts_user')} WHERE id = ANY(%s)", [live_users])
        _copy_back(cursor, schema, "accounts_user", columns["accounts_user"], kept["accounts_user"])
        gone = sorted(file_users - set(live_users))
        if gone:
            # People of the file who no longer exist here: back, so that what they did names them, but unable
            # to log in (logins are kept as they are now).
            cursor.execute(
                f"UPDATE {_q(schema, 'accounts_user')} SET is_active = false, password = '!' "
                f"WHERE id = ANY(%s) RETURNING username",
                [gone],
            )
            facts["deactivated"] = sorted(row[0] for row in cursor.fetchall())
        for name in LOGIN_TABLES:
            cursor.execute(f"DELETE FROM {_q(schema, name)}")
            _copy_back(cursor, schema, name, columns[name], kept[name])
    else:
        cursor.execute(f"DELETE FROM {_q(schema, 'django_session')}")  # everyone signs in again

    for name in LIVE_TABLES:
        cursor.execute(f"TRUNCATE {_q(schema, name)}")  # no row trigger fires: the trail is replaced whole
        _copy_back(cursor, schema, name, columns[name], kept[name])
    for name in MERGED_TABLES:
        if live_ids[name]:
            cursor.execute(f"DELETE FROM {_q(schema, name)} WHERE id = ANY(%s)", [live_ids[name]])
            _copy_back(cursor, schema, name, columns[name], kept[name])

    for name in (*MERGED_TABLES, *LIVE_TABLES, *(("accounts_user", *LOGIN_TABLES) if keep_logins else ())):
        dropped = _detach_dangling(cursor, schema, name)
        if dropped:
            facts["dropped"][name] = dropped

    # A message only the file has that would still go out although its time has passed: not sent late
    # (a message the live outbox has kept its live state above, so nothing sent since goes out again).
    now = timezone.now()
    cursor.execute(
        f"UPDATE {_q(schema, OUTBOX)} SET status = 'skipped', reason = %s, updated_at = %s "
        "WHERE status IN ('queued', 'sending') AND due_at < %s AND NOT id = ANY(%s)",
        [STALE_REASON, now, now, live_ids[OUTBOX]],
    )
    facts["stale"] = cursor.rowcount
    _sequences_after(cursor, schema, manifest, live_sequences)
    try:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except DatabaseError as exc:
        raise TransferError(f"the restored rows break a foreign key: {exc}") from exc
    return facts


def _made_at(manifest: dict) -> datetime:
    return datetime.fromisoformat(manifest["created_at"])


def _reapply_privacy(schema: str, manifest: dict) -> tuple[list[int], int]:
    """Erasures and restrictions recorded here after the file was made, applied to what it brought back."""
    from termino.tenants.crm.models import Customer
    from termino.tenants.privacy.models import EventAction, PersonalDataEvent
    from termino.tenants.privacy.services import customer_erase

    made_at = _made_at(manifest)
    with schema_context(schema):
        erased = set(
            PersonalDataEvent.objects.filter(action=EventAction.ERASE, customer_id__isnull=False).values_list(
                "customer_id", flat=True
            )
        )
        back = list(Customer.objects.filter(pk__in=erased).order_by("pk"))
        for customer in back:
            customer_erase(customer=customer, actor_label="restore: erasure re-applied")
        latest: dict[int, str] = {}
        for customer_id, action in (
            PersonalDataEvent.objects.filter(
                action__in=[EventAction.RESTRICT, EventAction.UNRESTRICT],
                created_at__gt=made_at,
                customer_id__isnull=False,
            )
            .order_by("created_at", "pk")
            .values_list("customer_id", "action")
        ):
            latest[customer_id] = action
        restricted = 0
        for restrict in (True, False):
            ids = [c for c, a in latest.items() if (a == EventAction.RESTRICT) is restrict]
            restricted += (
                Customer.objects.filter(pk__in=ids)
                .exclude(processing_restricted=restrict)
                .update(processing_restricted=restrict)
            )
    return [c.pk for c in back], restricted


def _add_media(archive: zipfile.ZipFile, manifest: dict, target: Path) -> int:
    """Uploaded files of the file that are gone here come back; none here is deleted or overwritten."""
    added = 0
    for entry in manifest["media"]:
        destination = target / _safe_path(entry["path"])
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.restoring")
        with archive.open(f"media/{entry['path']}") as source, partial.open("wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        partial.replace(destination)
        added += 1
    return added


def _forget_remembered(schema: str) -> None:
    """The rows were copied in, which sends no signals: what processes remember of the business's API tokens
    and people (accounts.token_memory) and its cached availability may no longer hold."""
    from termino.tenants.accounts import token_memory
    from termino.tenants.scheduling import availability_version

    with schema_context(schema):
        token_memory.forget()
        availability_version.bump()


def tenant_replace(
    *,
    path,
    slug: str,
    logins: str = "live",
    other_source: bool = False,
    media_root=None,
    progress: Progress | None = None,
    record: Callable[[dict], None] | None = None,
) -> RestoreResult:
    """Replace the live business `slug` by the file's data, all or nothing (see the module). Raises
    TransferError. `logins`: "live" keeps the logins as they are now, "file" takes them from the file.
    `record(details)` is called inside the restore's transaction (in `public`): the audit entry commits with
    the restore or not at all."""
    say = progress or _quiet
    started = time.monotonic()
    if logins not in ("live", "file"):
        raise TransferError("logins must be 'live' or 'file'")
    if connection.in_atomic_block:
        raise TransferError("a restore needs its own transaction; do not run it inside another")
    connection.set_schema_to_public()
    tenant = _business(slug)
    archive, manifest = _open(path)
    with archive:
        _source_check(manifest, tenant, other_source=other_source)
        if logins == "file" and manifest.get("redacted"):
            raise TransferError(
                f"the file carries no login secrets ({', '.join(sorted(REDACTED))} left out): restore with "
                "the logins as they are now"
            )
        say(f"Restoring {tenant.slug} ({tenant.schema_name}) from an export made {manifest['created_at']}")
        archive_verify(archive, manifest, say)
        json.loads(archive.read(PUBLIC))  # readable (the platform rows stay as they are now)
        schema = tenant.schema_name
        with transaction.atomic():
            locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
            if locked.schema_name != schema:
                raise TransferError("the business changed its address meanwhile; try again")
            _migrations_check(applied_migrations(schema), manifest, f"the live schema {schema}")
            _tables_check(schema_tables(schema), manifest, schema)
            _deferrable_check(schema)
            try:
                with connection.cursor() as cursor:
                    facts = _load(cursor, archive, manifest, schema, keep_logins=logins == "live", say=say)
            except DatabaseError as exc:
                raise TransferError(f"the restore failed, nothing was changed: {exc}") from exc
            erased, restricted = _reapply_privacy(schema, manifest)
            connection.set_schema_to_public()
            if record is not None:
                record(
                    {
                        "file_made_at": manifest["created_at"],
                        "source_database": manifest["source"].get("database", ""),
                        "logins": logins,
                        "rows": sum(t["rows"] for t in manifest["tables"]),
                        "erasures_reapplied": erased,
                        "restrictions_reapplied": restricted,
                        "deactivated_users": facts["deactivated"],
                        "stale_messages_skipped": facts["stale"],
                        "dropped_rows": facts["dropped"],
                    }
                )
        media_added = _add_media(archive, manifest, Path(media_root or settings.MEDIA_ROOT) / schema)
    _forget_remembered(schema)
    tables = manifest["tables"]
    notes = []
    if facts["deactivated"]:
        notes.append(
            f"people of the file who no longer exist here came back deactivated: {facts['deactivated']}"[:500]
        )
    if facts["stale"]:
        notes.append(f"{facts['stale']} queued message(s) of the file were past their time and skipped")
    if erased:
        notes.append(f"{len(erased)} customer(s) erased since the file was made were erased again")
    return RestoreResult(
        tenant=tenant,
        schema=schema,
        tables=len(tables),
        rows=sum(t["rows"] for t in tables),
        seconds=time.monotonic() - started,
        erasures_reapplied=erased,
        restrictions_reapplied=restricted,
        deactivated_users=facts["deactivated"],
        stale_messages_skipped=facts["stale"],
        dropped_rows=facts["dropped"],
        media_added=media_added,
        notes=notes,
    )
