"""Builders for webhook tests, inside one business's schema (the caller sets it)."""

from termino.tenants.crm.services import customer_create
from termino.tenants.scheduling import lifecycle, services
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import AppointmentSource
from termino.tenants.webhooks import services as webhooks
from termino.tenants.webhooks.models import EventType
from tests.tenants.scheduling.factories import next_monday, salon

DESK = Actor(source=AppointmentSource.BACKOFFICE)


def endpoint(url: str, events=None):
    return webhooks.endpoint_create(url=url, events=events or EventType.values, description="CRM")


def booking(**kwargs):
    service, (staff, *_), _room = salon()
    customer = customer_create(first_name="Erika", last_name="Muster", email="erika@example.org")
    appointment = lifecycle.appointment_book(
        actor=DESK,
        booking=services.Booking(service=service, start=kwargs.get("start") or next_monday(), staff=staff),
        customer=customer,
    )
    return appointment, customer
