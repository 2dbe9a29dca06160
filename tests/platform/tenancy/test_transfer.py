"""Moving a business between databases: `tenant_export` here, `tenant_import` there.

One business with data in every app is built once (committed) and exported once. It is imported into a
second database on the same server (migrated by `migrate_schemas --shared` in a subprocess, the import
and the checks run as subprocesses against it, as on another server), and back into this database:
after deleting the source, and under a new address. Refusals (taken address, changed file, other
migrations) and a failure half-way through the load must leave the database exactly as it was.
"""

import hashlib
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from termino.platform.billing.models import (
    BillingAccount,
    ConnectAccount,
    SmsPackPurchase,
    StatusChange,
    StripeEvent,
)
from termino.platform.staffadmin.models import SmsLock
from termino.platform.tenancy import services
from termino.platform.tenancy.models import Domain, Tenant, TenantStatus
from termino.platform.tenancy.transfer import TransferError, schema_tables, tenant_export, tenant_import
from termino.tenants.accounts.models import ApiToken
from termino.tenants.crm.models import Customer
from tests.conftest import PASSWORD, Business, provision

from . import transfer_world
from .schema_inspection import user_schemas
from .transfer_probe import probe, sequences, table_digests

PREFIX = "mv-"
LOGO_SHA = hashlib.sha256(transfer_world.LOGO).hexdigest()
NUMBERS: dict[str, str] = {}


# --- The second database ------------------------------------------------------------------------------------


