"""One retention run per business at a time through a lease (no session-level advisory lock: it breaks
behind PgBouncer in transaction mode)."""

import pytest
from django_tenants.utils import schema_context

from termino.shared.db.leases import KEY_PREFIX, client, lease
from termino.tenants.retention.models import RetentionRun
from termino.tenants.retention.services import retention_run

pytestmark = pytest.mark.django_db


def test_a_run_is_skipped_while_another_run_of_the_business_holds_the_lease(business_a, business_b):
    key = f"retention:{business_a.schema}"
    with schema_context(business_a.schema):
        with lease(key) as held:
            assert held
            assert retention_run() is None
            assert not RetentionRun.objects.exists()
            with schema_context(business_b.schema):
                assert retention_run() is not None  # another business is not held up
        run = retention_run()
        assert run is not None and run.finished_at and run.error == ""
    assert not client().exists(KEY_PREFIX + key)  # released when the run is done
