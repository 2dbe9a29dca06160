from django.utils.functional import SimpleLazyObject

from termino.platform.billing.selectors import billing_state


def billing(request):
    """The business's plan and status for the banner (trial ending, payment overdue), read only when shown."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or tenant.schema_name == "public" or user is None or not user.is_authenticated:
        return {}
    return {"billing": SimpleLazyObject(lambda: billing_state(tenant))}
