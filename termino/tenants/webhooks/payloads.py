"""The JSON a delivery carries. Its body: {"id", "type", "created", "data"}; `data` is built here when the
event happens and stored with the delivery, so a retry sends what was true then."""

import json

from django.conf import settings

from termino.tenants.crm import events as crm_events
from termino.tenants.scheduling import events as scheduling_events


def retry_days() -> int:
    return settings.WEBHOOKS_RETRY_DAYS


def _instant(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _snapshot(snapshot: scheduling_events.Snapshot) -> dict:
    return {
        "start": _instant(snapshot.start),
        "end": _instant(snapshot.end),
        "status": snapshot.status,
        "resource_ids": list(snapshot.resource_ids),
    }


def appointment_data(event: scheduling_events.AppointmentEvent) -> dict:
    """The appointment as it is after the change (and, for a move, as it was); the customer by id only."""
    appointment = event.appointment
    data = {
        "appointment": {
            "id": appointment.pk,
            "service_id": appointment.service_id,
            "service_name": appointment.service.name,
            "customer_id": appointment.customer_id,
            "source": appointment.source,
            "price": str(appointment.price),
            **_snapshot(event.after),
        }
    }
    if event.before is not None:
        data["previous"] = _snapshot(event.before)
    return data


def customer_stub(customer_id: int) -> dict:
    return {"customer": {"id": customer_id}}


def customer_data(event: crm_events.CustomerEvent) -> dict:
    customer = event.customer
    if event.kind == crm_events.ERASED or customer is None:
        return customer_stub(event.customer_id)
    return {
        "customer": {
            "id": customer.pk,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "email": customer.email,
            "phone": customer.phone,
        }
    }


def body(*, delivery) -> bytes:
    """The request body of a delivery: the same bytes on every attempt."""
    document = {
        "id": str(delivery.uid),
        "type": delivery.event,
        "created": _instant(delivery.occurred_at),
        "data": delivery.payload,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
