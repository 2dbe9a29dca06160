from celery import shared_task

from termino.platform.tenancy.selectors import tenant_by_schema
from termino.shared.tasks import TenantTask

from . import services, team


@shared_task(base=TenantTask, name="notifications.send_due", ignore_result=True)
def send_due(*, schema_name: str) -> dict:
    """Send this business's due messages (beat fans this out every minute)."""
    services.outbox_reconcile()
    return services.outbox_send_due(tenant=tenant_by_schema(schema_name))


@shared_task(base=TenantTask, name="notifications.queue_agendas", ignore_result=True)
def queue_agendas(*, schema_name: str) -> int:
    """Each morning, the opted-in staff members' agendas of the day (beat fans this out every 15 minutes;
    each agenda is queued once a day), then sent at once."""
    tenant = tenant_by_schema(schema_name)
    queued = team.agendas_queue(tenant=tenant)
    if queued:
        services.outbox_send_due(tenant=tenant)
    return queued
