"""What the public booking flow writes, statement by statement: every round trip is paid by each of the
customers booking at once (bench/booking_load.py), so a value is written with its row, not after it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from termino.tenants.scheduling.models import Appointment
from tests.tenants.scheduling.factories import next_monday, salon

from .public_helpers import aged_form_token, booking_body, public_post

pytestmark = pytest.mark.django_db


def statements(send):
    with CaptureQueriesContext(connection) as queries:
        response = send()
    return response, [q["sql"] or "" for q in queries]


def test_a_hold_and_its_booking_write_the_manage_link_with_the_row(business_a):
    with schema_context(business_a.schema):
        service, _staff, _room = salon(staff_count=1)
    start, token = next_monday(), aged_form_token()
    held, sent = statements(
        lambda: public_post(
            business_a.host,
            "holds/",
            {"service": service.pk, "start": start.isoformat(), "form_token": token},
        )
    )
    assert held.status_code == 201, held.json()
    hold_token = held.json()["hold"]
    (insert,) = [s for s in sent if s.startswith('INSERT INTO "scheduling_appointment"')]
    assert hold_token in insert  # the hold's token goes in with the row …
    assert not [s for s in sent if s.startswith('UPDATE "scheduling_appointment"')]  # … not after it
    # The locks on the visitor's address and form are taken in one statement.
    assert len([s for s in sent if "pg_advisory_xact_lock" in s]) == 1

    booked, sent = statements(
        lambda: public_post(
            business_a.host, "bookings/", booking_body(service, start, hold=hold_token, form_token=token)
        )
    )
    assert booked.status_code == 201, booked.json()
    with schema_context(business_a.schema):
        appointment = Appointment.objects.get()
    assert appointment.status == "confirmed" and appointment.manage_token != hold_token
    assert appointment.manage_token in booked.json()["manage_url"]
    # The form's hold row is deleted without reading it first.
    assert not [s for s in sent if s.startswith('SELECT "booking_holdowner"')]
    # The hold becomes the booking, its new link included, in one UPDATE.
    (update,) = [s for s in sent if s.startswith('UPDATE "scheduling_appointment"')]
    assert appointment.manage_token in update and "'confirmed'" in update
    # The open bookings of the customer are counted with one statement; the business's own row is the
    # request's, not read again for the privacy notice's version.
    assert len([s for s in sent if "COUNT(" in s and '"scheduling_appointment"' in s]) == 1
    assert not [s for s in sent if s.startswith('SELECT "tenancy_tenant"')]
