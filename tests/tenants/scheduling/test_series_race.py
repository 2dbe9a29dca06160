"""Series booked at the same time on real concurrent connections: each is booked whole or not at all, and
no two appointments of one staff member overlap. No per-test transaction: what the test makes is committed."""

import itertools
import threading
import time as clock
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.scheduling import series, services
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import Allocation, Appointment, Resource, Series, Service
from termino.tenants.scheduling.recurrence import Recurrence

from .factories import next_monday, salon

BERLIN = ZoneInfo("Europe/Berlin")
CONTENDERS = 8


@pytest.mark.clock
def test_overlapping_series_racing_never_double_book(committed_db):
    business = committed_db(f"t-series-race-{clock.monotonic_ns() % 10**6}")
    with schema_context(business.schema):
        service, (anna,), _ = salon(staff_count=1)
    connection.set_schema_to_public()
    first = timeutils.local_date(next_monday(), BERLIN)
    barrier = threading.Barrier(CONTENDERS)
    outcomes: list[str] = []

    def contend(n: int) -> None:
        # Six Mondays each, starting n weeks apart: neighbours share five dates, the others fewer.
        rule = Recurrence(first_date=first + timedelta(weeks=n), time=time(10), frequency="weekly", count=6)
        try:
            with schema_context(business.schema):
                barrier.wait()
                series.series_book(
                    actor=Actor(source="api"),
                    service=Service.objects.get(pk=service.pk),
                    recurrence=rule,
                    zone=BERLIN,
                    staff=Resource.objects.get(pk=anna.pk),
                )
            outcomes.append("won")
        except services.Conflict:
            outcomes.append("409")
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(CONTENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert set(outcomes) <= {"won", "409"}, outcomes
    assert len(outcomes) == CONTENDERS
    winners = outcomes.count("won")
    assert winners >= 1
    with schema_context(business.schema):
        # Whole series only, and nothing overlapping.
        assert Series.objects.count() == winners
        assert Appointment.objects.count() == 6 * winners
        assert all(s.appointments.count() == 6 for s in Series.objects.all())
        periods = sorted(
            Allocation.objects.filter(resource=anna).values_list("period", flat=True), key=lambda p: p.lower
        )
        assert all(a.upper <= b.lower for a, b in itertools.pairwise(periods))
