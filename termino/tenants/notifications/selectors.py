"""Reads for the backoffice: the message log and the business's own message texts."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from termino.shared import timeutils

from .models import MessageTemplate, OutboxMessage


def outbox_list(*, time_zone: str, filters: dict | None = None) -> QuerySet[OutboxMessage]:
    """The message log, newest first. Filters: status, channel, kind, customer (id), and date_from /
    date_to (days in the business's time zone, both included, on the time a message is due)."""
    filters = filters or {}
    messages = OutboxMessage.objects.select_related("customer", "appointment__service", "requested_by")
    for field in ("status", "channel", "kind"):
        if filters.get(field):
            messages = messages.filter(**{field: filters[field]})
    if filters.get("customer"):
        messages = messages.filter(customer_id=filters["customer"])
    zone = ZoneInfo(time_zone)
    day_from: date | None = filters.get("date_from")
    day_to: date | None = filters.get("date_to")
    if day_from:
        messages = messages.filter(due_at__gte=timeutils.local_midnight(day_from, zone))
    if day_to:
        messages = messages.filter(due_at__lt=timeutils.local_midnight(day_to + timedelta(days=1), zone))
    return messages.order_by("-due_at", "-id")


def outbox_problem_count(*, since: datetime) -> int:
    """Failed messages due since `since`: what the settings overview points out."""
    return OutboxMessage.objects.filter(status="failed", due_at__gte=since).count()


def message_templates() -> dict[tuple[str, str], MessageTemplate]:
    """The business's own texts by (kind, channel)."""
    return {(t.kind, t.channel): t for t in MessageTemplate.objects.all()}