@dataclass
class OtherDatabase:
    """A second database on the same server, reached only through subprocesses (as another server)."""

    name: str
    env: dict
    media_root: Path
    migration: subprocess.Popen

    def ready(self) -> None:
        out, err = self.migration.communicate(timeout=300)
        assert self.migration.returncode == 0, f"migrating {self.name} failed:\n{out}\n{err}"

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args],
            cwd=settings.BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def probe(self, **arguments) -> dict:
        result = self.run("-m", "tests.platform.tenancy.transfer_probe", json.dumps(arguments))
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def other_db(django_db_setup, django_db_blocker, tmp_path_factory):
    name = f"test_transfer_{secrets.token_hex(4)}"
    url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    media_root = tmp_path_factory.mktemp("other-media")
    env = {**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(media_root)}
    env["DJANGO_SETTINGS_MODULE"] = "termino.settings"
    migration = subprocess.Popen(
        [sys.executable, "manage.py", "migrate_schemas", "--shared", "--noinput"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield OtherDatabase(name=name, env=env, media_root=media_root, migration=migration)
    if migration.poll() is None:
        migration.kill()
        migration.wait()
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- The business that moves --------------------------------------------------------------------------------


@dataclass
class Moved:
    business: Business
    facts: transfer_world.Facts
    path: Path
    output: str
    digests: dict
    sequences: dict

    @property
    def slug(self) -> str:
        return self.business.tenant.slug

    @property
    def schema(self) -> str:
        return self.business.schema

    def manifest(self) -> dict:
        with zipfile.ZipFile(self.path) as archive:
            return json.loads(archive.read("manifest.json"))


@pytest.fixture(scope="module")
def moved(other_db, django_db_setup, django_db_blocker, tmp_path_factory):
    """Built and exported while the second database migrates (other_db is set up first for that)."""
    with django_db_blocker.unblock():
        services.schema_pool_fill(size=3)
        business = provision(f"{PREFIX}{secrets.token_hex(3)}", company_name="Umzug Salon")
        try:
            facts = transfer_world.build(business)
            path = tmp_path_factory.mktemp("export") / "business.zip"
            out = io.StringIO()
            began = time.monotonic()
            call_command("tenant_export", business.tenant.slug, str(path), stdout=out)
            NUMBERS["export"] = f"{time.monotonic() - began:.2f} s, file {path.stat().st_size / 1024:.0f} kB"
            connection.set_schema_to_public()
            yield Moved(
                business=business,
                facts=facts,
                path=path,
                output=out.getvalue(),
                digests=table_digests(business.schema),
                sequences=sequences(business.schema),
            )
        finally:
            connection.set_schema_to_public()
            for tenant in Tenant.objects.filter(slug__startswith=PREFIX):
                services.tenant_delete(tenant=tenant)
            shutil.rmtree(Path(settings.MEDIA_ROOT) / business.schema, ignore_errors=True)
            print("\ntransfer numbers:", json.dumps(NUMBERS, indent=1))


@pytest.fixture
def unblocked(django_db_blocker):
    """Real commits: an import runs its own transaction, as the command does."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


def platform_state() -> dict:
    """Everything an import could leave behind in `public` and the catalog."""
    return {
        "tenants": sorted(Tenant.objects.values_list("schema_name", "status", "slug")),
        "schemas": user_schemas(),
        "domains": sorted(Domain.objects.values_list("domain", flat=True)),
        "accounts": BillingAccount.objects.count(),
        "history": (
            StatusChange.objects.count(),
            StripeEvent.objects.count(),
            SmsPackPurchase.objects.count(),
        ),
        "locks": SmsLock.objects.count(),
        "connected": ConnectAccount.objects.count(),
    }


def rewritten(source: Path, target: Path, *, member: str | None = None, change=None, manifest=None) -> Path:
    """A copy of the export with one member's bytes changed and/or the manifest edited."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        data = {item.filename: old.read(item.filename) for item in old.infolist()}
        if member:
            data[member] = change(data[member])
        parsed = json.loads(data["manifest.json"])
        if manifest:
            manifest(parsed, data)
        data["manifest.json"] = json.dumps(parsed).encode()
        for name, content in data.items():
            new.writestr(name, content)
    return target


def with_public(source: Path, target: Path, edit) -> Path:
    """A copy of the export whose public.json was edited (and its checksum made to match)."""

    def change(data: bytes) -> bytes:
        public = json.loads(data)
        edit(public)
        return json.dumps(public).encode()

    def matching(manifest: dict, data) -> None:
        manifest["public"]["sha256"] = hashlib.sha256(data["public.json"]).hexdigest()

    return rewritten(source, target, member="public.json", change=change, manifest=matching)


def copy_of(moved: Moved, tmp_path: Path) -> Path:
    """The export without its Stripe ids: a second copy of the business may live in the same database as
    the source only when it does not claim the source's Stripe customer or connected account."""

    def blank(public: dict) -> None:
        public["billing_account"].update(
            stripe_customer_id="", stripe_subscription_id="", subscription_status=""
        )
        public["connect_account"] = None

    return with_public(moved.path, tmp_path / "copy.zip", blank)


# --- The file -----------------------------------------------------------------------------------------------


def test_every_foreign_key_of_a_business_schema_is_deferred_and_stays_inside(moved, unblocked):
    """Why tables load in any order: Django makes every FK DEFERRABLE INITIALLY DEFERRED."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.conname, c.condeferrable, c.condeferred, rn.nspname
               FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
               JOIN pg_class r ON r.oid = c.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
               WHERE n.nspname = %s AND c.contype = 'f'""",
            [moved.schema],
        )
        keys = cursor.fetchall()
    assert len(keys) > 20
    assert [k for k in keys if not (k[1] and k[2] and k[3] == moved.schema)] == []


def test_export_holds_every_table_with_secrets_and_the_platform_rows(moved, unblocked):
    manifest = moved.manifest()
    tables = {t["name"]: t for t in manifest["tables"]}
    assert set(tables) == set(schema_tables(moved.schema)) == set(moved.digests)
    assert {name: t["rows"] for name, t in tables.items()} == {n: d[0] for n, d in moved.digests.items()}
    assert tables["crm_customer"]["rows"] == moved.facts.customers
    assert manifest["source"]["schema"] == moved.schema and len(manifest["migrations"]) > 10
    assert [m["path"] for m in manifest["media"]] == [moved.facts.logo_name]
    for table in tables:
        assert f"  {table} " in moved.output  # progress per table
    with zipfile.ZipFile(moved.path) as archive:
        users = archive.read("tables/accounts_user.copy").decode()
        tokens = archive.read("tables/accounts_apitoken.copy").decode()
        public = json.loads(archive.read("public.json"))
    assert "argon2" in users  # password hashes travel, so logins keep working
    assert moved.path.stat().st_mode & 0o077 == 0  # so the file is its owner's alone
    # API tokens travel as their hashes (and keep working, see the probe); the key itself is nowhere.
    assert ApiToken.hash_key(moved.facts.api_token) in tokens and moved.facts.api_token not in tokens
    assert public["tenant"]["slug"] == moved.slug and public["tenant"]["status"] == TenantStatus.ACTIVE
    assert public["billing_account"]["extra_sms_credits"] == 37
    assert {d["domain"] for d in public["domains"]} == {moved.business.host, moved.facts.custom_domain}
    assert len(public["sms_pack_purchases"]) == 1 and len(public["stripe_events"]) == 1
    assert public["status_changes"][-1]["new_status"] == TenantStatus.ACTIVE
    assert public["sms_lock"]["reason"].startswith("too many SMS")
    assert public["connect_account"]["stripe_account_id"].startswith("acct_")
    assert public["connect_account"]["status"] == "enabled" and public["connect_account"]["charges_enabled"]


def test_export_refuses_what_it_cannot_do(moved, unblocked, tmp_path):
    target = tmp_path / "x.zip"
    with pytest.raises(CommandError, match="no business with the address 'no-such-business'"):
        call_command("tenant_export", "no-such-business", str(target))
    spare = Tenant.objects.filter(status=TenantStatus.SPARE).first()
    with pytest.raises(CommandError, match=f"{spare.schema_name} is a spare schema of the pool"):
        call_command("tenant_export", spare.schema_name, str(target))
    target.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="exists; pass --force"):
        call_command("tenant_export", moved.slug, str(target))
    assert target.read_bytes() == b"keep me"
    out = io.StringIO()
    call_command("tenant_export", moved.slug, str(target), "--force", "--quiet", stdout=out)
    assert out.getvalue() == "" and zipfile.is_zipfile(target)
    assert list(tmp_path.iterdir()) == [target]  # no partial file left behind


