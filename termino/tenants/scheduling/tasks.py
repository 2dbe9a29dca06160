from celery import shared_task

from termino.shared.tasks import TenantTask

from .due import completion_run


@shared_task(base=TenantTask, name="scheduling.complete_past", ignore_result=True)
def complete_past(*, schema_name: str) -> int:
    """Confirmed appointments of days that have ended become completed, unless the business turned it off.
    Beat's due-work dispatcher runs the same (`scheduling.completion`); safe to run twice at once: each
    appointment is completed by one run."""
    return completion_run()
