from celery import shared_task

from termino.shared.tasks import TenantTask

from . import dispatch


@shared_task(name="duework.dispatch", acks_late=True, ignore_result=True)
def dispatch_due() -> int:
    """Beat, every 30 s: one run per business and kind whose time has come. Runs in `public`."""
    return len(dispatch.due_dispatch())


@shared_task(base=TenantTask, name="duework.run", ignore_result=True)
def run(*, schema_name: str, kind: str, claimed: int | None = None) -> object:
    """One kind of due work in one business, then its next due time into the index."""
    return dispatch.due_run(kind=kind, claimed=claimed)


@shared_task(base=TenantTask, name="duework.repair", ignore_result=True)
def repair(*, schema_name: str) -> dict:
    """The hourly sweep's visit to one business (beat fans it out): every kind's next due time."""
    return dispatch.due_repair()
