"""Real concurrent connections, so no per-test transaction here: what the test makes is committed."""

import threading
import time as clock

from django.db import connection
from django_tenants.utils import schema_context

from termino.tenants.scheduling import services
from termino.tenants.scheduling.models import Appointment, Service

from .factories import next_monday, salon


def book(service, start, **kwargs):
    return services.appointment_create(booking=services.Booking(service=service, start=start, **kwargs))


def test_twenty_connections_racing_for_one_slot(committed_db):
    business = committed_db(f"t-race-{clock.monotonic_ns() % 10**6}")
    with schema_context(business.schema):
        service, (anna,), _ = salon(staff_count=1)
    connection.set_schema_to_public()
    start = next_monday()
    contenders = 20
    barrier = threading.Barrier(contenders)
    outcomes: list[str] = []

    def contend() -> None:
        try:
            with schema_context(business.schema):
                barrier.wait()
                book(Service.objects.get(pk=service.pk), start, staff=anna)
            outcomes.append("won")
        except services.Conflict:
            outcomes.append("409")
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connection.close()

    began = clock.monotonic()
    threads = [threading.Thread(target=contend) for _ in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    elapsed = clock.monotonic() - began
    assert sorted(outcomes) == ["409"] * (contenders - 1) + ["won"]
    assert elapsed < 10
    with schema_context(business.schema):
        assert Appointment.objects.count() == 1
