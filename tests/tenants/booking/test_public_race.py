"""Concurrent online bookings of one slot, over real connections (committed, no per-test transaction)."""

import threading

from django.db import connection
from django_tenants.utils import schema_context

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
