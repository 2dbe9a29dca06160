"""Spare schemas for the suite in a fifth of a second each instead of seconds.

Every business a `committed_db` test provisions claims a spare schema from the warm pool, as a signup does.
Migrating a spare takes seconds (every migration runs), and with dozens of provisioning tests that was
minutes of the suite. So one spare is migrated for real at the start of the session, dumped once, and the
pool is topped up with copies of it (bench/catalog.py's cloning: the dump replayed under a new name). The
claim, the rename and everything after it are the product's own code; and with the pool full, the refill a
signup asks a worker for finds nothing to do instead of keeping a test's worker busy migrating.
"""

import secrets

from django.conf import settings
from django.db import connection

from bench import catalog
from termino.platform.tenancy import services
from termino.platform.tenancy.models import POOL_STATUSES, SPARE_SCHEMA_PREFIX, Tenant, TenantStatus


class SparePool:
    def __init__(self) -> None:
        self._sql: str | None = None
        self._source: str | None = None

    def _database_url(self) -> str:
        s = connection.settings_dict
        password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
        return f"postgresql://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"

    def prepare(self) -> None:
        """Migrate one spare for real and keep its dump (the session's only migrated spare)."""
        spare = services.spare_schema_create()
        self._source = spare.schema_name
        self._sql = catalog.clone_source_sql(self._database_url(), spare.schema_name)

    def top_up(self, size: int | None = None) -> int:
        """Fill the pool to `size` (default SCHEMA_POOL_SIZE) with copies; returns how many were made."""
        size = settings.SCHEMA_POOL_SIZE if size is None else size
        connection.set_schema_to_public()
        missing = size - Tenant.objects.filter(status__in=POOL_STATUSES).count()
        if missing <= 0:
            return 0
        names = [SPARE_SCHEMA_PREFIX + secrets.token_hex(6) for _ in range(missing)]
        catalog.clone_schemas(self._database_url(), self._sql, self._source, names)
        Tenant.objects.bulk_create(Tenant(schema_name=name, status=TenantStatus.SPARE) for name in names)
        return missing
