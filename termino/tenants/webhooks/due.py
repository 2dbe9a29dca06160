"""Deliveries as due work (`termino.platform.duework`): beat's dispatcher visits a business only when one of
its deliveries is due (a retry after its back-off, one held back behind an earlier one now free, or one left
in `sending` by a worker that died)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min

from termino.platform.duework import due

from .models import Delivery, DeliveryStatus
from .selectors import sendable

KIND = "webhooks.deliveries"


def deliveries_due(at: datetime) -> None:
    due.mark(KIND, at)


def deliveries_next_due() -> datetime | None:
    queued = sendable().aggregate(at=Min("next_attempt_at"))["at"]
    stuck = Delivery.objects.filter(status=DeliveryStatus.SENDING).aggregate(at=Min("last_attempt_at"))["at"]
    if stuck is not None:
        stuck += timedelta(seconds=settings.WEBHOOKS_STUCK_AFTER_SECONDS)
    return min((at for at in (queued, stuck) if at is not None), default=None)


def deliveries_run() -> dict:
    from .delivery import deliveries_send_due

    return deliveries_send_due()


def register() -> None:
    due.register(KIND, run=deliveries_run, next_due=deliveries_next_due)
