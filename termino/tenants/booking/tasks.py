from celery import shared_task

from termino.shared.tasks import TenantTask
from termino.tenants.scheduling.services import holds_release_expired


@shared_task(base=TenantTask, name="booking.release_expired_holds", ignore_result=True)
def release_expired_holds(*, schema_name: str) -> int:
    """Delete lapsed slot holds of one business (bookings also do it on the resources they touch)."""
    return holds_release_expired()
