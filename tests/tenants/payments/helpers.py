from datetime import time

from django_tenants.utils import schema_context

from termino.tenants.payments.models import Payment
from termino.tenants.scheduling.models import Appointment
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday


def book(business, service, at=time(10), **overrides):
    """Book online (the public API); returns the JSON answer."""
    response = public_post(business.host, "bookings/", booking_body(service, next_monday(at), **overrides))
    assert response.status_code == 201, response.content
    return response.json()


def payment_of(business, token: str) -> Payment:
    with schema_context(business.schema):
        return Payment.objects.get(token=token)


def appointment(business, pk: int) -> Appointment | None:
    with schema_context(business.schema):
        return Appointment.objects.filter(pk=pk).first()


def manage_token(business, payment_token: str) -> str:
    with schema_context(business.schema):
        return Payment.objects.select_related("appointment").get(token=payment_token).appointment.manage_token


def pay(fake, business, payment_token: str) -> None:
    from .conftest import deliver

    deliver(fake, *fake.pay_checkout(payment_of(business, payment_token).checkout_session_id))
