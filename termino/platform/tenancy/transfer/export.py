"""Export: one business, read in one snapshot, written to one archive."""

import hashlib
import json
import os
import secrets
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection, transaction

from termino.platform.billing.models import (
    BillingAccount,
    ConnectAccount,
    SmsPackPurchase,
    StatusChange,
    StripeEvent,
)
from termino.platform.staffadmin.models import SmsLock

from ..models import POOL_STATUSES, Domain, Tenant
from .common import (
    CHUNK,
    FORMAT,
    MANIFEST,
    NOT_CARRIED,
    PUBLIC,
    REDACTED,
    Progress,
    TransferError,
    _copy_settings,
    _dump,
    _q,
    _quiet,
    _size,
    _termino_version,
    applied_migrations,
    schema_sequences,
    schema_tables,
)


def _public_rows(tenant: Tenant) -> dict:
    account = BillingAccount.objects.filter(tenant=tenant).select_related("plan").first()
    lock = SmsLock.objects.filter(tenant=tenant).first()
    connect = ConnectAccount.objects.filter(tenant=tenant).first()
    return {
        "tenant": _dump(tenant, exclude=("id",)),
        "domains": [
            _dump(d, exclude=("id", "tenant_id"))
            for d in Domain.objects.filter(tenant=tenant).order_by("-is_primary", "domain")
        ],
        "billing_account": None
        if account is None
        else {**_dump(account, exclude=("id", "tenant_id", "plan_id")), "plan": account.plan.code},
        "sms_pack_purchases": [
            _dump(p, exclude=("id", "account_id"))
            for p in SmsPackPurchase.objects.filter(account=account).order_by("created_at", "pk")
        ]
        if account
        else [],
        "status_changes": [
            _dump(s, exclude=("id", "tenant_id"))
            for s in StatusChange.objects.filter(tenant=tenant).order_by("created_at", "pk")
        ],
        "stripe_events": [
            _dump(e, exclude=("id", "tenant_id"))
            for e in StripeEvent.objects.filter(tenant=tenant).order_by("received_at", "pk")
        ],
        # Who locked it is a staff user of the source platform: the lock travels, the name does not.
        "sms_lock": None if lock is None else _dump(lock, exclude=("id", "tenant_id", "locked_by_id")),
        # The business's own Stripe account (deposits): its customers' payments keep reaching it.
        "connect_account": None if connect is None else _dump(connect, exclude=("id", "tenant_id")),
    }


# --- Export ----------------------------------------------------------------------------------------------


@dataclass
class ExportResult:
    path: Path
    schema: str
    tables: int
    rows: int
    data_bytes: int
    file_bytes: int
    media_files: int
    seconds: float


def _business(name: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=name).first() or Tenant.objects.filter(schema_name=name).first()
    if tenant is None:
        raise TransferError(f"no business with the address {name!r} in this database")
    if tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        raise TransferError("the platform's own schema is not a business and cannot be moved")
    if tenant.status in POOL_STATUSES:
        raise TransferError(
            f"{tenant.schema_name} is a {tenant.status} schema of the pool, not a business: nothing to move"
        )
    return tenant


@contextmanager
def _snapshot():
    """One REPEATABLE READ, READ ONLY transaction: every read sees the database as of its first query.

    Set on the psycopg connection so that its own BEGIN carries the mode, whatever statement (a
    `SET search_path`, say) happens to come first.
    """
    if connection.in_atomic_block:
        raise TransferError("an export needs its own transaction; do not run it inside another")
    connection.set_schema_to_public()
    connection.ensure_connection()
    raw = connection.connection
    before = (raw.isolation_level, raw.read_only)
    raw.isolation_level, raw.read_only = psycopg.IsolationLevel.REPEATABLE_READ, True
    try:
        with transaction.atomic():
            yield
    finally:
        if connection.connection is raw and not raw.closed:
            raw.isolation_level, raw.read_only = before


def _write_member(archive: zipfile.ZipFile, name: str, chunks) -> tuple[str, int, int]:
    """Stream `chunks` into the archive member `name`: (sha256, bytes, lines)."""
    digest, size, lines = hashlib.sha256(), 0, 0
    buffer = bytearray()
    with archive.open(name, "w", force_zip64=True) as out:
        for chunk in chunks:
            buffer += chunk
            if len(buffer) >= CHUNK:
                digest.update(buffer)
                size, lines = size + len(buffer), lines + buffer.count(b"\n")
                out.write(buffer)
                buffer.clear()
        digest.update(buffer)
        size, lines = size + len(buffer), lines + buffer.count(b"\n")
        out.write(buffer)
    return digest.hexdigest(), size, lines


def _file_chunks(path: Path):
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


