"""Reads of webhooks: endpoints, the delivery log, and which deliveries may go out now."""

from django.db.models import Exists, OuterRef, QuerySet

from .models import OPEN_STATUSES, Attempt, Delivery, DeliveryStatus, Endpoint


def sendable() -> QuerySet[Delivery]:
    """Pending deliveries of active endpoints that nothing holds back.

    The order rule: a delivery waits while an earlier one (lower id) of the same endpoint and subject — the
    same appointment or customer — is still pending or being sent. Deliveries are written in the change's
    transaction, and changes to one appointment or customer are serialised by its row lock, so id order is
    the order of the changes.
    """
    earlier_open = Delivery.objects.filter(
        endpoint=OuterRef("endpoint"),
        subject=OuterRef("subject"),
        pk__lt=OuterRef("pk"),
        status__in=OPEN_STATUSES,
    )
    return Delivery.objects.filter(status=DeliveryStatus.PENDING, endpoint__active=True).exclude(
        Exists(earlier_open)
    )


def endpoint_list() -> QuerySet[Endpoint]:
    return Endpoint.objects.order_by("created_at", "id")


MAX_ID = 2**63 - 1  # bigint: a larger id from a URL names nothing (instead of a database error)


def endpoint_get(endpoint_id: int) -> Endpoint | None:
    if not 0 < endpoint_id <= MAX_ID:
        return None
    return Endpoint.objects.filter(pk=endpoint_id).first()


def delivery_list(*, endpoint_id: int | None = None, status: str | None = None) -> QuerySet[Delivery]:
    rows = Delivery.objects.select_related("endpoint").order_by("-id")
    if endpoint_id is not None:
        rows = rows.filter(endpoint_id=endpoint_id)
    if status:
        rows = rows.filter(status=status)
    return rows


def delivery_get(delivery_id: int) -> Delivery | None:
    if not 0 < delivery_id <= MAX_ID:
        return None
    return Delivery.objects.select_related("endpoint").filter(pk=delivery_id).first()


def attempts_of(delivery: Delivery) -> QuerySet[Attempt]:
    return delivery.attempt_log.order_by("-at", "-id")
