"""Where a webhook may go: never into our own network (SSRF).

A target's host is resolved and every address it resolves to must be a global one: private, loopback,
link-local, shared (CGNAT), multicast and reserved ranges are refused. Checked when an endpoint is saved
and again at every send, against the very addresses the request then connects to (`transport.py`), so a
DNS answer that changes after the check (rebinding) gains nothing. `WEBHOOKS_ALLOW_PRIVATE_TARGETS` lets
development and tests send to local receivers.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SCHEMES = ("https", "http")
PRIVATE_REFUSED = gettext_lazy(
    "%(host)s points to a private or reserved address; webhooks go to public addresses only."
)


class TargetRefused(Exception):
    """The URL may not be called; the message says why, for a person."""


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return not address.is_global or address.is_multicast or address.is_reserved


def parse(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a webhook URL, or TargetRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(_("This is not a valid URL.")) from exc
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise TargetRefused(_("The URL must start with https:// (or http://) and name a host."))
    if parts.username or parts.password:
        raise TargetRefused(_("The URL must not contain a user name or password."))
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(url: str) -> tuple[str, str, int, list[str]]:
    """(scheme, host, port, addresses) of a URL that may be called; TargetRefused otherwise."""
    scheme, host, port = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(_("The host %(host)s could not be found.") % {"host": host}) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        for text in addresses:
            if _forbidden(ipaddress.ip_address(text.split("%")[0])):
                raise TargetRefused(PRIVATE_REFUSED % {"host": host})
    if not addresses:
        raise TargetRefused(_("The host %(host)s could not be found.") % {"host": host})
    return scheme, host, port, addresses
