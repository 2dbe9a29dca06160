from celery import shared_task

from . import services


@shared_task(name="billing.suspend_overdue", acks_late=True, ignore_result=True)
def suspend_overdue() -> int:
    """Suspend businesses whose trial or grace period is over (beat, every few minutes). Runs in `public`."""
    return services.billing_overdue_suspend()
