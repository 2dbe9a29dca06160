"""What stays reachable at a suspended or cancelled business's host, and why it is closed.

The owner of a business closed for an open payment (or a cancelled one) must be able to log in and pay; a
business suspended by platform staff opens again only through them, whatever is paid. Everything else shows
the closed page (customers read that online booking is not available)."""

from termino.platform.tenancy.models import TenantStatus

from .models import BillingAccount

# Paths of the tenant URLconf; the owner is sent to the billing page instead of the closed page.
OPEN_WHEN_CLOSED = ("/billing/", "/login/", "/logout/", "/i18n/", "/static/", "/staff-login/")
HOME_WHEN_CLOSED = "/billing/"

# Why a business is closed.
UNPAID = "unpaid"  # trial over or a payment open: paying opens it again
BY_STAFF = "staff"  # suspended by platform staff: only they open it again
ENDED = "cancelled"  # the subscription ended: subscribing again opens it


def closed_tenant_may_open(path: str) -> bool:
    """May `path` be served although the business is suspended or cancelled?"""
    return path.startswith(OPEN_WHEN_CLOSED)


def closed_reason(tenant) -> str:
    """Why a closed business is closed (read fresh: the routing cache's copy may be older)."""
    if tenant.status == TenantStatus.CANCELLED:
        return ENDED
    held = BillingAccount.objects.filter(tenant_id=tenant.pk, held_by_staff=True).exists()
    return BY_STAFF if held else UNPAID
