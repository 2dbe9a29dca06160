"""One business back to an earlier time, the others untouched: the operator's path, end to end.

A backup of the whole database server is taken (`pg_basebackup`), the business's customers are deleted by
mistake (and one is erased on request, which must stay erased), the backup is started as a scratch server,
`tenant_export` writes the business from there (a subprocess pointed at the scratch server, as an operator
would run it), and `tenant_restore` puts it back over the live business.
"""

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.backups.models import BusinessExport, ExportKind
from termino.platform.tenancy.models import PlatformEvent, PlatformEventKind, Tenant
from termino.tenants.accounts.models import ApiToken, User
from termino.tenants.accounts.services import api_token_create
from termino.tenants.crm import services as crm
from termino.tenants.crm.models import Customer
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.privacy.models import PersonalDataEvent
from termino.tenants.privacy.services import customer_erase
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.events import Actor
from tests.conftest import password_hash
from tests.platform.tenancy.transfer_probe import table_digests
from tests.tenants.crm.factories import consent
from tests.tenants.scheduling.factories import next_monday

from .scratch import base_backup, scratch_root, scratch_server, session_database, session_port

NUMBERS: dict[str, str] = {}


def _build(business, customers: int = 8) -> dict:
    with schema_context(business.schema):
        owner = User.objects.get(role="owner")
        service = scheduling.service_create(name="Haarschnitt", duration_minutes=30)
        scheduling.resource_create(kind="staff", name="Jana", services=[service])
        people = []
        for n in range(customers):
            person = crm.customer_create(
                first_name=f"Kundin{n}",
                last_name=f"Restore-{n}",
                email=f"kundin{n}@example.com",
                phone=f"+4917100{n:05d}",
                created_by=owner,
            )
            consent(person, "privacy", True)
            people.append(person)
        start = next_monday()
        booked = lifecycle.appointment_book(
            actor=Actor(source="backoffice", user=owner),
            booking=scheduling.Booking(service=service, start=start),
            customer=people[-1],
        )
        return {"customers": [p.pk for p in people], "service": service.pk, "appointment": booked.pk}


@pytest.fixture
def businesses(committed_db):
    live = committed_db(f"t-live-{secrets.token_hex(3)}")
    other = committed_db(f"t-other-{secrets.token_hex(3)}")
    facts = _build(live)
    _build(other, customers=3)
    connection.set_schema_to_public()
    return live, other, facts


def _export_from(scratch_port: int, slug: str, target) -> None:
    """`manage.py tenant_export` against the scratch server, in a process of its own."""
    url = f"postgresql://postgres@127.0.0.1:{scratch_port}/{session_database()}"
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "manage.py", "tenant_export", slug, str(target), "--quiet"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "termino.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    NUMBERS["export from the scratch server"] = f"{time.monotonic() - began:.1f} s"


@pytest.fixture
def stack():
    with contextlib.ExitStack() as stack:
        yield stack


