import logging

from celery import shared_task

from termino.platform.tenancy.models import Tenant
from termino.shared.tasks import TenantTask

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="backups.nightly_export", base=TenantTask, ignore_result=True)
def nightly_export(*, schema_name: str) -> int | None:
    """Tonight's encrypted copy of one business (fanned out by beat). The base class refuses a schema that
    is no live business; the export itself reads the business and its platform rows in its own snapshot."""
    tenant = Tenant.objects.filter(schema_name=schema_name).first()
    if tenant is None:
        return None
    export = services.nightly_export(tenant=tenant)
    return export.pk if export else None


@shared_task(name="backups.prune", acks_late=True, ignore_result=True)
def prune() -> int:
    """Delete the stored exports past their time (nightly from beat)."""
    return services.exports_prune()
