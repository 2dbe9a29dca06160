"""Import: an archive checked, then loaded as a new business in one transaction."""

import hashlib
import json
import os
import secrets
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction

from termino.platform.billing.models import (
    BillingAccount,
    ConnectAccount,
    Plan,
    SmsPackPurchase,
    StatusChange,
    StripeEvent,
)
from termino.platform.staffadmin.models import SmsLock

from ..models import Domain, Tenant, TenantStatus
from ..services import (
    business_host,
    schema_name_for,
    schema_pool_refill_soon,
    spare_lock,
    spare_schema_create,
)
from ..validators import validate_slug
from .common import (
    CHUNK,
    CLAIM_ATTEMPTS,
    FORMAT,
    MANIFEST,
    MANIFEST_KEYS,
    PUBLIC,
    Progress,
    TransferError,
    _copy_settings,
    _create,
    _q,
    _quiet,
    _termino_version,
    _values,
    applied_migrations,
    schema_sequences,
    schema_tables,
)


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
    """The business's plan here; TransferError when a Stripe id it brings belongs to another business here."""
    account = public["billing_account"]
    plan = None
    if account is not None:
        plan = Plan.objects.filter(code=account["plan"]).first()
        if plan is None:
            raise TransferError(f"the business's plan {account['plan']!r} does not exist here")
        for column in ("stripe_customer_id", "stripe_subscription_id"):
            value = account.get(column)
            holder = BillingAccount.objects.filter(**{column: value}).first() if value else None
            if holder is not None:
                raise TransferError(f"the Stripe id {value} already belongs to business {holder.tenant} here")
    connect = public.get("connect_account")  # files made before it travelled have none
    if connect is not None:
        holder = ConnectAccount.objects.filter(stripe_account_id=connect["stripe_account_id"]).first()
        if holder is not None:
            raise TransferError(
                f"the Stripe account {connect['stripe_account_id']} already belongs to business "
                f"{holder.tenant} here"
            )
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
    """Domains, billing account and history, SMS lock, connected Stripe account. Returns how many Stripe
    records were here already."""
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
    if public.get("connect_account") is not None:
        _create(ConnectAccount, public["connect_account"], tenant=tenant)
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
