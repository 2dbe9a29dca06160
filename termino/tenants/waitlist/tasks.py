from celery import shared_task

from termino.shared.tasks import TenantTask

from .due import expiry_due, next_due
from .services import offers_match


@shared_task(base=TenantTask, name="waitlist.match", ignore_result=True)
def match(*, schema_name: str) -> int:
    """Offer the times that have become free to the waitlist (queued after a commit that may have freed
    some; beat's dispatcher runs the same work through `duework.run`)."""
    made = len(offers_match())
    if (at := next_due()) is not None:
        expiry_due(at)
    return made
