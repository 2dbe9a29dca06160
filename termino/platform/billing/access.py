"""What stays reachable at a suspended or cancelled business's host: the owner must be able to log in and
pay. Everything else shows the closed page (the booking page then says bookings are closed)."""

# Paths of the tenant URLconf; `/` sends the owner to the billing page instead of the closed page.
OPEN_WHEN_CLOSED = ("/billing/", "/login/", "/logout/", "/i18n/", "/static/", "/staff-login/")
HOME_WHEN_CLOSED = "/billing/"


def closed_tenant_may_open(path: str) -> bool:
    """May `path` be served although the business is suspended or cancelled?"""
    return path.startswith(OPEN_WHEN_CLOSED)
