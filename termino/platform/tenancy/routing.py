"""Host → tenant, cached so that steady-state routing costs no database query.

Entries live in the `platform` cache (Redis, shared by every web process) and are deleted when a
domain or tenant changes (see signals.py). Unknown hosts are cached briefly too, so a flood of random
host names cannot turn into a flood of queries.
"""

import logging

from django.conf import settings
from django.core.cache import caches

from termino.shared.urls import site_url

from .models import Domain, Tenant

logger = logging.getLogger(__name__)

_MISSING = object()
UNKNOWN_HOST_TTL = 60


def normalise_host(host: str) -> str:
    """`Acme.Termino.de:8000.` → `acme.termino.de`."""
    host = host.strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.split(":")[0].rstrip(".")


def platform_hosts() -> set[str]:
    return {settings.BASE_DOMAIN, f"www.{settings.BASE_DOMAIN}"}


def _cache_key(host: str) -> str:
    return f"host:{host}"


def _lookup(host: str) -> Tenant | None:
    if host in platform_hosts():
        return Tenant.objects.filter(schema_name=settings.PUBLIC_SCHEMA_NAME).first()
    domain = Domain.objects.select_related("tenant").filter(domain=host).first()
    return domain.tenant if domain else None


def tenant_for_host(host: str) -> Tenant | None:
    cache = caches["platform"]
    key = _cache_key(host)
    try:
        hit = cache.get(key, _MISSING)
    except Exception:  # the cache is an accelerator: routing keeps working from the database without it
        logger.warning("routing cache unavailable, reading %s from the database", host, exc_info=True)
        return _lookup(host)
    if hit is not _MISSING:
        return hit
    tenant = _lookup(host)
    try:
        cache.set(key, tenant, timeout=None if tenant else UNKNOWN_HOST_TTL)
    except Exception:
        logger.warning("routing cache unavailable, not caching %s", host, exc_info=True)
    return tenant


def forget_hosts(hosts) -> None:
    keys = [_cache_key(normalise_host(h)) for h in hosts if h]
    if not keys:
        return
    try:
        caches["platform"].delete_many(keys)
    except Exception:
        # A stale entry would outlive the change: say so loudly, routing data must not drift silently.
        logger.error("could not invalidate routing cache for %s", keys, exc_info=True)
        raise


def hosts_of(tenant: Tenant) -> list[str]:
    hosts = list(Domain.objects.filter(tenant_id=tenant.pk).values_list("domain", flat=True))
    if tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        hosts.extend(platform_hosts())
    return hosts


def primary_url(tenant: Tenant, path: str = "/") -> str:
    """Absolute link into a business, built from its Domain row, never from a request's Host header."""
    domain = (
        Domain.objects.filter(tenant_id=tenant.pk, is_primary=True).values_list("domain", flat=True).first()
    )
    if domain is None:
        raise ValueError(f"{tenant} has no primary domain")
    return site_url(domain, path)
