"""What an appointment's changes put in the outbox: confirmations, changes, cancellations, reminders.

Send times live in the database (the outbox's `due_at`), never in Celery countdowns. Nothing is queued for a
customer without the matching consent (e-mail needs the privacy notice accepted, SMS the SMS consent) or
whose processing is restricted.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from termino.shared import timeutils
from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm.models import Consent, ConsentKind

from .models import Channel, MessageKind, MessageStatus, OutboxMessage


def _consents(customer) -> dict[str, bool]:
    """The latest decision per consent kind."""
    latest: dict[str, bool] = {}
    for kind, granted in (
        Consent.objects.filter(customer=customer).order_by("recorded_at", "pk").values_list("kind", "granted")
    ):
        latest[kind] = granted
    return latest


def _recipients(customer) -> list[tuple[str, str]]:
    if customer is None or customer.processing_restricted:
        return []
    consents = _consents(customer)
    recipients = []
    if customer.email and consents.get(ConsentKind.PRIVACY):
        recipients.append((Channel.EMAIL, customer.email))
    if customer.phone and consents.get(ConsentKind.SMS_REMINDERS):
        recipients.append((Channel.SMS, customer.phone))
    return recipients


def outside_quiet_hours(moment: datetime, *, zone: ZoneInfo, start_hour: int, end_hour: int) -> datetime:
    """`moment`, or the end of the quiet hours it falls into (local time, e.g. 21:00–08:00)."""
    local = moment.astimezone(zone)
    if start_hour == end_hour:
        return moment
    hour = local.hour
    quiet = (
        (hour >= start_hour or hour < end_hour) if start_hour > end_hour else (start_hour <= hour < end_hour)
    )
    if not quiet:
        return moment
    day = local.date() + timedelta(days=1) if start_hour > end_hour and hour >= start_hour else local.date()
    return timeutils.local_at(day, time(end_hour), zone)


def _queue(appointment, kind: str, channel: str, recipient: str, due_at: datetime, key: str) -> None:
    OutboxMessage.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "channel": channel,
            "kind": kind,
            "recipient": recipient,
            "appointment": appointment,
            "customer": appointment.customer,
            "due_at": due_at,
        },
    )


def appointment_booked(appointment, *, time_zone: str) -> None:
    """Confirmation now, reminders at the business's lead times (those already past are skipped)."""
    for channel, recipient in _recipients(appointment.customer):
        _queue(
            appointment,
            MessageKind.CONFIRMATION,
            channel,
            recipient,
            timezone.now(),
            f"confirmation:{appointment.pk}:{channel}",
        )
    _queue_reminders(appointment, time_zone=time_zone)


def appointment_moved(appointment, *, time_zone: str) -> None:
    """Pending reminders of the old time are dropped; a change message and new reminders are queued."""
    _skip_pending_reminders(appointment, reason="appointment moved")
    now = timezone.now()
    for channel, recipient in _recipients(appointment.customer):
        _queue(
            appointment,
            MessageKind.CHANGE,
            channel,
            recipient,
            now,
            f"change:{appointment.pk}:{appointment.start.isoformat()}:{channel}",
        )
    _queue_reminders(appointment, time_zone=time_zone)


def appointment_cancelled(appointment) -> None:
    _skip_pending_reminders(appointment, reason="appointment cancelled")
    for channel, recipient in _recipients(appointment.customer):
        _queue(
            appointment,
            MessageKind.CANCELLATION,
            channel,
            recipient,
            timezone.now(),
            f"cancellation:{appointment.pk}:{channel}",
        )


def _queue_reminders(appointment, *, time_zone: str) -> None:
    rules = BusinessSettings.current()
    now = timezone.now()
    zone = ZoneInfo(time_zone)
    for channel, recipient in _recipients(appointment.customer):
        for hours in rules.reminder_leads:
            due = timeutils.shift(appointment.start, hours=-hours)
            if channel == Channel.SMS:
                due = outside_quiet_hours(
                    due, zone=zone, start_hour=rules.quiet_hours_start, end_hour=rules.quiet_hours_end
                )
            if now < due < appointment.start:
                _queue(
                    appointment,
                    MessageKind.REMINDER,
                    channel,
                    recipient,
                    due,
                    f"reminder:{appointment.pk}:{appointment.start.isoformat()}:{hours}h:{channel}",
                )


def _skip_pending_reminders(appointment, *, reason: str) -> int:
    return OutboxMessage.objects.filter(
        appointment=appointment, kind=MessageKind.REMINDER, status=MessageStatus.QUEUED
    ).update(status=MessageStatus.SKIPPED, reason=reason)
