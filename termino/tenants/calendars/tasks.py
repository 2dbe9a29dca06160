"""Workers' side of calendar sync: pulls (scheduled through the due index, or asked for) and pushes."""

from celery import shared_task

from termino.shared.tasks import TenantTask

from . import caldav_client, services


@shared_task(base=TenantTask, name="calendars.pull", ignore_result=True)
def pull(*, schema_name: str, connection_id: int, on_demand: bool = False) -> str:
    """One calendar's busy times read now (at most once per CALDAV_MIN_PULL_SECONDS)."""
    return services.caldav_pull(connection_id=connection_id, on_demand=on_demand)


@shared_task(
    base=TenantTask,
    name="calendars.push",
    ignore_result=True,
    autoretry_for=(caldav_client.CalDavError,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def push(*, schema_name: str, appointment_id: int, connection_id: int) -> str:
    """Write one appointment's state to one connected calendar (idempotent; a server away is retried,
    a refused password or a gone calendar is stored as the connection's state instead)."""
    return services.caldav_push(appointment_id=appointment_id, connection_id=connection_id)


@shared_task(base=TenantTask, name="calendars.push_all", ignore_result=True)
def push_all(*, schema_name: str, connection_id: int) -> int:
    """After connecting: one push per appointment still to come, each retried on its own."""
    ids = services.upcoming_ids(connection_id=connection_id)
    for appointment_id in ids:
        push.delay(schema_name=schema_name, appointment_id=appointment_id, connection_id=connection_id)
    return len(ids)
