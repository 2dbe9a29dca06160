"""An appointment's history: one row per lifecycle change, written with the change, read through the API."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.accounts.services import api_token_create
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import lifecycle, services
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import AppointmentChange
from tests.conftest import client_for

from .factories import next_monday, salon

pytestmark = pytest.mark.django_db
DESK = Actor(source="backoffice")


@pytest.fixture
def shop(business_a):
    with schema_context(business_a.schema):
        service, staff, _room = salon()
        customer = Customer.objects.create(first_name="Lena", last_name="Vogel", email="lena@example.com")
        yield service, staff, customer


def book(service, staff, customer, start=None, **kwargs):
    return lifecycle.appointment_book(
        actor=kwargs.pop("actor", DESK),
        booking=services.Booking(service=service, start=start or next_monday(), staff=staff),
        customer=customer,
        **kwargs,
    )


def test_every_change_is_one_line_with_before_and_after(business_a, shop):
    service, staff, customer = shop
    owner = get_user_model().objects.get(username=business_a.owner_username)
    appointment = book(service, staff[0], customer, status="requested", actor=Actor("api", owner))
    lifecycle.appointment_confirm(actor=DESK, appointment=appointment)
    later = appointment.start + timedelta(hours=2)
    lifecycle.appointment_move(actor=DESK, appointment=appointment, start=later, staff=staff[1])
    lifecycle.appointment_cancel(actor=Actor("widget"), appointment=appointment, reason="krank")
    changes = list(AppointmentChange.objects.filter(appointment=appointment))
    assert [(c.kind, c.source) for c in changes] == [
        ("requested", "api"),
        ("confirmed", "backoffice"),
        ("moved", "backoffice"),
        ("cancelled", "widget"),
    ]
    created, _confirmed, moved, cancelled = changes
    assert created.before is None and created.changed_by == owner
    assert created.after == {
        "start": next_monday().astimezone(UTC).isoformat(),
        "end": (next_monday() + timedelta(minutes=30)).astimezone(UTC).isoformat(),
        "status": "requested",
        "resources": [staff[0].pk],
    }
    assert moved.before["resources"] == [staff[0].pk] and moved.after["resources"] == [staff[1].pk]
    assert datetime.fromisoformat(moved.after["start"]) == later
    assert cancelled.reason == "krank" and cancelled.changed_by is None
    assert all(c.at <= timeutils.now() for c in changes)


def test_a_change_rolled_back_leaves_no_line(shop):
    service, staff, customer = shop
    appointment = book(service, staff[0], customer)
    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.appointment_cancel(actor=DESK, appointment=appointment)
        raise RuntimeError
    assert list(AppointmentChange.objects.values_list("kind", flat=True)) == ["created"]


def test_erasing_the_customer_clears_the_reasons(shop):
    service, staff, customer = shop
    appointment = book(service, staff[0], customer)
    lifecycle.appointment_cancel(actor=DESK, appointment=appointment, reason="Frau Vogel ist krank")
    lifecycle.appointments_anonymise(actor=DESK, appointment_ids=[appointment.pk], changed_at=timeutils.now())
    changes = AppointmentChange.objects.filter(appointment=appointment)
    assert [c.kind for c in changes] == ["created", "cancelled", "anonymised"]
    assert {c.reason for c in changes} == {""}


def test_the_staff_api_reads_the_history_and_another_business_cannot(business_a, business_b, shop):
    service, staff, customer = shop
    appointment = book(service, staff[0], customer)
    lifecycle.appointment_resize(actor=DESK, appointment=appointment, minutes=45)
    owner = get_user_model().objects.get(username=business_a.owner_username)
    client = client_for(business_a.host, "en")
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {api_token_create(user=owner, name='t').key}"
    answer = client.get(f"/api/v1/appointments/{appointment.pk}/history/")
    assert answer.status_code == 200
    assert [(c["kind"], c["before"] and c["before"]["end"], c["after"]["end"]) for c in answer.json()] == [
        ("created", None, (next_monday() + timedelta(minutes=30)).isoformat()),
        (
            "resized",
            (next_monday() + timedelta(minutes=30)).isoformat(),
            (next_monday() + timedelta(minutes=45)).isoformat(),
        ),
    ]
    with schema_context(business_b.schema):
        other = get_user_model().objects.get(username=business_b.owner_username)
        token_b = api_token_create(user=other, name="B").key
    client_b = client_for(business_b.host, "en")
    client_b.defaults["HTTP_AUTHORIZATION"] = f"Token {token_b}"
    assert client_b.get(f"/api/v1/appointments/{appointment.pk}/history/").status_code == 404
