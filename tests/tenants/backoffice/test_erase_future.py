"""Erasing a customer first offers to cancel their appointments still to come (with or without a message),
so no nameless appointment keeps blocking a slot; the erasure then proceeds as before."""

from datetime import timedelta

import pytest
import time_machine
from django_tenants.utils import schema_context

from termino.tenants.crm.models import Consent, Customer
from termino.tenants.notifications import services as outbox
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import Allocation, Appointment
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = pytest.mark.django_db


@pytest.fixture
def lena(business_a):
    """A customer with two appointments to come and one in the past."""
    with schema_context(business_a.schema):
        service, staff, _room = salon()
        customer = Customer.objects.create(first_name="Lena", last_name="Vogel", email="lena@example.com")
        Consent.objects.create(customer=customer, kind="privacy", granted=True, source="test")
        book = lambda start: lifecycle.appointment_book(  # noqa: E731
            actor=Actor(source="backoffice"),
            booking=scheduling.Booking(service=service, start=start, staff=staff[0]),
            customer=customer,
        )
        with time_machine.travel(next_monday() - timedelta(days=30), tick=True):
            past = book(next_monday() - timedelta(days=14))
        future = [book(next_monday()), book(next_monday() + timedelta(days=7))]
        OutboxMessage.objects.all().delete()  # the confirmations: not what this test is about
        return customer, past, future


def statuses(business, appointments) -> list[str]:
    with schema_context(business.schema):
        return [Appointment.objects.get(pk=a.pk).status for a in appointments]


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_erase_page_lists_the_appointments_to_come(business_a, lena, language):
    customer, _past, _future = lena
    page = log_in_as(business_a, language=language).get(f"/privacy/customers/{customer.pk}/erase/")
    html = page.content.decode()
    assert html.count("Haarschnitt") >= 2
    if language == "en":
        assert "This customer has 2 appointments still to come." in html
        assert "Cancel and tell the customer" in html and "Cancel without a message" in html
    else:
        assert "Diese Kundin oder dieser Kunde hat 2 künftige Termine." in html
        assert "Absagen und Bescheid geben" in html and "Ohne Nachricht absagen" in html


def test_cancel_with_a_message_then_erase(business_a, lena):
    customer, past, future = lena
    owner = log_in_as(business_a)
    response = owner.post(f"/privacy/customers/{customer.pk}/erase/cancel-future/", {"notify": "1"})
    assert response.status_code == 302 and response["Location"].endswith(f"/customers/{customer.pk}/erase/")
    assert statuses(business_a, future) == ["cancelled", "cancelled"]
    assert statuses(business_a, [past]) == ["confirmed"]  # the past is the books' business
    with schema_context(business_a.schema):
        assert OutboxMessage.objects.filter(kind="cancellation", recipient="lena@example.com").count() == 2
        assert outbox.outbox_send_due(tenant=business_a.tenant) == {"sent": 2}
        assert not Allocation.objects.filter(appointment__in=future, active=True).exists()  # slots free
    html = owner.get(f"/privacy/customers/{customer.pk}/erase/").content.decode()
    assert "still to come" not in html
    erased = owner.post(f"/privacy/customers/{customer.pk}/erase/", {"confirm_name": "Lena Vogel"})
    assert erased.status_code == 302
    with schema_context(business_a.schema):
        assert not Customer.objects.filter(pk=customer.pk).exists()
        assert not Appointment.objects.filter(
            customer__isnull=True, status="confirmed", start__gt=next_monday() - timedelta(days=1)
        ).exists()
        assert Appointment.objects.filter(pk__in=[a.pk for a in future], customer__isnull=True).count() == 2


def test_cancel_without_a_message(business_a, lena):
    customer, _past, future = lena
    log_in_as(business_a).post(f"/privacy/customers/{customer.pk}/erase/cancel-future/", {"notify": "0"})
    assert statuses(business_a, future) == ["cancelled", "cancelled"]
    with schema_context(business_a.schema):
        assert not OutboxMessage.objects.filter(kind="cancellation").exists()


def test_staff_and_another_business_cannot_cancel(business_a, business_b, lena):
    customer, _past, future = lena
    assert log_in_as(business_a, "staff").post(
        f"/privacy/customers/{customer.pk}/erase/cancel-future/", {"notify": "0"}
    ).status_code in (403, 404)
    assert (
        log_in_as(business_b)
        .post(f"/privacy/customers/{customer.pk}/erase/cancel-future/", {"notify": "0"})
        .status_code
        == 404
    )
    assert statuses(business_a, future) == ["confirmed", "confirmed"]
