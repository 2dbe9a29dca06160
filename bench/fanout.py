"""One dispatcher cycle of the due index at 10,000 businesses, 100 of which have a message due.

Prints `{"bench": "fanout", "businesses": 10000, "due": 100, "visited": …, "cycle_ms": …}` and, for
comparison, `{"bench": "fanout_all", …}`: the per-business fan-out that beat did before (one task per live
business, whether or not it has work).

What is measured: the dispatcher reads only the public schema, so the 10,000 businesses are rows in
`tenancy_tenant` (status active) and `duework_duework` without a schema each — 100 rows due a minute ago,
9,900 due later (1 to 48 hours ahead, as reminders are). `cycle_ms` is one whole `due_dispatch()`: the
claim query (index range scan, `FOR UPDATE SKIP LOCKED`, lease and version bump) plus queueing one
`duework.run` per claimed business on the real Redis broker; no worker runs them. `visited` counts the
tasks queued, checked to be exactly the 100 due businesses. Median of CYCLES cycles (the 100 rows are made
due again between cycles); `max_ms` is the slowest. `.venv/bin/python bench/fanout.py`
"""

import statistics
import time
from datetime import timedelta

from _harness import emit, log, setup_django

BUSINESSES, DUE, CYCLES = 10_000, 100, 5


def main() -> None:
    setup_django("termino_bench_fanout")
    from django.db import connection
    from django.utils import timezone

    from termino import celery_app
    from termino.platform.duework.dispatch import due_dispatch
    from termino.platform.duework.models import DueWork
    from termino.platform.tenancy.fanout import fan_out
    from termino.platform.tenancy.models import Tenant, TenantStatus
    from termino.tenants.notifications.due import KIND

    log(f"writing {BUSINESSES} businesses and their due rows ...")
    now = timezone.now()
    tenants = Tenant.objects.bulk_create(
        Tenant(schema_name=f"t_fan_{n:05d}", slug=f"fan-{n:05d}", name=f"Fan {n}", status=TenantStatus.ACTIVE)
        for n in range(BUSINESSES)
    )
    due_schemas = {t.schema_name for t in tenants[:: BUSINESSES // DUE]}
    DueWork.objects.bulk_create(
        DueWork(
            tenant=t,
            kind=KIND,
            due_at=now - timedelta(minutes=1)
            if t.schema_name in due_schemas
            else now + timedelta(minutes=60 + n % (47 * 60)),
        )
        for n, t in enumerate(tenants)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE duework_duework")
        cursor.execute("ANALYZE tenancy_tenant")
    broker = celery_app.connection_for_write().default_channel.client
    broker.flushdb()

    cycles, visited = [], []
    for cycle in range(CYCLES):
        DueWork.objects.filter(tenant__schema_name__in=due_schemas).update(due_at=now - timedelta(minutes=1))
        began = time.perf_counter()
        visits = due_dispatch(now=now)
        cycles.append(time.perf_counter() - began)
        if cycle == 0:
            visited = visits
    queued = broker.llen("celery")
    log(f"cycles {[round(c * 1000, 1) for c in cycles]} ms; {queued} tasks in the queue")
    assert {schema for schema, _kind in visited} == due_schemas and len(visited) == DUE, "wrong businesses"
    emit(
        bench="fanout",
        businesses=BUSINESSES,
        due=DUE,
        visited=len(visited),
        cycle_ms=round(statistics.median(cycles) * 1000, 1),
        max_ms=round(max(cycles) * 1000, 1),
    )

    broker.flushdb()
    began = time.perf_counter()
    sent = fan_out("notifications.send_due")
    elapsed = time.perf_counter() - began
    broker.flushdb()
    emit(bench="fanout_all", businesses=BUSINESSES, tasks=sent, cycle_ms=round(elapsed * 1000, 1))


if __name__ == "__main__":
    main()
