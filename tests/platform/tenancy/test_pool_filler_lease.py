"""One schema-pool filler at a time through a lease (no session-level advisory lock: it breaks behind
PgBouncer in transaction mode)."""

import threading
import time

from django.db import connection

from termino.platform.tenancy import services
from termino.platform.tenancy.models import Tenant, TenantStatus
from termino.shared.db.leases import KEY_PREFIX, client, lease


def spare_ids() -> set[int]:
    return set(
        Tenant.objects.filter(status__in=(TenantStatus.SPARE, TenantStatus.PREPARING)).values_list(
            "pk", flat=True
        )
    )


def test_a_second_filler_returns_at_once_while_one_fills(committed_db):
    before = spare_ids()
    made: list[int] = []

    def fill() -> None:
        try:
            made.append(services.schema_pool_fill(size=len(before) + 1))
        finally:
            connection.close()

    first = threading.Thread(target=fill)
    first.start()
    key = KEY_PREFIX + services.POOL_LEASE
    deadline = time.monotonic() + 10
    while not client().exists(key):
        assert time.monotonic() < deadline and first.is_alive(), "the first filler never took the lease"
        time.sleep(0.01)
    started = time.monotonic()
    assert services.schema_pool_fill(size=len(before) + 5) == 0
    assert time.monotonic() - started < 1
    first.join(timeout=120)
    assert made == [1]
    assert not client().exists(key)  # released when the filler is done
    for spare in Tenant.objects.filter(pk__in=spare_ids() - before):
        services.tenant_delete(tenant=spare)


def test_a_filler_is_refused_while_the_lease_is_held_elsewhere(committed_db):
    before = spare_ids()
    with lease(services.POOL_LEASE):
        assert services.schema_pool_fill(size=len(before) + 2) == 0
    assert spare_ids() == before
