"""Absolute links, one way: scheme and port from settings, the host from data — never a request's Host header.

A business's own links go through `termino.platform.tenancy.routing.primary_url`, which reads its primary
Domain row and builds the link here.
"""

from django.conf import settings


def site_url(host: str, path: str = "/") -> str:
    """`https://<host><path>` with the configured scheme and (for local runs) port."""
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{host}{port}{path}"


def platform_url(path: str = "/") -> str:
    """A link to the platform host (signup, legal pages, the staff admin)."""
    return site_url(settings.BASE_DOMAIN, path)
