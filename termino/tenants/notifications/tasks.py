from celery import shared_task

from termino.shared.tasks import TenantTask

from . import team
from .due import outbox_due, outbox_next_due, outbox_run


@shared_task(base=TenantTask, name="notifications.send_due", ignore_result=True)
def send_due(*, schema_name: str) -> dict:
    """Send this business's due messages now (queued after a commit that left one due; beat's dispatcher
    runs the same work through `duework.run`). A retry it schedules goes into the due index."""
    counts = outbox_run()
    if (next_at := outbox_next_due()) is not None:
        outbox_due(next_at)
    return counts


@shared_task(base=TenantTask, name="notifications.queue_agendas", ignore_result=True)
def queue_agendas(*, schema_name: str) -> int:
    """Each morning, the opted-in staff members' agendas of the day (beat's due-work dispatcher runs the same
    as `notifications.agenda`; each agenda is queued once a day), then sent at once."""
    queued = team.agendas_run()
    if queued:
        send_due(schema_name=schema_name)
    return queued
