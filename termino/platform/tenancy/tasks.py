from celery import shared_task

from . import services


@shared_task(name="tenancy.refill_schema_pool", acks_late=True, ignore_result=True)
def refill_schema_pool() -> int:
    """Top the warm pool up after signups (and every minute from beat). Runs in `public`."""
    return services.schema_pool_fill()
