"""Reads of the platform that other parts may use: which businesses are live."""

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
