from celery import shared_task

from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.shared.tasks import TenantTask
from termino.tenants.business.selectors import business_settings

from . import lifecycle


@shared_task(base=TenantTask, name="scheduling.complete_past", ignore_result=True)
def complete_past(*, schema_name: str) -> int:
    """Confirmed appointments of days that have ended become completed (beat fans this out hourly), unless
    the business turned it off. Safe to run twice at once: each appointment is completed by one run."""
    if not business_settings().auto_complete:
        return 0
    zone = timeutils.zone(current_business().time_zone)
    total = 0
    while done := lifecycle.appointments_complete_past(zone=zone):
        total += done
    return total
