"""Sending the outbox, at most once per row.

A worker claims due rows with `FOR UPDATE SKIP LOCKED` and marks them `sending` in one short transaction,
so two workers never take the same row. The provider's id is stored as soon as the gateway accepts a
message, and a row that has one is never sent again. A row left in `sending` by a worker that died is not
sent again either (the provider may have accepted it): `outbox_reconcile` marks it failed with a reason
staff can see and act on.
"""

import logging
from datetime import timedelta

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from termino.platform.tenancy.routing import primary_url
from termino.shared.sms.gateways import (
    PermanentSmsError,
    SmsGateway,
    TemporarySmsError,
    gateway_from_settings,
)
from termino.tenants.booking.calendar import booking_ics

from . import rendering
from .models import Channel, MessageStatus, OutboxMessage

logger = logging.getLogger(__name__)

CLAIM_BATCH = 50
MAX_ATTEMPTS = 5
STUCK_AFTER = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … between attempts after temporary gateway errors."""
    return timedelta(seconds=30 * 2 ** max(attempts - 1, 0))


def outbox_claim(*, limit: int = CLAIM_BATCH) -> list[int]:
    """Take up to `limit` due messages for this worker; concurrent workers get disjoint rows."""
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.QUEUED, due_at__lte=timezone.now())
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=MessageStatus.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
        )
    return ids


def outbox_deliver(*, message_id: int, tenant, sms: SmsGateway | None = None) -> str:
    """Send one claimed message; returns its new status."""
    message = OutboxMessage.objects.select_related("appointment__service", "customer").get(pk=message_id)
    if message.status != MessageStatus.SENDING:
        return message.status
    if message.provider_message_id:  # accepted before, bookkeeping interrupted: never twice
        return _finish(message, MessageStatus.SENT)
    subject, body = rendering.render(message, tenant=tenant)
    try:
        if message.channel == Channel.SMS:
            result = (sms or gateway_from_settings()).send(
                sender_id=_sender_id(tenant),
                phone=message.recipient,
                text=body,
                callback_data=f"{tenant.schema_name}|{message.idempotency_key}",
            )
            provider_id = result.provider_id
        else:
            provider_id = _send_email(message, tenant=tenant, subject=subject, body=body)
    except PermanentSmsError as exc:
        return _finish(message, MessageStatus.FAILED, reason=exc.reason, text=body)
    except (TemporarySmsError, OSError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        if message.attempts >= MAX_ATTEMPTS:
            return _finish(
                message, MessageStatus.FAILED, reason=f"gave up after {message.attempts} attempts: {reason}"
            )
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=MessageStatus.QUEUED, reason=reason, due_at=timezone.now() + backoff(message.attempts)
        )
        return MessageStatus.QUEUED
    return _finish(message, MessageStatus.SENT, provider_id=provider_id, text=body)


def _finish(message, status: str, *, reason: str = "", provider_id: str = "", text: str | None = None) -> str:
    fields = {"status": status, "reason": reason[:500], "updated_at": timezone.now()}
    if provider_id:
        fields["provider_message_id"] = provider_id
    if text is not None:
        fields["text"] = text
    OutboxMessage.objects.filter(pk=message.pk).update(**fields)
    return status


def _sender_id(tenant) -> str:
    """Up to 11 letters and digits: what the recipient's phone shows as the sender."""
    cleaned = "".join(ch for ch in tenant.name if ch.isascii() and (ch.isalnum() or ch == " ")).strip()
    return (cleaned or "Termino")[:11].strip()


def _send_email(message, *, tenant, subject: str, body: str) -> str:
    email = EmailMessage(subject=subject, body=body, to=[message.recipient])
    appointment = message.appointment
    if appointment is not None and appointment.manage_token:
        manage_url = primary_url(tenant, f"/book/manage/{appointment.manage_token}/")
        email.attach(
            "termin.ics",
            booking_ics(appointment=appointment, tenant=tenant, manage_url=manage_url),
            "text/calendar",
        )
    email.extra_headers["X-Termino-Message"] = message.idempotency_key
    email.send()
    return f"email:{message.idempotency_key}"


def outbox_send_due(*, tenant, sms: SmsGateway | None = None) -> dict[str, int]:
    """Claim and send what is due in this business, batch after batch."""
    counts: dict[str, int] = {}
    sms = sms or gateway_from_settings()
    while ids := outbox_claim():
        for message_id in ids:
            status = outbox_deliver(message_id=message_id, tenant=tenant, sms=sms)
            counts[status] = counts.get(status, 0) + 1
    return counts


def outbox_reconcile(*, now=None) -> int:
    """Rows stuck in `sending` (the worker died mid-send): mark them failed instead of risking a double."""
    cutoff = (now or timezone.now()) - STUCK_AFTER
    return OutboxMessage.objects.filter(
        status=MessageStatus.SENDING, provider_message_id="", updated_at__lt=cutoff
    ).update(
        status=MessageStatus.FAILED,
        reason="The worker stopped while sending; the provider may have sent it. Check, then resend.",
    )


# LOX24 delivery codes → our status; "queued" and "en_route" leave a sent message as it is.
DELIVERY_STATUS = {
    "delivered": MessageStatus.DELIVERED,
    "expired": MessageStatus.FAILED,
    "rejected": MessageStatus.FAILED,
}


def delivery_report_apply(*, idempotency_key: str, provider_id: str, status: str, code: int) -> bool:
    """Record a delivery report on its outbox row (the caller is in the row's schema)."""
    new_status = DELIVERY_STATUS.get(status)
    if new_status is None:
        return False
    reason = "" if new_status == MessageStatus.DELIVERED else f"SMS {status} (delivery code {code})"
    return bool(
        OutboxMessage.objects.filter(idempotency_key=idempotency_key, provider_message_id=provider_id)
        .exclude(status=MessageStatus.DELIVERED)
        .update(status=new_status, reason=reason, updated_at=timezone.now())
    )
