"""What a change puts in the webhooks' outbox: one delivery per subscribed active endpoint, written in the
transaction of the change (subscribed to the scheduling lifecycle's and crm's events), so a delivery
exists exactly when the change committed. After the commit a worker is asked to send at once; the due
index (`due.py`) is the safety net and carries the retries.

Personal data stays minimal: appointments name their customer by id only; a customer's name and contact
travel in customer.created/updated, and an erasure rewrites every stored delivery about that customer to
its id (`customer.erased` itself carries nothing else).
"""

import uuid
from functools import partial

from django.db import connection, transaction

from termino.shared import request_memo, timeutils
from termino.tenants.crm import events as crm_events
from termino.tenants.scheduling import events as scheduling_events

from . import payloads
from .due import deliveries_due
from .models import Delivery, Endpoint, EventType

request_memo.forget_on_change("webhooks.endpoints", Endpoint)

APPOINTMENT_EVENTS = {
    scheduling_events.CREATED: EventType.APPOINTMENT_CREATED,
    scheduling_events.REQUESTED: EventType.APPOINTMENT_REQUESTED,
    scheduling_events.CONFIRMED: EventType.APPOINTMENT_CONFIRMED,
    scheduling_events.DECLINED: EventType.APPOINTMENT_DECLINED,
    scheduling_events.MOVED: EventType.APPOINTMENT_MOVED,
    scheduling_events.RESIZED: EventType.APPOINTMENT_MOVED,  # a new end is a new time, too
    scheduling_events.CANCELLED: EventType.APPOINTMENT_CANCELLED,
    scheduling_events.NO_SHOW: EventType.APPOINTMENT_NO_SHOW,
    scheduling_events.COMPLETED: EventType.APPOINTMENT_COMPLETED,
}
CUSTOMER_EVENTS = {
    crm_events.CREATED: EventType.CUSTOMER_CREATED,
    crm_events.UPDATED: EventType.CUSTOMER_UPDATED,
    crm_events.ERASED: EventType.CUSTOMER_ERASED,
}


def _kick(schema: str) -> None:
    from .tasks import deliver  # the task module imports the sending code, which imports this module

    deliver.delay(schema_name=schema)


def kick_after_commit() -> None:
    """Once committed, a worker sends this business's due deliveries at once (not waiting for beat)."""
    transaction.on_commit(partial(_kick, connection.schema_name), robust=True)


def deliveries_record(*, event: str, subject: str, data: dict) -> list[Delivery]:
    """A delivery of `event` for every active endpoint that wants it (inside the change's transaction)."""
    # Read once per request: a booking records a customer event and an appointment event.
    active = request_memo.remembered("webhooks.endpoints", lambda: list(Endpoint.objects.filter(active=True)))
    endpoints = [endpoint for endpoint in active if event in endpoint.events]
    if not endpoints:
        return []
    now = timeutils.now()
    give_up = timeutils.shift(now, days=payloads.retry_days())
    rows = Delivery.objects.bulk_create(
        Delivery(
            uid=uuid.uuid4(),
            endpoint=endpoint,
            event=event,
            subject=subject,
            payload=data,
            occurred_at=now,
            next_attempt_at=now,
            give_up_at=give_up,
        )
        for endpoint in endpoints
    )
    deliveries_due(now)
    kick_after_commit()
    return rows


def on_appointment_event(event: scheduling_events.AppointmentEvent) -> None:
    kind = APPOINTMENT_EVENTS.get(event.kind)
    if kind is None:
        return
    appointment = event.appointment
    deliveries_record(
        event=kind, subject=f"appointment:{appointment.pk}", data=payloads.appointment_data(event)
    )


def on_customer_event(event: crm_events.CustomerEvent) -> None:
    if event.kind == crm_events.ERASED:
        erased_forget(customer_id=event.customer_id)
    deliveries_record(
        event=CUSTOMER_EVENTS[event.kind],
        subject=f"customer:{event.customer_id}",
        data=payloads.customer_data(event),
    )


def erased_forget(*, customer_id: int) -> int:
    """Every stored delivery about the customer keeps only their id (sent ones too: the log is no copy);
    their appointments' deliveries no longer name them, as the appointments themselves no longer do."""
    changed = Delivery.objects.filter(subject=f"customer:{customer_id}").update(
        payload=payloads.customer_stub(customer_id)
    )
    for delivery in Delivery.objects.filter(
        subject__startswith="appointment:", payload__appointment__customer_id=customer_id
    ):
        delivery.payload["appointment"]["customer_id"] = None
        delivery.save(update_fields=["payload"])
        changed += 1
    return changed


def subscribe() -> None:
    scheduling_events.subscribe(on_appointment_event)
    crm_events.subscribe(on_customer_event)