def test_export_is_one_snapshot(moved, unblocked, tmp_path):
    """A customer committed by someone else while the export runs is in none of its tables."""
    before = moved.digests["crm_customer"][0]
    added = []

    def meanwhile(message: str) -> None:
        if "accounts_invitation" in message and not added:  # exported before crm_customer
            worker = threading.Thread(target=lambda: added.append(_customer_elsewhere(moved.schema)))
            worker.start()
            worker.join()

    tenant_export(slug=moved.slug, path=tmp_path / "snapshot.zip", progress=meanwhile)
    with zipfile.ZipFile(tmp_path / "snapshot.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
    with schema_context(moved.schema):
        assert Customer.objects.count() == before + 1  # it was committed
        Customer.objects.filter(pk=added[0]).delete()
    assert next(t for t in manifest["tables"] if t["name"] == "crm_customer")["rows"] == before


def _customer_elsewhere(schema: str) -> int:
    try:
        with schema_context(schema):
            return Customer.objects.create(last_name="Während des Exports").pk
    finally:
        connection.close()


# --- To another database ------------------------------------------------------------------------------------


def test_move_to_another_database(moved, other_db):
    other_db.ready()
    # Someone asked the new server for this host before the move: "unknown" is cached there (same Redis).
    routing = caches["platform"]
    routing.set(f"host:{moved.business.host}", None, 60)
    assert routing.get(f"host:{moved.business.host}", "forgotten") is None
    began = time.monotonic()
    result = other_db.run("manage.py", "tenant_import", str(moved.path))
    NUMBERS["import into another database (incl. migrating a spare)"] = f"{time.monotonic() - began:.2f} s"
    assert result.returncode == 0, result.stderr + result.stdout
    assert routing.get(f"host:{moved.business.host}", "forgotten") == "forgotten"
    assert "No spare schema is ready: migrating one" in result.stdout
    assert f"Imported {moved.slug} ({moved.schema}, status active)" in result.stdout
    assert "crm_customer" in result.stdout

    seen = other_db.probe(
        schema=moved.schema,
        host=moved.business.host,
        username=moved.facts.owner_username,
        password=PASSWORD,
        api_token=moved.facts.api_token,
        logo=moved.facts.logo_name,
    )
    assert seen["digests"] == moved.digests  # every row of every table, ids included
    assert seen["routed_schema"] == moved.schema  # the stale "unknown host" answer was forgotten
    assert seen["login"] == [302, "/"] and seen["home"] == 200  # the owner's old password works
    assert seen["api"][0] == 200 and seen["api"][1] > 0  # so does the API token
    assert seen["logo"] == [200, LOGO_SHA]  # under MEDIA_ROOT/<schema> of the new server
    assert seen["double_booking"] == "23P01"  # the exclusion constraint still refuses
    # Ids continue where the source stood: after the deleted customer, never reusing its id.
    deleted_id = moved.sequences["crm_customer_id_seq"]
    assert seen["new_customer_id"] == deleted_id + 1
    assert deleted_id > moved.digests["crm_customer"][0]

    again = other_db.run("manage.py", "tenant_import", str(moved.path))
    assert again.returncode != 0
    assert f"the address '{moved.slug}' is taken here" in again.stderr


# --- Back into this database --------------------------------------------------------------------------------


def test_taken_address_or_domain_is_refused_and_nothing_changes(moved, unblocked, tmp_path):
    before = platform_state()
    with pytest.raises(
        TransferError, match=f"the address '{moved.slug}' is taken here by business 'Umzug Salon'"
    ):
        tenant_import(path=moved.path)

    def other_address(manifest: dict, _data) -> None:
        manifest["source"]["slug"] = f"{PREFIX}free"  # its custom domains are still the source's here

    renamed = rewritten(moved.path, tmp_path / "renamed.zip", manifest=other_address)
    with pytest.raises(
        TransferError, match=re.escape(f"{moved.facts.custom_domain} (business {moved.slug})")
    ):
        tenant_import(path=renamed, media_root=tmp_path / "media")
    assert platform_state() == before


def _keep_stripe_customer(public: dict) -> None:
    public["domains"] = []


def _keep_connected_account(public: dict) -> None:
    public["domains"] = []
    public["billing_account"].update(stripe_customer_id="", stripe_subscription_id="")


@pytest.mark.parametrize(
    ("edit", "refusal"),
    [
        # The platform's Stripe customer of the business.
        (_keep_stripe_customer, r"the Stripe id cus_\w+ already belongs to business Umzug Salon here"),
        # Its own Stripe account: deposits of one business must never reach another's.
        (
            _keep_connected_account,
            r"the Stripe account acct_\w+ already belongs to business Umzug Salon here",
        ),
    ],
)
def test_stripe_ids_of_another_business_are_refused(moved, unblocked, tmp_path, edit, refusal):
    """A copy under another address that still claims the source's Stripe records is refused while the
    source holds them here, and nothing changes."""

    def other_address(manifest: dict, _data) -> None:
        manifest["source"]["slug"] = f"{PREFIX}{secrets.token_hex(3)}"

    file = rewritten(
        with_public(moved.path, tmp_path / "a.zip", edit), tmp_path / "b.zip", manifest=other_address
    )
    before = platform_state()
    with pytest.raises(TransferError, match=refusal):
        tenant_import(path=file, media_root=tmp_path / "media")
    assert platform_state() == before


def test_changed_file_is_refused_before_anything_happens(moved, unblocked, tmp_path):
    def flip(data: bytes) -> bytes:
        return data.replace(b"Kundin1\t", b"Kundin7\t", 1)

    changed = rewritten(moved.path, tmp_path / "changed.zip", member="tables/crm_customer.copy", change=flip)
    before = platform_state()
    with pytest.raises(TransferError, match=re.escape("checksum mismatch in tables/crm_customer.copy")):
        tenant_import(path=changed, slug=f"{PREFIX}changed", media_root=tmp_path / "media")
    assert platform_state() == before
    assert not (tmp_path / "media").exists() or list((tmp_path / "media").iterdir()) == []


def test_file_from_another_version_is_refused(moved, unblocked, tmp_path):
    def newer(manifest: dict, _data) -> None:
        manifest["migrations"].append(["crm", "9999_from_the_future"])

    other = rewritten(moved.path, tmp_path / "newer.zip", manifest=newer)
    before = platform_state()
    with pytest.raises(
        TransferError, match=r"different Termino version.*only in the file: crm\.9999_from_the_future"
    ):
        tenant_import(path=other, slug=f"{PREFIX}newer", media_root=tmp_path / "media")
    assert platform_state() == before


def test_failure_half_way_through_the_load_leaves_nothing(moved, unblocked, tmp_path):
    """A stream that passes its checksum but that PostgreSQL refuses: tables before it were loaded."""
    table = "scheduling_appointment"
    member = f"tables/{table}.copy"

    def broken(data: bytes) -> bytes:
        return b"not-an-id" + data[data.index(b"\t") :]

    def matching(manifest: dict, data) -> None:
        entry = next(t for t in manifest["tables"] if t["name"] == table)
        entry["sha256"] = hashlib.sha256(data[member]).hexdigest()

    corrupt = rewritten(
        copy_of(moved, tmp_path), tmp_path / "corrupt.zip", member=member, change=broken, manifest=matching
    )
    services.schema_pool_fill(size=1)  # a spare is ready: the failure is the only thing that happens
    slug = f"{PREFIX}{secrets.token_hex(3)}-broken"
    before = platform_state()
    with pytest.raises(TransferError, match=f"loading table {table} failed.*not-an-id"):
        tenant_import(path=corrupt, slug=slug, media_root=tmp_path / "media")
    assert platform_state() == before  # the claimed spare is a spare again, under its old name
    assert services.schema_name_for(slug) not in user_schemas()
    assert list((tmp_path / "media").iterdir()) == []  # staged media removed too


def test_import_under_a_new_address(moved, unblocked, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    slug = f"{PREFIX}{secrets.token_hex(3)}-neu"
    out = io.StringIO()
    call_command("tenant_import", str(copy_of(moved, tmp_path)), "--slug", slug, stdout=out)
    tenant = Tenant.objects.get(slug=slug)
    schema = services.schema_name_for(slug)
    assert tenant.schema_name == schema and tenant.status == TenantStatus.ACTIVE
    assert tenant.name == "Umzug Salon" and tenant.created_at == moved.business.tenant.created_at
    # The subdomain follows the new address; the custom domain still belongs to the source here.
    assert list(Domain.objects.filter(tenant=tenant).values_list("domain", "is_primary")) == [
        (services.business_host(slug), True)
    ]
    assert f"custom domain {moved.facts.custom_domain} is taken here and was left out" in out.getvalue()
    account = BillingAccount.objects.get(tenant=tenant)
    assert account.extra_sms_credits == 37 and account.stripe_customer_id == ""
    # The purchase and the Stripe event are the source's records here already: not doubled.
    assert account.sms_purchases.count() == 0
    assert SmsLock.objects.filter(tenant=tenant).exists()
    assert StatusChange.objects.filter(tenant=tenant).count() == 1
    assert StripeEvent.objects.filter(tenant=tenant).count() == 0
    assert "2 Stripe event(s) or SMS pack purchase(s) were recorded here already" in out.getvalue()
    seen = probe(
        schema=schema,
        host=services.business_host(slug),
        username=moved.facts.owner_username,
        password=PASSWORD,
        api_token=moved.facts.api_token,
        logo=moved.facts.logo_name,
    )
    assert seen["digests"] == moved.digests
    assert seen["login"] == [302, "/"] and seen["api"][0] == 200
    assert seen["logo"] == [200, LOGO_SHA]
    assert (tmp_path / "media" / schema / moved.facts.logo_name).read_bytes() == transfer_world.LOGO


def test_round_trip_after_deleting_the_source(moved, unblocked, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    services.tenant_delete(tenant=Tenant.objects.get(slug=moved.slug))
    assert moved.schema not in user_schemas()
    began = time.monotonic()
    result = tenant_import(path=moved.path)
    NUMBERS["import into the same database (spare ready)"] = f"{result.seconds:.2f} s"
    assert time.monotonic() - began < 60
    assert result.schema == moved.schema
    assert sorted(result.domains) == sorted([moved.business.host, moved.facts.custom_domain])
    assert Domain.objects.get(domain=moved.business.host).is_primary
    seen = probe(
        schema=moved.schema,
        host=moved.facts.custom_domain,
        username=moved.facts.owner_username,
        password=PASSWORD,
        api_token=moved.facts.api_token,
        logo=moved.facts.logo_name,
    )
    assert seen["digests"] == moved.digests
    assert seen["routed_schema"] == moved.schema
    assert seen["login"] == [302, "/"] and seen["home"] == 200
    assert seen["double_booking"] == "23P01"
    assert seen["new_customer_id"] == moved.sequences["crm_customer_id_seq"] + 1
    # The connected Stripe account came back with the business, as Stripe last described it.
    connected = ConnectAccount.objects.get(tenant__slug=moved.slug)
    assert connected.status == "enabled" and connected.charges_enabled and connected.payouts_enabled
    assert connected.currently_due == ["external_account"]
    with zipfile.ZipFile(moved.path) as archive:
        exported = json.loads(archive.read("public.json"))["connect_account"]
    assert connected.stripe_account_id == exported["stripe_account_id"]
    assert connected.created_at.isoformat() == exported["created_at"]  # not the import's time
