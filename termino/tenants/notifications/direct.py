"""Messages to a customer about something other than a change of their appointment (a waitlist offer).

The caller writes the words when queueing (the row keeps them: `models.WRITTEN_KINDS`). Everything else is
as for every customer message: nothing is queued for a restricted customer or without consent for the
channel, both are checked again when the message is sent, an SMS waits for the end of the business's quiet
hours, and the SMS limits (countries, daily cap, monthly allowance) hold where SMS leave the outbox.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.db import connection, transaction

from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.tenants.business.selectors import business_settings

from .due import outbox_due
from .events import _recipients, outside_quiet_hours
from .models import Channel, OutboxMessage
from .services import send_soon


@dataclass(frozen=True)
class Written:
    subject: str
    email: str
    sms: str


def customer_channels(customer) -> list[tuple[str, str]]:
    """(channel, recipient) the customer may be written to now: their consents, not restricted."""
    return _recipients(customer)


def first_contact(customer) -> datetime | None:
    """When a message queued now would first reach the customer (an SMS only after the quiet hours);
    None when no channel is open."""
    times = [_due(channel) for channel, _recipient in customer_channels(customer)]
    return min(times, default=None)


def _due(channel: str) -> datetime:
    now = timeutils.now()
    if channel != Channel.SMS:
        return now
    rules = business_settings()
    zone = timeutils.zone(current_business().time_zone)
    return outside_quiet_hours(
        now, zone=zone, start_hour=rules.quiet_hours_start, end_hour=rules.quiet_hours_end
    )


def customer_message_queue(*, customer, kind: str, key: str, text: Written) -> dict[str, datetime]:
    """Queue `text` on every channel the customer agreed to, once per `key` and channel (idempotent).

    Returns {channel: due time}; a message due now is handed to a worker once the transaction commits."""
    queued: dict[str, datetime] = {}
    for channel, recipient in customer_channels(customer):
        due_at = _due(channel)
        message, created = OutboxMessage.objects.get_or_create(
            idempotency_key=f"{key}:{channel}",
            defaults={
                "channel": channel,
                "kind": kind,
                "recipient": recipient,
                "customer": customer,
                "due_at": due_at,
                "subject": " ".join(text.subject.split())[:200] if channel == Channel.EMAIL else "",
                "text": text.email if channel == Channel.EMAIL else text.sms,
            },
        )
        queued[channel] = message.due_at
        if created:
            outbox_due(due_at)
    if any(at <= timeutils.now() for at in queued.values()):
        transaction.on_commit(partial(send_soon, schema_name=connection.schema_name), robust=True)
    return queued
