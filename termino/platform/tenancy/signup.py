"""The public signup: at most SIGNUPS_PER_IP_PER_HOUR / _PER_DAY new businesses per client, each unconfirmed
until its owner follows the link e-mailed to the signup address (confirmation.py).

The limits count businesses created, not attempts: a form with mistakes costs nothing, and a signup that
fails (its address taken a moment ago) hands its count back. Both windows are taken in one atomic step
(termino.shared.ratelimit), so concurrent signups from one address cannot slip past the limit.
"""

import dataclasses
import ipaddress

from django.conf import settings

from termino.shared import ratelimit

from . import confirmation
from .models import Tenant
from .services import BusinessSignup, tenant_provision

IPV6_NETWORK = 64  # one IPv6 client usually holds a whole /64: count the network, not the address


def signup_limits() -> tuple[ratelimit.Limit, ratelimit.Limit]:
    return (
        ratelimit.Limit("signup-ip-hour", settings.SIGNUPS_PER_IP_PER_HOUR, 3600),
        ratelimit.Limit("signup-ip-day", settings.SIGNUPS_PER_IP_PER_DAY, 86400),
    )


def client_key(ip: str | None) -> str:
    """The key the limits count by: the IPv4 address, the /64 of an IPv6 address, or one shared key for
    requests without a usable address (so those share one allowance instead of having none)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_NETWORK}", strict=False))
    return str(address)


def signup_slot_take(*, ip: str | None) -> ratelimit.Reservation:
    """Count one new business for this client; raises ratelimit.RateLimited (with `retry_after`) when full."""
    key = client_key(ip)
    hour, day = signup_limits()
    return ratelimit.take((hour, key), (day, key))


def business_sign_up(*, signup: BusinessSignup, ip: str | None) -> Tenant:
    """Create a business for someone on the signup page, and e-mail the confirmation link.

    Raises ratelimit.RateLimited when this client has created enough businesses for now, and
    SubdomainTaken when the address went to someone else meanwhile (that attempt does not count).
    """
    reservation = signup_slot_take(ip=ip)
    # Whatever the caller passed: an address typed into a public form is unconfirmed.
    signup = dataclasses.replace(signup, email_confirmed=False)
    try:
        tenant = tenant_provision(signup=signup)
    except BaseException:  # SubdomainTaken above all: nothing was created, so nothing counts
        reservation.release()
        raise
    confirmation.signup_mail_send(tenant=tenant)
    return tenant