def tenant_export(
    *,
    slug: str,
    path,
    force: bool = False,
    media_root=None,
    progress: Progress | None = None,
    redact_logins: bool = False,
) -> ExportResult:
    """Write the business `slug` (address or schema name) to the file `path`. Raises TransferError.

    `redact_logins`: no login secrets in the file (REDACTED): password hashes become unusable ("!"), API
    tokens and sessions are left out. Such a file restores a business in place (logins stay as they are
    there) and may be handed to its owner; imported as a new business, its people set new passwords.
    """
    say = progress or _quiet
    started = time.monotonic()
    path = Path(path)
    tenant = _business(slug)
    if path.exists() and not force:
        raise TransferError(f"{path} exists; pass --force to overwrite it")
    if not path.parent.is_dir():
        raise TransferError(f"the directory {path.parent} does not exist")
    media = Path(media_root or settings.MEDIA_ROOT) / tenant.schema_name
    # Written under a temporary name and renamed at the end: a failed export leaves no half file.
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        # Readable by its owner only: the file holds password hashes and API tokens, like a backup.
        raw = os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
        with raw, _snapshot(), zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
            manifest = _export_into(archive, _business(slug), media, say, redact_logins=redact_logins)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    tables = manifest["tables"]
    return ExportResult(
        path=path,
        schema=tenant.schema_name,
        tables=len(tables),
        rows=sum(t["rows"] for t in tables),
        data_bytes=sum(t["bytes"] for t in tables),
        file_bytes=path.stat().st_size,
        media_files=len(manifest["media"]),
        seconds=time.monotonic() - started,
    )


def _select_for_copy(schema: str, table: str, columns, redact: bool) -> str:
    """What COPY reads for `table`: the table itself, or with login secrets left out (REDACTED)."""
    column_list = ", ".join(_q(c) for c, _kind in columns)
    rule = REDACTED.get(table) if redact else None
    if rule is None:
        return f"{_q(schema, table)} ({column_list})"
    if rule == "rows":
        return f"(SELECT {column_list} FROM {_q(schema, table)} WHERE false)"
    parts = [f"'!'::{kind} AS {_q(c)}" if c == rule else _q(c) for c, kind in columns]
    return f"(SELECT {', '.join(parts)} FROM {_q(schema, table)})"


def _export_into(
    archive: zipfile.ZipFile, tenant: Tenant, media: Path, say: Progress, *, redact_logins: bool = False
) -> dict:
    schema = tenant.schema_name
    say(f"Exporting {tenant.slug} ({schema}) from database {connection.settings_dict['NAME']}")
    public = json.dumps(_public_rows(tenant), ensure_ascii=False, indent=1).encode()
    archive.writestr(PUBLIC, public)
    manifest = {
        "format": FORMAT,
        "termino_version": _termino_version(),
        "created_at": datetime.now(UTC).isoformat(),
        "source": {
            "slug": tenant.slug,
            "schema": schema,
            "name": tenant.name,
            "base_domain": settings.BASE_DOMAIN,
            "database": connection.settings_dict["NAME"],
            "postgres": connection.pg_version,
        },
        "migrations": sorted([app, name] for app, name in applied_migrations(schema)),
        "public": {"sha256": hashlib.sha256(public).hexdigest(), "bytes": len(public)},
        "tables": [],
        "sequences": [],
        "media": [],
        "not_carried": NOT_CARRIED,
        "redacted": sorted(REDACTED) if redact_logins else [],
    }
    with connection.cursor() as cursor:
        _copy_settings(cursor)
        for table, columns in sorted(schema_tables(schema).items()):
            began = time.monotonic()
            source = _select_for_copy(schema, table, columns, redact_logins)
            with cursor.copy(f"COPY {source} TO STDOUT") as copy:
                sha, size, rows = _write_member(archive, f"tables/{table}.copy", (bytes(c) for c in copy))
            manifest["tables"].append(
                {
                    "name": table,
                    "columns": [list(c) for c in columns],
                    "rows": rows,
                    "bytes": size,
                    "sha256": sha,
                }
            )
            say(f"  {table:<40} {rows:>9} rows {_size(size):>10}  {time.monotonic() - began:.2f} s")
        for sequence, table, column in schema_sequences(schema):
            cursor.execute(f"SELECT last_value, is_called FROM {_q(schema, sequence)}")
            last_value, is_called = cursor.fetchone()
            manifest["sequences"].append(
                {"table": table, "column": column, "last_value": last_value, "is_called": is_called}
            )
    if media.is_dir():
        for file in sorted(media.rglob("*")):
            if file.is_file() and not file.is_symlink():
                relative = file.relative_to(media).as_posix()
                sha, size, _lines = _write_member(archive, f"media/{relative}", _file_chunks(file))
                manifest["media"].append({"path": relative, "bytes": size, "sha256": sha})
        say(f"  media: {len(manifest['media'])} file(s) from {media}")
    archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


# --- Import ----------------------------------------------------------------------------------------------
