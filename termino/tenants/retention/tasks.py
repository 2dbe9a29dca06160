from celery import shared_task

from termino.shared.tasks import TenantTask

from . import services


@shared_task(base=TenantTask, name="retention.run", ignore_result=True)
def run(*, schema_name: str, dry_run: bool = False) -> dict | None:
    """Apply this business's retention rules (beat fans this out nightly). No retry: a failed or stopped
    run is recorded, and the next night's run finishes its work."""
    record = services.retention_run(dry_run=dry_run)
    return record.counts if record is not None else None
