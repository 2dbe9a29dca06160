"""Deliveries as due work (`termino.platform.duework`): beat's dispatcher visits a business only when one of
its deliveries is due (a retry after its back-off, one held back behind an earlier one now free, or one left
in `sending` by a worker that died)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min
from django.db.models.functions import Coalesce

from termino.platform.duework import due
from termino.shared import timeutils

from .models import SETTLED_STATUSES, Delivery, DeliveryStatus
from .selectors import sendable

KIND = "webhooks.deliveries"
# The delivery log's clean-up: settled deliveries go `WEBHOOKS_LOG_DAYS` after their last attempt. Never
# marked: the hourly sweep writes its next due time from `log_next_due`.
LOG_KIND = "webhooks.log"


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


def _settled():
    return Delivery.objects.filter(status__in=SETTLED_STATUSES).annotate(
        last_activity=Coalesce("last_attempt_at", "created_at")
    )


def log_next_due() -> datetime | None:
    oldest = _settled().aggregate(at=Min("last_activity"))["at"]
    return None if oldest is None else timeutils.shift(oldest, days=settings.WEBHOOKS_LOG_DAYS)


def log_purge() -> int:
    """Settled deliveries (and their attempts) whose last attempt is older than the log's period."""
    before = timeutils.shift(timeutils.now(), days=-settings.WEBHOOKS_LOG_DAYS)
    deleted, _by_model = Delivery.objects.filter(
        pk__in=_settled().filter(last_activity__lt=before).values("pk")
    ).delete()
    return deleted


def register() -> None:
    due.register(KIND, run=deliveries_run, next_due=deliveries_next_due)
    due.register(LOG_KIND, run=log_purge, next_due=log_next_due)
