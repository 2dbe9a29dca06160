"""Concurrent online bookings over real connections (committed, no per-test transaction): of one slot, and
by one new person."""

import threading
from datetime import time

from django.db import connection
from django_tenants.utils import schema_context

from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm.models import Customer, DuplicateSuspicion
from termino.tenants.scheduling.models import Appointment
from tests.tenants.scheduling.factories import next_monday, salon

from .public_helpers import booking_body, public_post


def test_concurrent_bookings_of_one_slot_give_one_201(committed_db):
    business = committed_db("t-public-race")
    with schema_context(business.schema):
        service, _staff, _room = salon(staff_count=1)
    connection.set_schema_to_public()
    start = next_monday()
    contenders = 8
    barrier = threading.Barrier(contenders)
    codes: list[int] = []

    def attempt(n: int) -> None:
        try:
            body = booking_body(service, start, email=f"kunde{n}@example.com", phone="", sms_consent=False)
            barrier.wait()
            codes.append(public_post(business.host, "bookings/", body, REMOTE_ADDR=f"10.0.0.{n}").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(codes) == [201] + [409] * (contenders - 1)
    with schema_context(business.schema):
        assert Appointment.objects.count() == 1


def test_concurrent_bookings_with_the_same_new_address_make_one_customer(committed_db, settings):
    """Bookings by one new person at the same moment (two tabs, a double submit on two devices) must not
    create the person twice: the contact data is locked while the customer is looked up or created."""
    # Six bookings texting one number: more than the per-phone SMS limit (tested on its own) allows.
    settings.PUBLIC_RATE_LIMITS = {**settings.PUBLIC_RATE_LIMITS, "public_sms_phone": "50/hour"}
    business = committed_db("t-public-same-person")
    with schema_context(business.schema):
        service, _staff, _room = salon(staff_count=1)
        BusinessSettings.objects.update_or_create(id=1, defaults={"max_open_bookings": 20})
    connection.set_schema_to_public()
    contenders = 6
    barrier = threading.Barrier(contenders)
    codes: list[int] = []

    def attempt(n: int) -> None:
        try:
            start = next_monday(time(9 + n))  # a slot each: only the customer is shared
            body = booking_body(service, start, email="Neu@Example.com", phone="0170 7654321")
            barrier.wait()
            codes.append(public_post(business.host, "bookings/", body, REMOTE_ADDR=f"10.0.1.{n}").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert codes == [201] * contenders
    with schema_context(business.schema):
        (customer,) = Customer.objects.all()
        assert (customer.email, customer.phone) == ("neu@example.com", "+491707654321")
        assert Appointment.objects.filter(customer=customer).count() == contenders
        assert not DuplicateSuspicion.objects.exists()
