"""Stored business exports (nightly, per plan) and restoring one business in place from an export.

Nightly: beat fans `backups.nightly_export` out to every live business; a business whose plan keeps
copies (NIGHTLY_EXPORT_DAYS, e.g. "professional:14,business:30") gets tenant_export's file without login
secrets (`redact_logins`), encrypted (crypto.py), under BUSINESS_EXPORTS_ROOT/<schema>/, kept that many days;
`backups.prune` deletes what has expired. The owner lists and downloads them (Account → Backups).

Restore (`business_restore`): first a full copy of the business as it is now (kept RESTORE_SAFETY_DAYS, so a
restore can itself be undone), then tenancy.transfer.tenant_replace, with its audit entry in the same
transaction: a staff action (the superadmin) or a platform log entry (the `tenant_restore` command).
"""

import contextlib
import hashlib
import logging
import os
import secrets
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from termino.platform.billing import selectors as billing
from termino.platform.staffadmin.models import ActionKind
from termino.platform.staffadmin.services import staff_action_record
from termino.platform.tenancy.models import PlatformEvent, PlatformEventKind, Tenant, TenantStatus
from termino.platform.tenancy.transfer import TransferError, tenant_export, tenant_replace
from termino.platform.tenancy.transfer.common import MANIFEST

from . import crypto
from .models import BusinessExport, ExportKind

logger = logging.getLogger(__name__)

SUFFIX = ".tex"  # Termino export, encrypted
# Beat may deliver a nightly task twice (a worker lost mid-task): one copy a night is enough.
NIGHTLY_MIN_GAP = timedelta(hours=20)


def exports_root() -> Path:
    return Path(settings.BUSINESS_EXPORTS_ROOT)


def export_path(export: BusinessExport) -> Path:
    return exports_root() / export.file_name


def nightly_days(tenant: Tenant) -> int:
    """Days a nightly copy of this business is kept under its plan; 0: its plan has none."""
    plan = billing.billing_state(tenant).plan
    return int(settings.NIGHTLY_EXPORT_DAYS.get(plan.code, 0)) if plan else 0


def _zip_facts(path: Path) -> tuple[int, int]:
    import json

    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(MANIFEST))
    return len(manifest["tables"]), sum(t["rows"] for t in manifest["tables"])


def export_store(*, tenant: Tenant, kind: str, keep_days: int, redact_logins: bool = True) -> BusinessExport:
    """Export the business now, encrypt the file, record it; kept `keep_days` days. Raises TransferError."""
    now = timezone.now()
    directory = exports_root() / tenant.schema_name
    directory.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{kind}-{secrets.token_hex(4)}{SUFFIX}"
    target = directory / name
    with tempfile.TemporaryDirectory(dir=directory, prefix=".export-") as scratch:
        plain = Path(scratch) / "export.zip"
        result = tenant_export(slug=tenant.schema_name, path=plain, redact_logins=redact_logins)
        digest = hashlib.sha256()
        with plain.open("rb") as source:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
        partial = Path(scratch) / "export.tex"
        key = crypto.encrypt_file(plain, partial)
        tables, rows = _zip_facts(plain)
        os.replace(partial, target)
    try:
        return BusinessExport.objects.create(
            tenant=tenant,
            kind=kind,
            file_name=f"{tenant.schema_name}/{name}",
            size_bytes=target.stat().st_size,
            sha256=digest.hexdigest(),
            key_id=key,
            tables=tables,
            rows=rows or result.rows,
            redacted=redact_logins,
            created_at=now,
            expires_at=now + timedelta(days=max(keep_days, 1)),
        )
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def nightly_export(*, tenant: Tenant) -> BusinessExport | None:
    """Tonight's copy of the business, if its plan keeps copies and it has none from the last hours."""
    days = nightly_days(tenant)
    if days <= 0 or tenant.status == TenantStatus.CANCELLED:
        return None
    recent = BusinessExport.objects.filter(
        tenant=tenant, kind=ExportKind.NIGHTLY, created_at__gt=timezone.now() - NIGHTLY_MIN_GAP
    )
    if recent.exists():
        return None
    return export_store(tenant=tenant, kind=ExportKind.NIGHTLY, keep_days=days)


