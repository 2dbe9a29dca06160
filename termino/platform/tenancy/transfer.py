"""Move one business to another database server: export it to a file, import the file there.

The file is a ZIP (ZIP64, deflated) holding
  manifest.json          format, Termino version, source, the schema's applied migrations, every table with
                         its columns, row count and the SHA-256 of its data, the id sequences, the media files
  public.json            the business's rows in `public`: tenant, domains, billing account with its SMS
                         pack purchases, status changes and Stripe events, SMS lock
  tables/<table>.copy    each table of the business's schema in PostgreSQL's COPY text format
  media/<path>           its uploaded files (MEDIA_ROOT/<schema>/…)

Everything travels, password hashes, API tokens and link tokens included, so logins and links keep
working. The platform's own records about the business stay where they were: the staff audit log
(append-only, about the source platform's staff), impersonation grants (one-time links of those staff),
the access log and login lockout counters.

Export reads one REPEATABLE READ, READ ONLY snapshot, so the file is consistent even while the business
is in use; what changes after the snapshot is not in it. Import is one transaction: it claims a migrated
spare schema (or migrates one first, committed as an ordinary pool spare), renames it, empties it, loads
every table with COPY, moves the id sequences on, and creates the public rows through the ORM (their
signals keep the routing cache true). Any failure rolls all of that back: no tenant row, no schema.
"""

import hashlib
import json
import os
import secrets
import shutil
import time
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction

from termino.platform.billing.models import BillingAccount, Plan, SmsPackPurchase, StatusChange, StripeEvent
from termino.platform.staffadmin.models import SmsLock

from .models import POOL_STATUSES, Domain, Tenant, TenantStatus
from .services import business_host, schema_name_for, schema_pool_refill_soon, spare_lock, spare_schema_create
from .validators import validate_slug

FORMAT = "termino-tenant-move/1"
MANIFEST = "manifest.json"
PUBLIC = "public.json"
MANIFEST_KEYS = {
    "termino_version",
    "created_at",
    "source",
    "migrations",
    "public",
    "tables",
    "sequences",
    "media",
}
CHUNK = 1 << 20
CLAIM_ATTEMPTS = 3
# Applied migrations travel in the manifest (and are compared), not as rows: the target has its own.
MIGRATIONS_TABLE = "django_migrations"
# Session settings under which COPY's text format reads back the same on any server.
COPY_SETTINGS = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "extra_float_digits": "3",
    "bytea_output": "hex",
}
NOT_CARRIED = [
    "staff audit log (staffadmin.StaffAction): the source platform's record of its staff",
    "impersonation grants: one-time sign-in links of the source platform's staff",
    "access log and login lockout counters: platform records",
]

Progress = Callable[[str], None]


class TransferError(Exception):
    """An export or import refused or failed; the message tells the operator why. Nothing was changed."""


def _quiet(_message: str) -> None:
    pass


def _q(*names: str) -> str:
    return ".".join(connection.ops.quote_name(n) for n in names)


def _termino_version() -> str:
    try:
        return metadata.version("termino")
    except metadata.PackageNotFoundError:
        return "unknown"


def _size(n: int) -> str:
    return f"{n / 1024:.1f} kB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


# --- The schema as the catalog sees it -------------------------------------------------------------------


def schema_tables(schema: str) -> dict[str, list[tuple[str, str]]]:
    """Every table of `schema` but django_migrations → its columns (name, type) in the schema's order.

    Dropped and generated columns are left out: COPY can neither read nor write them. Partitions (should
    there ever be any) are tables of their own here; their partitioned parents hold no rows themselves.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid
               WHERE n.nspname = %s AND c.relkind = 'r'
                 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
               ORDER BY c.relname, a.attnum""",
            [schema],
        )
        tables: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind in cursor.fetchall():
            tables.setdefault(table, []).append((column, kind))
    tables.pop(MIGRATIONS_TABLE, None)
    return tables


def schema_sequences(schema: str) -> list[tuple[str, str, str]]:
    """(sequence, table, column) of every sequence owned by a column of `schema` (serial or identity)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT s.relname, t.relname, a.attname
               FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
               JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
                    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
               JOIN pg_class t ON t.oid = d.refobjid
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
               WHERE n.nspname = %s AND s.relkind = 'S' AND t.relname <> %s
               ORDER BY t.relname, a.attname""",
            [schema, MIGRATIONS_TABLE],
        )
        return cursor.fetchall()


