"""Reads of the platform that other parts may use: which businesses are live."""

from django.db import connection

from .models import CLOSED_STATUSES, POOL_STATUSES, Tenant


def live_business_schemas() -> list[str]:
    """Schemas of businesses that work is done for (not pool spares, not suspended or cancelled)."""
    return list(
        Tenant.objects.exclude(schema_name="public")
        .exclude(status__in=(*POOL_STATUSES, *CLOSED_STATUSES))
        .order_by("pk")
        .values_list("schema_name", flat=True)
    )


def tenant_by_schema(schema_name: str) -> Tenant:
    """The business of a schema (readable from inside its schema too: `public` is on the search path)."""
    return Tenant.objects.get(schema_name=schema_name)


def current_business() -> Tenant:
    """The business whose schema the connection is in: the request's tenant, or read by schema name (tasks,
    `schema_context`, where django-tenants sets only a stand-in without the business's data)."""
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Tenant) and tenant.schema_name == connection.schema_name:
        return tenant
    return tenant_by_schema(connection.schema_name)


def email_confirmed(tenant) -> bool:
    """Has the business confirmed its signup e-mail address? Until then no bookings online and no SMS.

    Read from the row (a worker's batch may hold its tenant for minutes); a request may use
    `request.tenant.email_confirmed`, which the routing cache refreshes when the row changes.
    """
    return Tenant.objects.filter(pk=tenant.pk, email_confirmed_at__isnull=False).exists()
