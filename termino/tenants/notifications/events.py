"""What an appointment's changes put in the outbox: the customer's messages, subscribed to the scheduling
lifecycle's events (`termino.tenants.scheduling.events`); no caller queues a message itself.

- In the writing transaction (`on_appointment_event`): outbox rows for the customer — a confirmation, a
  "request received", a "confirmed" after approval, a "declined" with the business's reason, a change,
  a cancellation — and reminders at the business's lead times. They commit with the change or not at all.
- In the same transaction, `team.on_appointment_event`: the business's own notice when a customer books,
  moves or cancels online.
- Once committed (`due.outbox_queue_once`): a message due now goes to a worker at once, so a
  confirmation does not wait for beat; every queued row is also marked in the due index
  (`termino.platform.duework`), whose dispatcher visits the business when a message is due (reminders),
  and the outbox's row claim (SELECT … FOR UPDATE SKIP LOCKED) keeps it to one message when both race.

Send times live in the database (the outbox's `due_at`), never in Celery countdowns. Nothing is queued for a
customer without the matching consent (e-mail needs the privacy notice accepted, SMS the SMS consent) or
whose processing is restricted. Reminders of a time that no longer holds (moved, cancelled) are deleted
while still unsent: they never happened, so the message log shows no "skipped" rows for them.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.tenants.business.selectors import business_settings
from termino.tenants.crm import selectors as crm_selectors
from termino.tenants.scheduling import events
from termino.tenants.scheduling.models import Appointment, AppointmentStatus

from .due import outbox_queue_once
from .models import Channel, MessageKind, MessageStatus, OutboxMessage


def _recipients(customer) -> list[tuple[str, str]]:
    if customer is None or customer.processing_restricted:
        return []
    consents = crm_selectors.consents_latest([customer.pk]).get(customer.pk, {})
    recipients = []
    if customer.email and crm_selectors.consent_allows(consents, Channel.EMAIL):
        recipients.append((Channel.EMAIL, customer.email))
    if customer.phone and crm_selectors.consent_allows(consents, Channel.SMS):
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
    outbox_queue_once(
        OutboxMessage(
            idempotency_key=key,
            channel=channel,
            kind=kind,
            recipient=recipient,
            appointment=appointment,
            customer=appointment.customer,
            due_at=due_at,
        )
    )


def _tell(appointment, kind: str, key: str, recipients: list[tuple[str, str]] | None = None) -> None:
    """A message of `kind` about `appointment` now, on every channel the customer agreed to (`recipients`,
    when the caller has read them already)."""
    if recipients is None:
        recipients = _recipients(appointment.customer)
    for channel, recipient in recipients:
        _queue(appointment, kind, channel, recipient, timeutils.now(), f"{key}:{channel}")


def _queue_reminders(appointment, recipients: list[tuple[str, str]] | None = None) -> None:
    rules = business_settings()
    now = timeutils.now()
    zone = ZoneInfo(current_business().time_zone)
    if recipients is None:
        recipients = _recipients(appointment.customer)
    for channel, recipient in recipients:
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


def _drop_pending_reminders(appointment) -> int:
    """Unsent reminders of a time that no longer holds: deleted, they were never sent."""
    deleted, _rows = OutboxMessage.objects.filter(
        appointment=appointment, kind=MessageKind.REMINDER, status=MessageStatus.QUEUED
    ).delete()
    return deleted


SERIES_EVENTS = (events.CREATED, events.MOVED, events.CANCELLED)


def _on_series_event(event: events.AppointmentEvent) -> None:
    """An occurrence booked, moved or cancelled together with others of its series: one message for all of
    them (keyed by the series and its revision, so the first occurrence queues it and the rest find it);
    reminders stay per occurrence."""
    appointment = event.appointment
    series, revision = event.extra["series"], event.extra.get("series_revision", 0)
    if event.kind == events.CREATED:
        _tell(appointment, MessageKind.SERIES, f"series:{series}")
        _queue_reminders(appointment)
        return
    _drop_pending_reminders(appointment)
    if event.kind == events.MOVED and appointment.status == AppointmentStatus.CONFIRMED:
        _queue_reminders(appointment)
    if event.notify:
        _tell(appointment, MessageKind.SERIES_CHANGE, f"series-change:{series}:{revision}")


def _speaks_for_its_visit(appointment) -> bool:
    """True for an appointment on its own and for the lead (earliest) appointment of a visit."""
    if appointment.visit_id is None:
        return True
    lead = (
        Appointment.objects.filter(visit_id=appointment.visit_id)
        .order_by("start", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    return lead == appointment.pk


def _on_series_request(event: events.AppointmentEvent) -> bool:
    """A series requested online (a course, waiting for the business's approval): one "request received"
    for all of it, and once approved one series message with every date; reminders per occurrence. True
    when the event was handled here."""
    appointment = event.appointment
    series = event.extra.get("series") or appointment.series_id
    if series is None:
        return False
    if event.kind == events.REQUESTED:
        _tell(appointment, MessageKind.REQUEST, f"series-request:{series}")
        return True
    if event.kind == events.CONFIRMED and event.before is not None:
        if event.before.status == AppointmentStatus.REQUESTED:
            # Told about the appointment with the manage link (the first), whichever is approved first.
            lead = (
                Appointment.objects.filter(series_id=series, manage_token__isnull=False)
                .select_related("service", "customer")
                .first()
            )
            _tell(lead or appointment, MessageKind.SERIES, f"series:{series}")
            _queue_reminders(appointment)
        return True
    return False


def on_appointment_event(event: events.AppointmentEvent) -> None:
    """Subscribed in the lifecycle's transaction: the customer's messages of this change."""
    appointment = event.appointment
    if event.extra.get("series") is not None and event.kind in SERIES_EVENTS:
        _on_series_event(event)
        return
    if _on_series_request(event):
        return
    if not _speaks_for_its_visit(appointment):
        return  # a visit is one booking: its lead's messages (and reminders) speak for all of it
    pk, start = appointment.pk, appointment.start.isoformat()
    if event.kind == events.CREATED:
        recipients = _recipients(appointment.customer)  # one read of the consents for both
        _tell(appointment, MessageKind.CONFIRMATION, f"confirmation:{pk}", recipients)
        _queue_reminders(appointment, recipients)
    elif event.kind == events.REQUESTED:
        _tell(appointment, MessageKind.REQUEST, f"request:{pk}")
    elif event.kind == events.CONFIRMED:
        if event.before is not None and event.before.status == AppointmentStatus.REQUESTED:
            recipients = _recipients(appointment.customer)
            _tell(appointment, MessageKind.CONFIRMATION, f"confirmation:{pk}", recipients)
            _queue_reminders(appointment, recipients)
    elif event.kind == events.DECLINED:
        _tell(appointment, MessageKind.DECLINED, f"declined:{pk}")
    elif event.kind in (events.MOVED, events.RESIZED):
        _drop_pending_reminders(appointment)
        _tell(appointment, MessageKind.CHANGE, f"change:{pk}:{start}:{appointment.end.isoformat()}")
        if appointment.status == AppointmentStatus.CONFIRMED:
            _queue_reminders(appointment)
    elif event.kind == events.CANCELLED:
        _drop_pending_reminders(appointment)
        if event.notify:
            _tell(appointment, MessageKind.CANCELLATION, f"cancellation:{pk}")


def subscribe() -> None:
    """Called by the app's ready(): notifications listen to scheduling, scheduling knows nothing of them."""
    from . import team

    events.subscribe(on_appointment_event)
    events.subscribe(team.on_appointment_event)  # the team hears of what customers do online