def applied_migrations(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {_q(schema, MIGRATIONS_TABLE)}")
        return {(app, name) for app, name in cursor.fetchall()}


def _copy_settings(cursor) -> None:
    for name, value in COPY_SETTINGS.items():
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


# --- Public rows as JSON ---------------------------------------------------------------------------------


def _dump(obj, *, exclude: tuple[str, ...] = ()) -> dict:
    """A row's concrete fields by column; times, dates and amounts as exact text."""
    row = {}
    for f in obj._meta.concrete_fields:
        if f.attname in exclude:
            continue
        value = f.value_from_object(obj)
        plain = value is None or isinstance(value, str | int | float | bool | dict | list)
        row[f.attname] = value if plain else f.value_to_string(obj)
    return row


def _values(model, row: dict) -> dict:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = sorted(set(row) - set(fields))
    if unknown:
        raise TransferError(f"{model.__name__} here has no field(s) {', '.join(unknown)} the file has")
    return {name: None if value is None else fields[name].to_python(value) for name, value in row.items()}


def _create(model, row: dict, **links):
    """Create through the ORM (signals fire), then put back the times that auto_now(_add) overwrote."""
    values = _values(model, row)
    obj = model.objects.create(**values, **links)
    stamps = {
        f.attname: values[f.attname]
        for f in model._meta.concrete_fields
        if (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)) and f.attname in values
    }
    if stamps:
        model.objects.filter(pk=obj.pk).update(**stamps)
    return obj


def _public_rows(tenant: Tenant) -> dict:
    account = BillingAccount.objects.filter(tenant=tenant).select_related("plan").first()
    lock = SmsLock.objects.filter(tenant=tenant).first()
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
    *, slug: str, path, force: bool = False, media_root=None, progress: Progress | None = None
) -> ExportResult:
    """Write the business `slug` (address or schema name) to the file `path`. Raises TransferError."""
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
            manifest = _export_into(archive, _business(slug), media, say)
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


def _export_into(archive: zipfile.ZipFile, tenant: Tenant, media: Path, say: Progress) -> dict:
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
    }
    with connection.cursor() as cursor:
        _copy_settings(cursor)
        for table, columns in sorted(schema_tables(schema).items()):
            began = time.monotonic()
            column_list = ", ".join(_q(c) for c, _kind in columns)
            with cursor.copy(f"COPY {_q(schema, table)} ({column_list}) TO STDOUT") as copy:
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


@dataclass
class ImportResult:
    tenant: Tenant
    schema: str
    domains: list[str]
    dropped_domains: list[str]
    tables: int
    rows: int
    media_files: int
    skipped_stripe_records: int
    seconds: float
    notes: list[str] = field(default_factory=list)


def _read_manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except KeyError as exc:
        raise TransferError("not a Termino business export: the file has no manifest.json") from exc
    except (ValueError, zipfile.BadZipFile, OSError) as exc:
        raise TransferError(f"the manifest cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise TransferError(f"not a Termino business export of format {FORMAT} (found {found!r})")
    missing = sorted(MANIFEST_KEYS - set(manifest))
    if missing:
        raise TransferError(f"the manifest lacks {', '.join(missing)}")
    return manifest


def _safe_path(relative: str) -> PurePosixPath:
    """A media path from the file, refused unless it stays inside the business's directory."""
    path = PurePosixPath(relative)
    odd = any(part in ("", ".", "..") for part in path.parts)
    if not relative or path.is_absolute() or "\\" in relative or odd:
        raise TransferError(f"the file names a media path outside the business's directory: {relative!r}")
    return path


def _member_check(archive: zipfile.ZipFile, name: str, sha256: str, rows: int | None = None) -> None:
    digest, lines = hashlib.sha256(), 0
    try:
        with archive.open(name) as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                lines += chunk.count(b"\n")
    except KeyError as exc:
        raise TransferError(f"the file lacks {name}, which its manifest lists") from exc
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise TransferError(f"{name} in the file is damaged: {exc}") from exc
    if digest.hexdigest() != sha256:
        raise TransferError(f"checksum mismatch in {name}: the file was changed or damaged after export")
    if rows is not None and lines != rows:
        raise TransferError(f"{name} holds {lines} rows, its manifest says {rows}")


def archive_verify(archive: zipfile.ZipFile, manifest: dict, say: Progress = _quiet) -> None:
    """Every stream of the file against the manifest's SHA-256 (and row count), before anything is touched."""
    _member_check(archive, PUBLIC, manifest["public"]["sha256"])
    for table in manifest["tables"]:
        _member_check(archive, f"tables/{table['name']}.copy", table["sha256"], table["rows"])
    for entry in manifest["media"]:
        _safe_path(entry["path"])
        _member_check(archive, f"media/{entry['path']}", entry["sha256"])
    say(f"Checksums of {len(manifest['tables'])} tables and {len(manifest['media'])} media file(s) verified")


def _migrations_check(applied: set[tuple[str, str]], manifest: dict, where: str) -> None:
    wanted = {(app, name) for app, name in manifest["migrations"]}
    if applied == wanted:
        return

    def names(items):
        listed = [f"{app}.{name}" for app, name in sorted(items)]
        return ", ".join(listed[:5]) + (f" and {len(listed) - 5} more" if len(listed) > 5 else "") or "none"

    raise TransferError(
        f"the file comes from a different Termino version (made by {manifest.get('termino_version')}, "
        f"this is {_termino_version()}): migrations only in the file: {names(wanted - applied)}; "
        f"only in {where}: {names(applied - wanted)}. Migrate both databases to the same code first."
    )


def _tables_check(here: dict[str, list[tuple[str, str]]], manifest: dict, schema: str) -> None:
    wanted = {t["name"]: {tuple(c) for c in t["columns"]} for t in manifest["tables"]}
    if set(here) != set(wanted):
        raise TransferError(
            f"the tables of {schema} here differ from the file's: only in the file "
            f"{sorted(set(wanted) - set(here))}, only here {sorted(set(here) - set(wanted))}"
        )
    for table, columns in wanted.items():
        if set(here[table]) != columns:
            raise TransferError(
                f"the columns of {table} here differ from the file's: only in the file "
                f"{sorted(columns - set(here[table]))}, only here {sorted(set(here[table]) - columns)}"
            )


def _deferrable_check(schema: str) -> None:
    """Tables load in any order because every foreign key is checked at the end (Django makes them
    DEFERRABLE INITIALLY DEFERRED); one that is not would fail on load order, so refuse up front."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c
               JOIN pg_namespace n ON n.oid = c.connamespace
               WHERE n.nspname = %s AND c.contype = 'f' AND NOT c.condeferrable""",
            [schema],
        )
        rigid = cursor.fetchall()
    if rigid:
        raise TransferError(f"foreign keys that cannot be deferred in {schema}: {rigid}")


