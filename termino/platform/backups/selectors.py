"""Reads of stored exports, for the business's own backoffice (Account → Backups) and the staff pages."""

from termino.platform.tenancy.models import Tenant

from .models import BusinessExport, ExportKind


def owner_exports(tenant: Tenant) -> list[BusinessExport]:
    """What the owner may download: the nightly copies (made without login secrets), newest first."""
    return list(BusinessExport.objects.filter(tenant_id=tenant.pk, kind=ExportKind.NIGHTLY, redacted=True))


def owner_export(tenant: Tenant, pk: int) -> BusinessExport | None:
    return BusinessExport.objects.filter(
        tenant_id=tenant.pk, pk=pk, kind=ExportKind.NIGHTLY, redacted=True
    ).first()


def business_exports(tenant: Tenant) -> list[BusinessExport]:
    """Every stored export of the business (staff: what a restore can start from)."""
    return list(BusinessExport.objects.filter(tenant_id=tenant.pk))


def nightly_days(tenant: Tenant) -> int:
    from .services import nightly_days as days

    return days(tenant)


class CannotOpen(Exception):
    """A stored export's file is missing or cannot be decrypted."""


def decrypted(export: BusinessExport):
    """An open temporary file with the decrypted ZIP (deleted when closed). Raises CannotOpen."""
    from .crypto import DecryptionError
    from .services import decrypted_copy

    try:
        return decrypted_copy(export)
    except (OSError, DecryptionError) as exc:
        raise CannotOpen(str(exc)) from exc
