"""The client's IP address, as far as it can be trusted, and its pseudonymous (truncated) form.

Behind NUM_PROXIES reverse proxies each proxy appends the address it received the request from to
X-Forwarded-For, so the client is the entry NUM_PROXIES places from the right. Everything left of it was
written by the client itself and can say anything: it is never read. With NUM_PROXIES = 0 (no proxy)
the header is ignored and REMOTE_ADDR is the client. Login audit, login lockout (django-axes) and the
rate limits of the public API all take the address from here, so a forged header moves none of them.
"""

import ipaddress

from django.conf import settings

IPV4_PREFIX = 24  # what is left of an IPv4 address after truncation: the /24 network
IPV6_PREFIX = 48  # and of an IPv6 address: the /48 network (one site)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:443"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:203.0.113.7 is the IPv4 client 203.0.113.7
    return address


def num_proxies() -> int:
    return max(int(getattr(settings, "NUM_PROXIES", 0) or 0), 0)


def client_ip(request) -> str | None:
    """The client's address as a normalised string, or None when there is no valid one."""
    meta = request.META
    candidate = meta.get("REMOTE_ADDR", "") or ""
    proxies = num_proxies()
    if proxies:
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if hops:
            # Fewer entries than proxies: all of them come from our own proxies; take the first.
            candidate = hops[-min(proxies, len(hops))]
    address = _parse(candidate)
    return str(address) if address is not None else None


def ip_truncate(ip: str | None) -> str | None:
    """The network an address belongs to (/24 for IPv4, /48 for IPv6), written as an address."""
    if not ip:
        return None
    address = _parse(ip)
    if address is None:
        return None
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def ip_prefix_label(ip: str | None) -> str:
    """A truncated address as people read it: 203.0.113.0/24, 2001:db8:1::/48."""
    network = ip_truncate(ip)
    if network is None:
        return ""
    return f"{network}/{IPV4_PREFIX if '.' in network else IPV6_PREFIX}"