def _domains_plan(manifest: dict, public: dict, slug: str) -> tuple[list[tuple[str, bool]], list[str]]:
    """The domains to create ((domain, primary), primary first) and the custom domains left behind.

    The business's own subdomain follows its address and this platform's BASE_DOMAIN. Custom domains are
    kept; under a new address (--slug) one taken here is left out, otherwise any taken domain refuses.
    """
    source = manifest["source"]
    renamed = slug != source["slug"]
    own = f"{source['slug']}.{source['base_domain']}"
    planned: list[tuple[str, bool]] = [(business_host(slug), False)]
    for row in public["domains"]:
        if row["domain"] == own:
            planned[0] = (business_host(slug), row["is_primary"])
        else:
            planned.append((row["domain"], row["is_primary"]))
    taken = dict(
        Domain.objects.filter(domain__in=[d for d, _p in planned]).values_list("domain", "tenant__slug")
    )
    subdomain = planned[0][0]
    if subdomain in taken:
        raise TransferError(
            f"the domain {subdomain} is taken here (business {taken[subdomain] or 'platform'}); "
            "import under another address with --slug NEW"
        )
    if taken and not renamed:
        described = ", ".join(f"{d} (business {s})" for d, s in sorted(taken.items()))
        raise TransferError(
            f"domain(s) taken here: {described}; import under another address with --slug NEW"
        )
    kept = [(d, p) for d, p in planned if d not in taken]
    if not any(p for _d, p in kept):
        kept[0] = (subdomain, True)  # the primary was a custom domain left behind: the subdomain takes over
    kept.sort(key=lambda item: not item[1])
    return kept, sorted(taken)


def _address_check(slug: str, renamed: bool) -> None:
    if renamed:
        try:
            validate_slug(slug)
        except ValidationError as exc:
            raise TransferError(f"{slug!r} cannot be an address: {' '.join(exc.messages)}") from exc
    holder = Tenant.objects.filter(slug=slug).first()
    if holder is not None:
        raise TransferError(
            f"the address {slug!r} is taken here by business {holder.name!r} ({holder.schema_name}); "
            "import under another address with --slug NEW"
        )
    schema = schema_name_for(slug)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        if cursor.fetchone():
            raise TransferError(f"a schema named {schema} exists here without a business; remove it first")


def _billing_check(public: dict) -> Plan | None:
    account = public["billing_account"]
    if account is None:
        return None
    plan = Plan.objects.filter(code=account["plan"]).first()
    if plan is None:
        raise TransferError(f"the business's plan {account['plan']!r} does not exist here")
    for column in ("stripe_customer_id", "stripe_subscription_id"):
        value = account.get(column)
        holder = BillingAccount.objects.filter(**{column: value}).first() if value else None
        if holder is not None:
            raise TransferError(f"the Stripe id {value} already belongs to business {holder.tenant} here")
    return plan


