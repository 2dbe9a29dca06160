"""Nightly copies per plan: encrypted at rest, without login secrets, kept N days, downloadable by the owner;
and the superadmin's restore action, audited."""

import io
import json
import secrets
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.backups import crypto, services, tasks
from termino.platform.backups.models import BusinessExport, ExportKind
from termino.platform.billing.models import BillingAccount, Plan
from termino.platform.staffadmin.models import StaffAction
from termino.tenants.crm import services as crm
from termino.tenants.crm.models import Customer
from termino.tenants.privacy.models import PersonalDataEvent
from termino.tenants.privacy.services import customer_erase
from tests.conftest import client_for
from tests.platform.staffadmin.conftest import make_staff, sign_in
from tests.tenants.backoffice.helpers import log_in_as


@pytest.fixture
def exports_root(settings, tmp_path):
    settings.BUSINESS_EXPORTS_ROOT = tmp_path / "exports"
    settings.NIGHTLY_EXPORT_DAYS = {"professional": 14, "business": 30}
    return settings.BUSINESS_EXPORTS_ROOT


def _on_plan(business, code: str) -> None:
    BillingAccount.objects.filter(tenant=business.tenant).update(plan=Plan.objects.get(code=code))


def _customers(business, n: int = 3) -> list[int]:
    with schema_context(business.schema):
        ids = [
            crm.customer_create(first_name="Nacht", last_name=f"Kopie {i}", email=f"n{i}@example.com").pk
            for i in range(n)
        ]
    connection.set_schema_to_public()
    return ids


def test_a_copy_a_night_per_plan_encrypted_without_passwords_and_kept_n_days(committed_db, exports_root):
    paying = committed_db(f"t-nightly-{secrets.token_hex(3)}")
    trial = committed_db(f"t-trial-{secrets.token_hex(3)}")
    _on_plan(paying, "professional")
    _customers(paying)

    made = tasks.nightly_export(schema_name=paying.schema)
    assert tasks.nightly_export(schema_name=trial.schema) is None  # starter (trial): no nightly copies
    assert tasks.nightly_export(schema_name=paying.schema) is None  # once a night, whatever beat repeats
    export = BusinessExport.objects.get(pk=made)
    assert export.kind == ExportKind.NIGHTLY and export.redacted
    assert export.expires_at - export.created_at == timedelta(days=14)

    sealed = (exports_root / export.file_name).read_bytes()
    assert (
        sealed.startswith(crypto.MAGIC)
        and oct((exports_root / export.file_name).stat().st_mode)[-3:] == "600"
    )
    with services.export_opened(export) as plain, zipfile.ZipFile(plain) as archive:
        users = archive.read("tables/accounts_user.copy").decode()
        manifest = json.loads(archive.read("manifest.json"))
        customers = archive.read("tables/crm_customer.copy")
    assert b"crm_customer" not in sealed and b"Nacht" not in sealed and customers.count(b"Nacht") == 3
    assert "argon2" not in users and "\t!\t" in users  # no password hash leaves: an unusable mark instead
    assert manifest["redacted"] == ["accounts_apitoken", "accounts_user", "django_session"]

    # Cut off or changed, it does not open.
    broken = exports_root / "broken.tex"
    for damaged in (sealed[:-10], sealed[:100] + bytes([sealed[100] ^ 1]) + sealed[101:]):
        broken.write_bytes(damaged)
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_file(broken, io.BytesIO())

    with time_machine.travel(timezone.now() + timedelta(days=14, minutes=1), tick=False):
        assert tasks.prune() >= 1
    assert not BusinessExport.objects.filter(pk=export.pk).exists()
    assert not (exports_root / export.file_name).exists()


def test_keys_rotate_without_losing_older_copies(committed_db, exports_root, settings):
    business = committed_db(f"t-keys-{secrets.token_hex(3)}")
    old, new = crypto.new_key(), crypto.new_key()
    settings.BACKUP_ENCRYPTION_KEYS = old
    first = services.export_store(tenant=business.tenant, kind=ExportKind.NIGHTLY, keep_days=7)
    settings.BACKUP_ENCRYPTION_KEYS = f"{new},{old}"
    second = services.export_store(tenant=business.tenant, kind=ExportKind.NIGHTLY, keep_days=7)
    assert first.key_id != second.key_id
    for export in (first, second):
        with services.export_opened(export):
            pass
    settings.BACKUP_ENCRYPTION_KEYS = new
    with (
        pytest.raises(services.TransferError, match="not in BACKUP_ENCRYPTION_KEYS"),
        services.export_opened(first),
    ):
        pass


