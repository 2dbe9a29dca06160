"""Host → tenant, cached so that steady-state routing costs a dictionary lookup.

Two levels. Each process keeps a dictionary of the hosts it has routed; behind it the `platform` cache
(Redis, shared by every web process) keeps the same entries, deleted when a domain or tenant changes (see
signals.py). A change also increments a version in Redis; a process compares its dictionary's version
with it at most every `ROUTING_LOCAL_SECONDS` and empties the dictionary when it moved, so no process
serves a suspended, moved or deleted business for longer than that after the change committed (the
process that made the change forgets at once). Without Redis the dictionary is not trusted at all:
routing reads the database, as before. Unknown hosts are cached briefly too, so a flood of random host
names cannot turn into a flood of queries, and the dictionary is bounded.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.cache import caches
from django_tenants.utils import schema_context

from termino.shared import cache_version, request_memo
from termino.shared.urls import site_url

from .models import Domain, Tenant

request_memo.forget_on_change("tenancy.primary_domain", Domain)

logger = logging.getLogger(__name__)

_MISSING = object()
UNKNOWN_HOST_TTL = 60
VERSION_KEY = "routing:version"
LOCAL_MAX_HOSTS = 20_000


class _LocalHosts:
    """This process's host → tenant dictionary and the routing version it was filled under."""

    def __init__(self):
        self.entries: dict[str, Tenant | None] = {}
        self.version = None
        self.checked_at = float("-inf")
        self.lock = threading.Lock()

    def fresh(self) -> bool:
        """True when the dictionary may be used; re-reads the version at most every few hundred ms."""
        now = time.monotonic()
        if now - self.checked_at < settings.ROUTING_LOCAL_SECONDS:
            return True
        try:
            version = cache_version.read(caches["platform"], VERSION_KEY)
        except Exception:
            self.clear()
            return False
        with self.lock:
            if version != self.version:
                self.entries = {}
                self.version = version
            self.checked_at = now
        return True

    def put(self, host: str, tenant: Tenant | None) -> None:
        if len(self.entries) >= LOCAL_MAX_HOSTS:
            self.entries = {}  # a flood of host names: start again rather than grow
        self.entries[host] = tenant

    def clear(self) -> None:
        with self.lock:
            self.entries = {}
            self.checked_at = float("-inf")


_local = _LocalHosts()


class _RequestHosts:
    """Raw Host header → normalised host, for `request_host`: Django's get_host() parses and validates the
    header anew on every request, and a process sees the same few headers over and over. Bounded like the
    host dictionary; what get_host() refuses is not remembered (it raises again)."""

    def __init__(self):
        self.entries: dict[tuple[str, str], str] = {}

    def get(self, request) -> str:
        meta = request.META
        raw = (meta.get("HTTP_X_FORWARDED_HOST", ""), meta.get("HTTP_HOST") or meta.get("SERVER_NAME", ""))
        host = self.entries.get(raw)
        if host is None:
            host = normalise_host(request.get_host())  # DisallowedHost for a bad header
            if len(self.entries) >= LOCAL_MAX_HOSTS:
                self.entries = {}
            self.entries[raw] = host
        return host


request_host = _RequestHosts().get


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
    # In `public`, whatever schema the connection was left in (the routing middleware sets it afterwards).
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        if host in platform_hosts():
            return Tenant.objects.filter(schema_name=settings.PUBLIC_SCHEMA_NAME).first()
        domain = Domain.objects.select_related("tenant").filter(domain=host).first()
        return domain.tenant if domain else None


def tenant_for_host(host: str) -> Tenant | None:
    trusted = _local.fresh()
    if trusted:
        hit = _local.entries.get(host, _MISSING)
        if hit is not _MISSING:
            return hit
    cache = caches["platform"]  # looked up only here: even that costs a thread-local lookup per request
    key = _cache_key(host)
    try:
        hit = cache.get(key, _MISSING)
    except Exception:  # the cache is an accelerator: routing keeps working from the database without it
        logger.warning("routing cache unavailable, reading %s from the database", host, exc_info=True)
        return _lookup(host)
    if hit is _MISSING:
        hit = _lookup(host)
        try:
            cache.set(key, hit, timeout=None if hit else UNKNOWN_HOST_TTL)
        except Exception:
            logger.warning("routing cache unavailable, not caching %s", host, exc_info=True)
            return hit
    if trusted and hit is not None:  # unknown hosts stay in Redis only, with their short lifetime
        _local.put(host, hit)
    return hit


def forget_local_hosts() -> None:
    """Empty this process's dictionary (what a change made here does; the suite does it between tests)."""
    _local.clear()


def forget_hosts(hosts) -> None:
    keys = [_cache_key(normalise_host(h)) for h in hosts if h]
    if not keys:
        return
    _local.clear()
    try:
        cache = caches["platform"]
        cache.delete_many(keys)
        cache_version.move(cache, VERSION_KEY)
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
    domain = request_memo.remembered(  # a booking's answer and its messages each link to the business
        f"tenancy.primary_domain:{tenant.pk}",
        lambda: (
            Domain.objects.filter(tenant_id=tenant.pk, is_primary=True)
            .values_list("domain", flat=True)
            .first()
        ),
    )
    if domain is None:
        raise ValueError(f"{tenant} has no primary domain")
    return site_url(domain, path)
