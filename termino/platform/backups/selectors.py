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
