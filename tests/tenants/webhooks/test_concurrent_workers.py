"""Workers racing over one business's deliveries, on real concurrent connections: no row is claimed twice,
only the head of each appointment's queue is ever claimed, each delivery is sent once and in order."""

import json
import threading
from datetime import timedelta

from django.db import connection, transaction
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling.models import Appointment
from termino.tenants.webhooks.delivery import deliveries_claim, deliveries_send_due
from termino.tenants.webhooks.models import Delivery, EventType
from tests.fakes.webhook_receiver import Receiver

from .helpers import DESK, booking, endpoint

APPOINTMENTS = 4
WORKERS = 4


def _race(schema: str, work) -> list:
    barrier = threading.Barrier(WORKERS)
    results: list = []

    def worker() -> None:
        try:
            with schema_context(schema):
                barrier.wait()
                results.append(work())
        except Exception as exc:
            results.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _appointments_with_three_events(schema: str) -> list[int]:
    ids = []
    with schema_context(schema):
        for n in range(APPOINTMENTS):
            with transaction.atomic():
                appointment, _ = booking() if n == 0 else booking_at(ids, n)
            start = timeutils.shift(appointment.start, minutes=15)
            with transaction.atomic():
                lifecycle.appointment_move(actor=DESK, appointment=appointment, start=start)
            with transaction.atomic():
                lifecycle.appointment_cancel(actor=DESK, appointment=appointment)
            ids.append(appointment.pk)
    connection.set_schema_to_public()
    return ids


def booking_at(ids, n):
    """A booking n weeks after the first one (each booking gets a salon of its own)."""
    first = Appointment.objects.get(pk=ids[0])
    return booking(start=timeutils.shift(first.start, timedelta(days=7 * n)))


EVENTS = [EventType.APPOINTMENT_CREATED, EventType.APPOINTMENT_MOVED, EventType.APPOINTMENT_CANCELLED]


def test_concurrent_claims_take_disjoint_rows_and_one_head_per_appointment(committed_db):
    business = committed_db("t-webhooks-race")
    with schema_context(business.schema):
        endpoint("http://127.0.0.1:9/a", EVENTS)
    _appointments_with_three_events(business.schema)
    claimed = _race(business.schema, lambda: [(d.pk, d.subject) for d in deliveries_claim(limit=50)])
    assert all(isinstance(r, list) for r in claimed), claimed
    rows = [row for result in claimed for row in result]
    assert len(rows) == len({pk for pk, _ in rows})  # no row twice
    subjects = [subject for _, subject in rows]
    assert sorted(subjects) == sorted(set(subjects)) and len(subjects) == APPOINTMENTS  # the heads only
    with schema_context(business.schema):
        heads = {
            subject: min(Delivery.objects.filter(subject=subject).values_list("pk", flat=True))
            for subject in subjects
        }
    assert {pk for pk, _ in rows} == set(heads.values())


def test_concurrent_runs_send_each_delivery_once_and_in_order(committed_db):
    business = committed_db("t-webhooks-race2")
    with Receiver() as receiver:
        with schema_context(business.schema):
            endpoint(receiver.url, EVENTS)
        ids = _appointments_with_three_events(business.schema)
        results = _race(business.schema, deliveries_send_due)
        assert all(isinstance(r, dict) for r in results), results
        requests = receiver.wait_for(APPOINTMENTS * 3)
    bodies = [json.loads(r.body) for r in requests]
    assert len({b["id"] for b in bodies}) == len(bodies) == APPOINTMENTS * 3  # each once
    for pk in ids:
        kinds = [b["type"] for b in bodies if b["data"]["appointment"]["id"] == pk]
        assert kinds == ["appointment.created", "appointment.moved", "appointment.cancelled"]
    with schema_context(business.schema):
        assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