def test_deleted_customers_come_back_and_nothing_else_changes(businesses, tmp_path, settings, stack):
    settings.BUSINESS_EXPORTS_ROOT = tmp_path / "exports"
    live, other, facts = businesses
    with schema_context(live.schema):
        owner = User.objects.get(role="owner")
        token_before = api_token_create(user=owner, name="before").key

    root = stack.enter_context(scratch_root())
    began = time.monotonic()
    backup = base_backup(session_port(), root / "backup" / "pgdata")
    NUMBERS["pg_basebackup of the test server"] = f"{time.monotonic() - began:.1f} s"

    # After the backup: the mistake, an erasure on request, a login and a message that went out.
    with schema_context(live.schema):
        lost = facts["customers"][:5]
        Customer.objects.filter(pk__in=lost).delete()
        erased = Customer.objects.get(pk=facts["customers"][5])
        customer_erase(customer=erased, actor=owner)
        newcomer = User.objects.create(
            username=f"neu@{live.tenant.slug}.example", role="staff", password=password_hash()
        )
        token_after = api_token_create(user=newcomer, name="after").key
        sent = OutboxMessage.objects.get(appointment_id=facts["appointment"], kind="confirmation")
        OutboxMessage.objects.filter(pk=sent.pk).update(status="sent", sent_at=timezone.now(), attempts=1)
        assert Customer.objects.count() == 2
    connection.set_schema_to_public()
    other_before = table_digests(other.schema)

    export = tmp_path / "live-before.zip"
    with scratch_server(backup) as scratch:
        _export_from(scratch.port, live.tenant.slug, export)
    with __import__("zipfile").ZipFile(export) as archive:
        assert json.loads(archive.read("manifest.json"))["source"]["schema"] == live.schema

    began = time.monotonic()
    call_command("tenant_restore", live.tenant.slug, "--file", str(export), "--yes", "--reason", "T-1234")
    NUMBERS["tenant_restore"] = f"{time.monotonic() - began:.1f} s"
    connection.set_schema_to_public()

    with schema_context(live.schema):
        back = set(Customer.objects.values_list("pk", flat=True))
        assert set(lost) <= back  # the deleted customers are back
        assert erased.pk not in back  # the erasure since the backup holds
        assert PersonalDataEvent.objects.filter(customer_id=erased.pk, action="erase").count() == 2
        # Logins as they are now: the newcomer and both tokens still work.
        assert User.objects.filter(pk=newcomer.pk, is_active=True).exists()
        assert ApiToken.objects.filter(token_hash=ApiToken.hash_key(token_after)).exists()
        assert ApiToken.objects.filter(token_hash=ApiToken.hash_key(token_before)).exists()
        # The message that went out since stays sent: it is not sent a second time.
        assert OutboxMessage.objects.get(pk=sent.pk).status == "sent"
        # Ids continue above everything seen.
        assert crm.customer_create(first_name="", last_name="Danach").pk > max(facts["customers"])
    connection.set_schema_to_public()
    assert table_digests(other.schema) == other_before  # the other business: byte for byte the same

    tenant = Tenant.objects.get(pk=live.tenant.pk)
    assert tenant.slug == live.tenant.slug and tenant.schema_name == live.schema
    event = PlatformEvent.objects.get(tenant_id=tenant.pk, kind=PlatformEventKind.RESTORED)
    assert "T-1234" in event.reason and event.details["erasures_reapplied"] == [erased.pk]
    safety = BusinessExport.objects.get(pk=event.details["safety_export"])
    assert safety.kind == ExportKind.PRE_RESTORE and not safety.redacted
    assert (settings.BUSINESS_EXPORTS_ROOT / safety.file_name).is_file()
    print("\nrestore numbers:", json.dumps(NUMBERS, indent=1))


def test_a_restore_refuses_another_business_file_and_changes_nothing(businesses, tmp_path, settings):
    settings.BUSINESS_EXPORTS_ROOT = tmp_path / "exports"
    live, other, _facts = businesses
    path = tmp_path / "other.zip"
    call_command("tenant_export", other.tenant.slug, str(path), "--quiet")
    before = table_digests(live.schema)
    with pytest.raises(CommandError, match=r"not .*--other-source"):
        call_command("tenant_restore", live.tenant.slug, "--file", str(path), "--yes")
    connection.set_schema_to_public()
    assert table_digests(live.schema) == before
    assert not BusinessExport.objects.filter(tenant_id=live.tenant.pk).exists()


def test_the_last_nights_copy_restores_too(businesses, tmp_path, settings):
    """A stored (encrypted, login-free) nightly copy is a restore source of its own."""
    from termino.platform.backups.services import export_store

    settings.BUSINESS_EXPORTS_ROOT = tmp_path / "exports"
    live, _other, facts = businesses
    nightly = export_store(tenant=live.tenant, kind=ExportKind.NIGHTLY, keep_days=14)
    with schema_context(live.schema):
        Customer.objects.filter(pk__in=facts["customers"][:3]).delete()
    connection.set_schema_to_public()
    call_command("tenant_restore", live.tenant.slug, "--export", str(nightly.pk), "--yes")
    with schema_context(live.schema):
        assert set(facts["customers"]) <= set(Customer.objects.values_list("pk", flat=True))
        # The file carried no passwords: the owner's login is the live one, still usable.
        assert User.objects.get(role="owner").has_usable_password()
    connection.set_schema_to_public()
    with pytest.raises(CommandError, match="no login secrets"):
        call_command(
            "tenant_restore", live.tenant.slug, "--export", str(nightly.pk), "--yes", "--logins=file"
        )
    assert nightly.expires_at - nightly.created_at == timedelta(days=14)