def test_the_owner_lists_and_downloads_the_copies_staff_cannot(committed_db, exports_root):
    business = committed_db(f"t-owner-{secrets.token_hex(3)}")
    _on_plan(business, "business")
    export = services.nightly_export(tenant=business.tenant)
    owner = log_in_as(business, "owner")
    page = owner.get("/account/backups/")
    assert page.status_code == 200 and f"/account/backups/{export.pk}/download/" in page.content.decode()
    assert "30 days" in page.content.decode()
    download = owner.get(f"/account/backups/{export.pk}/download/")
    assert download.status_code == 200 and download["Cache-Control"] == "no-store"
    body = b"".join(download.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert json.loads(archive.read("manifest.json"))["source"]["schema"] == business.schema
    with schema_context(business.schema):
        assert PersonalDataEvent.objects.filter(action="export", details__nightly_copy=export.pk).exists()
    connection.set_schema_to_public()
    staff = log_in_as(business, "staff")
    assert staff.get(f"/account/backups/{export.pk}/download/").status_code in (302, 403)
    # A pre-restore copy carries login secrets: never offered to the owner.
    full = services.export_store(
        tenant=business.tenant, kind=ExportKind.PRE_RESTORE, keep_days=1, redact_logins=False
    )
    assert owner.get(f"/account/backups/{full.pk}/download/").status_code == 404


def test_the_superadmin_restores_from_a_nightly_copy_with_an_audit_entry(committed_db, exports_root):
    business = committed_db(f"t-staffrestore-{secrets.token_hex(3)}")
    _on_plan(business, "professional")
    ids = _customers(business, 4)
    export = services.nightly_export(tenant=business.tenant)
    with schema_context(business.schema):
        Customer.objects.filter(pk__in=ids[:3]).delete()
        customer_erase(customer=Customer.objects.get(pk=ids[3]), actor_label="owner on request")
    connection.set_schema_to_public()
    staff = make_staff()
    client = sign_in(staff)
    url = f"/staff/businesses/{business.tenant.pk}/restore/"
    page = client.get(f"/staff/businesses/{business.tenant.pk}/")
    assert f'value="export:{export.pk}"' in page.content.decode()

    wrong = client.post(url, {"source": f"export:{export.pk}", "confirm": "other", "reason": "Ticket 77"})
    assert wrong.status_code == 400 and "not the business" in wrong.content.decode()
    response = client.post(
        url, {"source": f"export:{export.pk}", "confirm": business.tenant.slug, "reason": "Ticket 77"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context(business.schema):
        present = set(Customer.objects.values_list("pk", flat=True))
    connection.set_schema_to_public()
    assert set(ids[:3]) <= present and ids[3] not in present  # back, except the one erased on request
    entry = StaffAction.objects.get(tenant_id=business.tenant.pk, action="restore")
    assert entry.staff == staff and entry.reason == "Ticket 77"
    assert entry.details["erasures_reapplied"] == [ids[3]] and "stored export" in entry.details["source"]
    assert client_for(business.host).get("/login/").status_code == 200


def test_after_a_whole_database_restore_no_message_goes_twice(committed_db):
    from io import StringIO

    from django.core.management import call_command

    from termino.tenants.notifications.models import OutboxMessage

    business = committed_db(f"t-pitr-outbox-{secrets.token_hex(3)}")
    now = timezone.now()
    with schema_context(business.schema):
        for channel, n in (("sms", 1), ("sms", 2), ("email", 3)):
            OutboxMessage.objects.create(
                channel=channel,
                kind="reminder",
                recipient="+4917012345" if channel == "sms" else "k@example.com",
                due_at=now - timedelta(minutes=n),
                idempotency_key=f"restore-test:{n}",
            )
        OutboxMessage.objects.create(
            channel="email",
            kind="reminder",
            recipient="k@example.com",
            due_at=now + timedelta(days=1),
            idempotency_key="restore-test:later",
        )
    connection.set_schema_to_public()
    out = StringIO()
    call_command("outbox_after_restore", "--served-until", now.isoformat(), stdout=out)
    with schema_context(business.schema):
        rows = {
            m.idempotency_key: m
            for m in OutboxMessage.objects.filter(idempotency_key__startswith="restore-test")
        }
    connection.set_schema_to_public()
    assert (
        rows["restore-test:1"].status == "queued" and rows["restore-test:1"].attempts == 1
    )  # looked up first
    assert rows["restore-test:3"].status == "failed" and rows["restore-test:3"].reason == "restored_email"
    assert rows["restore-test:later"].status == "queued"  # due after the old server stopped: never sent
