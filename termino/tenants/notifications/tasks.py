from celery import shared_task

from termino.platform.tenancy.selectors import tenant_by_schema
from termino.shared.tasks import TenantTask

from . import services


@shared_task(base=TenantTask, name="notifications.send_due", ignore_result=True)
def send_due(*, schema_name: str) -> dict:
    """Send this business's due messages (beat fans this out every minute)."""
    services.outbox_reconcile()
    return services.outbox_send_due(tenant=tenant_by_schema(schema_name))
