from celery import shared_task

from . import services
from .fanout import fan_out


@shared_task(name="tenancy.refill_schema_pool", acks_late=True, ignore_result=True)
def refill_schema_pool() -> int:
    """Top the warm pool up after signups (and every minute from beat). Runs in `public`."""
    return services.schema_pool_fill()


@shared_task(name="tenancy.fan_out", acks_late=True, ignore_result=True)
def fan_out_task(task_name: str, **kwargs) -> int:
    """Enqueue `task_name` once per live business (beat calls this for per-business periodic work)."""
    return fan_out(task_name, **kwargs)


@shared_task(name="tenancy.remove_unconfirmed", acks_late=True, ignore_result=True)
def remove_unconfirmed() -> dict:
    """Hourly from beat: remove trial businesses whose owner never confirmed the e-mail address (warned a
    day before), each written to the platform log. Runs in `public`."""
    from .confirmation import unconfirmed_cleanup

    result = unconfirmed_cleanup()
    return {"warned": len(result.warned), "removed": len(result.removed)}