def exports_prune(*, now=None) -> int:
    """Delete every stored export past its time, file and row. Returns how many."""
    now = now or timezone.now()
    removed = 0
    for export in BusinessExport.objects.filter(expires_at__lte=now).order_by("pk"):
        export_path(export).unlink(missing_ok=True)
        BusinessExport.objects.filter(pk=export.pk).delete()
        removed += 1
    return removed


@contextlib.contextmanager
def export_opened(export: BusinessExport):
    """The decrypted ZIP of a stored export, as a temporary file path (deleted afterwards). Checks the
    SHA-256 recorded when it was made. Raises TransferError."""
    source = export_path(export)
    if not source.is_file():
        raise TransferError(f"the file of export {export.pk} is missing ({source})")
    with tempfile.TemporaryDirectory(prefix="termino-export-") as scratch:
        plain = Path(scratch) / "export.zip"
        fd = os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            try:
                digest = crypto.decrypt_file(source, out)
            except crypto.DecryptionError as exc:
                raise TransferError(f"export {export.pk} cannot be decrypted: {exc}") from exc
        if digest != export.sha256:
            raise TransferError(f"export {export.pk} does not match its recorded checksum")
        yield plain


def decrypted_copy(export: BusinessExport):
    """An open temporary file holding the decrypted ZIP (gone when closed), for a download."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115  (handed open to the response, which closes it)
    try:
        digest = crypto.decrypt_file(export_path(export), handle)
    except (OSError, crypto.DecryptionError):
        handle.close()
        raise
    if digest != export.sha256:
        handle.close()
        raise crypto.DecryptionError("checksum mismatch")
    handle.seek(0)
    return handle


def inbox_files(tenant: Tenant) -> list[Path]:
    """Exports an operator put into RESTORE_INBOX (e.g. from a scratch server) that hold this business."""
    import json

    inbox = Path(settings.RESTORE_INBOX)
    found = []
    if not inbox.is_dir():
        return found
    for path in sorted(inbox.glob("*.zip")):
        try:
            with zipfile.ZipFile(path) as archive:
                source = json.loads(archive.read(MANIFEST)).get("source", {})
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            continue
        if source.get("schema") == tenant.schema_name:
            found.append(path)
    return found


def business_restore(
    *,
    tenant: Tenant,
    export: BusinessExport | None = None,
    path: Path | None = None,
    logins: str = "live",
    reason: str,
    staff=None,
    ip: str | None = None,
    operator: str = "",
    progress=None,
):
    """Put the business back as it was in `export` (stored) or the file `path`, after a safety copy of it as
    it is now. Audited: a staff action when `staff` acts, else a platform log entry naming `operator`."""
    if (export is None) == (path is None):
        raise ValueError("give exactly one of export and path")
    if not reason.strip():
        raise TransferError("a restore needs a reason (it goes into the audit log)")
    if export is not None and export.tenant_id != tenant.pk:
        raise TransferError("this export belongs to another business")
    safety = export_store(
        tenant=tenant,
        kind=ExportKind.PRE_RESTORE,
        keep_days=settings.RESTORE_SAFETY_DAYS,
        redact_logins=False,
    )
    source_label = (
        f"stored export {export.pk} ({export.kind}, {export.created_at.isoformat()})" if export else str(path)
    )

    def record(details: dict) -> None:
        details = {**details, "source": source_label, "safety_export": safety.pk}
        if staff is not None:
            staff_action_record(
                staff=staff, action=ActionKind.RESTORE, tenant=tenant, reason=reason, details=details, ip=ip
            )
        else:
            PlatformEvent.objects.create(
                kind=PlatformEventKind.RESTORED,
                tenant_id=tenant.pk,
                slug=tenant.slug or "",
                schema_name=tenant.schema_name,
                tenant_label=tenant.name,
                reason=f"{reason} (by {operator or 'an operator'})",
                details=details,
            )

    try:
        if export is not None:
            with export_opened(export) as plain:
                result = tenant_replace(
                    path=plain, slug=tenant.schema_name, logins=logins, progress=progress, record=record
                )
        else:
            result = tenant_replace(
                path=path, slug=tenant.schema_name, logins=logins, progress=progress, record=record
            )
    except BaseException:
        # The restore did not happen: its safety copy is not needed.
        export_path(safety).unlink(missing_ok=True)
        BusinessExport.objects.filter(pk=safety.pk).delete()
        raise
    result.notes.append(f"the business as it was before is kept as export {safety.pk} for undoing this")
    result.safety_export = safety
    return result