def _stage_media(archive: zipfile.ZipFile, manifest: dict, media_root: Path) -> Path | None:
    """Unpack the media files beside their final place; they move in only once the database committed."""
    if not manifest["media"]:
        return None
    staging = media_root / f".tenant-import-{secrets.token_hex(6)}"
    try:
        for entry in manifest["media"]:
            target = staging / _safe_path(entry["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with archive.open(f"media/{entry['path']}") as source, target.open("wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != entry["sha256"]:
                raise TransferError(f"checksum mismatch in media/{entry['path']}")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _place_media(staging: Path | None, target: Path) -> None:
    if staging is None:
        return
    if not target.exists():
        os.replace(staging, target)
        return
    for file in sorted(staging.rglob("*")):  # a directory left by an earlier business of this name
        if file.is_file():
            destination = target / file.relative_to(staging)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(file, destination)
    shutil.rmtree(staging, ignore_errors=True)


def _copy_in(cursor, archive: zipfile.ZipFile, schema: str, table: dict) -> None:
    name = table["name"]
    column_list = ", ".join(_q(c) for c, _kind in table["columns"])
    digest, lines = hashlib.sha256(), 0
    try:
        with (
            archive.open(f"tables/{name}.copy") as stream,
            cursor.copy(f"COPY {_q(schema, name)} ({column_list}) FROM STDIN") as copy,
        ):
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                lines += chunk.count(b"\n")
                copy.write(chunk)
            if digest.hexdigest() != table["sha256"] or lines != table["rows"]:
                raise TransferError(f"table {name} in the file changed while it was being imported")
    except (psycopg.Error, DatabaseError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise TransferError(f"loading table {name} failed, nothing was imported: {exc}") from exc


def _sequences_set(cursor, schema: str, manifest: dict) -> None:
    """Each id sequence continues where the source's stood (never below max(id) + 1): ids are not reused."""
    source = {(s["table"], s["column"]): s for s in manifest["sequences"]}
    for sequence, table, column in schema_sequences(schema):
        cursor.execute(f"SELECT max({_q(column)}) FROM {_q(schema, table)}")
        highest = cursor.fetchone()[0] or 0
        known = source.get((table, column))
        source_next = 1 if known is None else known["last_value"] + (1 if known["is_called"] else 0)
        following = max(source_next, highest + 1)
        cursor.execute(
            "SELECT setval(%s::regclass, %s, %s)",
            [_q(schema, sequence), max(following - 1, 1), following > 1],
        )


def _public_create(tenant: Tenant, public: dict, plan: Plan | None, domains) -> int:
    """Domains, billing account and history, SMS lock. Returns how many Stripe records were here already."""
    # Through the ORM: each Domain's post_save makes the routing cache forget its host on commit.
    for domain, primary in domains:
        Domain.objects.create(domain=domain, tenant=tenant, is_primary=primary)
    # A `trial` save opened a fresh account (billing signal); the business's own replaces it.
    BillingAccount.objects.filter(tenant=tenant).delete()
    # Stripe events and pack purchases are also idempotency records (one per event / Checkout Session): one
    # stored here already keeps guarding against a second delivery and is not doubled.
    skipped = 0
    if public["billing_account"] is not None:
        row = {k: v for k, v in public["billing_account"].items() if k != "plan"}
        account = _create(BillingAccount, row, tenant=tenant, plan=plan)
        for purchase in public["sms_pack_purchases"]:
            if SmsPackPurchase.objects.filter(checkout_session_id=purchase["checkout_session_id"]).exists():
                skipped += 1
                continue
            _create(SmsPackPurchase, purchase, account=account)
    for change in public["status_changes"]:
        _create(StatusChange, change, tenant=tenant)
    for event in public["stripe_events"]:
        if StripeEvent.objects.filter(event_id=event["event_id"]).exists():
            skipped += 1
            continue
        _create(StripeEvent, event, tenant=tenant)
    if public["sms_lock"] is not None:
        _create(SmsLock, public["sms_lock"], tenant=tenant)
    return skipped


def _claim_and_load(archive, manifest: dict, public: dict, *, slug: str, plan, domains, spare_id, say):
    """One transaction: claim a spare, make it the business, load everything. None when no spare was free."""
    with transaction.atomic():
        tenant = spare_lock(spare_id)
        if tenant is None:
            return None
        spare_schema = tenant.schema_name
        _migrations_check(applied_migrations(spare_schema), manifest, f"the schema {spare_schema} here")
        _tables_check(schema_tables(spare_schema), manifest, spare_schema)

        schema = schema_name_for(slug)
        for name, value in _values(Tenant, public["tenant"]).items():
            if name not in ("id", "schema_name", "slug"):
                setattr(tenant, name, value)
        tenant.slug, tenant.schema_name = slug, schema
        try:
            with transaction.atomic():
                tenant.save()
                with connection.cursor() as cursor:
                    cursor.execute(f"ALTER SCHEMA {_q(spare_schema)} RENAME TO {_q(schema)}")
        except IntegrityError as exc:
            raise TransferError(f"the address {slug!r} was taken here meanwhile: {exc}") from exc
        say(f"Claimed spare schema {spare_schema} as {schema}")

        _deferrable_check(schema)
        tables = manifest["tables"]
        with connection.cursor() as cursor:
            _copy_settings(cursor)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            # The spare's own rows (content types, permissions, defaults) give way to the business's.
            cursor.execute("TRUNCATE " + ", ".join(_q(schema, t["name"]) for t in tables))
            for table in tables:
                began = time.monotonic()
                _copy_in(cursor, archive, schema, table)
                say(f"  {table['name']:<40} {table['rows']:>9} rows  {time.monotonic() - began:.2f} s")
            _sequences_set(cursor, schema, manifest)
            try:
                # Foreign keys are checked here, inside the transaction, not at COMMIT.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            except DatabaseError as exc:
                raise TransferError(f"the loaded rows break a foreign key: {exc}") from exc
        try:
            with transaction.atomic():
                skipped = _public_create(tenant, public, plan, domains)
        except IntegrityError as exc:
            raise TransferError(f"the platform rows of the business were refused here: {exc}") from exc
        transaction.on_commit(schema_pool_refill_soon)
    return tenant, skipped


def tenant_import(
    *, path, slug: str | None = None, media_root=None, progress: Progress | None = None
) -> ImportResult:
    """Create the business in the file `path` in this database, all or nothing. Raises TransferError."""
    say = progress or _quiet
    started = time.monotonic()
    if connection.in_atomic_block:
        raise TransferError("an import needs its own transaction; do not run it inside another")
    connection.set_schema_to_public()
    media_root = Path(media_root or settings.MEDIA_ROOT)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise TransferError(f"{path} cannot be read as a business export: {exc}") from exc
    with archive:
        manifest = _read_manifest(archive)
        source = manifest["source"]
        say(
            f"Importing {source['slug']} ({source['schema']}), exported {manifest['created_at']} "
            f"by Termino {manifest['termino_version']} from database {source['database']}"
        )
        archive_verify(archive, manifest, say)
        _migrations_check(applied_migrations(settings.PUBLIC_SCHEMA_NAME), manifest, "this database")
        public = json.loads(archive.read(PUBLIC))
        slug = slug or source["slug"]
        _address_check(slug, renamed=slug != source["slug"])
        domains, dropped = _domains_plan(manifest, public, slug)
        plan = _billing_check(public)

        media_root.mkdir(parents=True, exist_ok=True)
        staging = _stage_media(archive, manifest, media_root)
        try:
            loaded = None
            for _attempt in range(CLAIM_ATTEMPTS):
                spare_id = None
                if not Tenant.objects.filter(status=TenantStatus.SPARE).exists():
                    say("No spare schema is ready: migrating one (slow) …")
                    spare_id = spare_schema_create().pk
                loaded = _claim_and_load(
                    archive,
                    manifest,
                    public,
                    slug=slug,
                    plan=plan,
                    domains=domains,
                    spare_id=spare_id,
                    say=say,
                )
                if loaded is not None:
                    break
            if loaded is None:
                raise TransferError("no spare schema could be claimed; is another import or signup racing?")
        except BaseException:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            raise
    tenant, skipped = loaded
    _place_media(staging, media_root / tenant.schema_name)
    tables = manifest["tables"]
    notes = [f"custom domain {d} is taken here and was left out" for d in dropped]
    if skipped:
        notes.append(
            f"{skipped} Stripe event(s) or SMS pack purchase(s) were recorded here already, not copied"
        )
    return ImportResult(
        tenant=tenant,
        schema=tenant.schema_name,
        domains=[d for d, _p in domains],
        dropped_domains=dropped,
        tables=len(tables),
        rows=sum(t["rows"] for t in tables),
        media_files=len(manifest["media"]),
        skipped_stripe_records=skipped,
        seconds=time.monotonic() - started,
        notes=notes,
    )
