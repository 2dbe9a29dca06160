from celery import shared_task

from termino.shared.tasks import TenantTask

from .due import deliveries_due, deliveries_next_due, deliveries_run


@shared_task(base=TenantTask, name="webhooks.deliver", ignore_result=True)
def deliver(*, schema_name: str) -> dict:
    """Send this business's due deliveries now (queued after a commit that wrote some; beat's dispatcher runs
    the same work through `duework.run`). What is due later goes into the due index."""
    counts = deliveries_run()
    if (next_at := deliveries_next_due()) is not None:
        deliveries_due(next_at)
    return counts
