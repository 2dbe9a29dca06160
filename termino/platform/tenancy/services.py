"""Provisioning businesses: the warm pool of migrated spare schemas and the signup that claims one.

A signup never runs migrations when a spare is ready: it locks one spare row (`FOR UPDATE SKIP LOCKED`,
so concurrent signups take different spares), renames its schema with `ALTER SCHEMA … RENAME` and fills
in the row, all in one transaction. DDL is transactional in PostgreSQL, so a failure at any step rolls
back the rename too: there is never a schema without a tenant row, nor a row without its schema.
"""

import logging
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.shared.db.leases import lease
from termino.tenants.accounts.models import Role

from .models import (
    POOL_STATUSES,
    SPARE_SCHEMA_PREFIX,
    TENANT_SCHEMA_PREFIX,
    Domain,
    Tenant,
    TenantStatus,
)

logger = logging.getLogger(__name__)

# One pool filler at a time across all processes (termino.shared.db.leases).
POOL_LEASE = "schema-pool-filler"
# A spare still `preparing` after this long belongs to a crashed filler.
STALE_PREPARING_AFTER = timedelta(minutes=30)
CLAIM_ATTEMPTS = 3


class SubdomainTaken(Exception):
    """Another business has this address (possibly one that signed up a moment ago)."""


@dataclass(frozen=True)
class BusinessSignup:
    slug: str
    company_name: str
    owner_name: str
    email: str
    # Hashed before provisioning starts: the ~25 ms of Argon2 then holds no lock inside the transaction.
    password_hash: str
    phone: str  # E.164
    street: str
    postcode: str
    city: str
    country: str
    language: str = "de"
    # Whether the e-mail address counts as confirmed from the start. True only for trusted callers (the
    # demo seed, imports, benchmarks, test fixtures); the public signup (signup.business_sign_up) always
    # makes it False, so its owner has to confirm through the e-mailed link.
    email_confirmed: bool = True
    # The number of the platform privacy notice version the owner was shown when accepting the terms
    # (legal.DocumentVersion); None for callers without a person behind them (demo seed, imports).
    privacy_notice_version: int | None = None


def schema_name_for(slug: str) -> str:
    return TENANT_SCHEMA_PREFIX + slug.replace("-", "_")


def business_host(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


# --- The warm pool -----------------------------------------------------------------------------------


def spare_schema_create(*, verbosity: int = 0) -> Tenant:
    """Migrate one new spare schema (the slow path: every migration runs). Returns it ready to claim.

    The row (status `preparing`) and the empty schema are committed together before migrating, so
    `migrate_schemas` and the sweep always see both; on failure both are removed again.
    """
    name = SPARE_SCHEMA_PREFIX + secrets.token_hex(6)
    with transaction.atomic():
        spare = Tenant.objects.create(schema_name=name, status=TenantStatus.PREPARING)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {_quote(name)}")
    try:
        call_command("migrate_schemas", schema_name=name, tenant=True, interactive=False, verbosity=verbosity)
    except BaseException:
        _drop_pool_schema(spare)
        raise
    finally:
        connection.set_schema_to_public()
    Tenant.objects.filter(pk=spare.pk, status=TenantStatus.PREPARING).update(status=TenantStatus.SPARE)
    spare.status = TenantStatus.SPARE
    return spare


def _drop_pool_schema(spare: Tenant) -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {_quote(spare.schema_name)} CASCADE")
        Tenant.objects.filter(pk=spare.pk, status__in=POOL_STATUSES).delete()


def schema_pool_fill(*, size: int | None = None, progress: Callable[[int, int], None] | None = None) -> int:
    """Top the pool up to `size` spares (default SCHEMA_POOL_SIZE). Returns how many were made.

    Only one filler runs at a time (a lease, correct under any pool mode); a second caller returns 0 at once.
    """
    size = settings.SCHEMA_POOL_SIZE if size is None else size
    with lease(POOL_LEASE) as held:
        if not held:
            return 0
        _sweep_stale_preparing()
        missing = size - Tenant.objects.filter(status__in=POOL_STATUSES).count()
        for done in range(max(missing, 0)):
            spare_schema_create()
            if progress:
                progress(done + 1, missing)
        return max(missing, 0)


def _sweep_stale_preparing() -> None:
    cutoff = timezone.now() - STALE_PREPARING_AFTER
    for spare in Tenant.objects.filter(status=TenantStatus.PREPARING, created_at__lt=cutoff):
        logger.warning("removing spare schema %s left half-migrated by a crashed filler", spare.schema_name)
        _drop_pool_schema(spare)


def schema_pool_refill_soon() -> None:
    """Ask a worker to top the pool up; never fails the caller (the beat schedule refills anyway)."""
    from .tasks import refill_schema_pool

    try:
        refill_schema_pool.delay()
    except Exception:
        logger.warning("could not enqueue a pool refill; the periodic refill will catch up", exc_info=True)


# --- Signup ------------------------------------------------------------------------------------------


def tenant_provision(*, signup: BusinessSignup) -> Tenant:
    """Create a business from a signup: tenant row, schema, primary domain and owner login.

    Claims a migrated spare schema when one is ready; otherwise migrates one first (slow, but correct).
    Raises SubdomainTaken when the address is (or just became) someone else's.
    """
    for _attempt in range(CLAIM_ATTEMPTS):
        spare_id = None
        if not Tenant.objects.filter(status=TenantStatus.SPARE).exists():
            logger.warning("schema pool is empty: migrating a schema for signup %r", signup.slug)
            spare_id = spare_schema_create().pk
        tenant = _claim(signup, spare_id=spare_id)
        if tenant is not None:
            transaction.on_commit(schema_pool_refill_soon)
            return tenant
    raise RuntimeError("no spare schema could be claimed; is the pool filler running?")


def spare_lock(spare_id: int | None = None) -> Tenant | None:
    """A spare schema's row, locked for the caller's transaction (spares other claims hold are skipped)."""
    spares = Tenant.objects.select_for_update(skip_locked=True).filter(status=TenantStatus.SPARE)
    if spare_id is not None:
        spares = spares.filter(pk=spare_id)
    return spares.order_by("pk").first()


def _claim(signup: BusinessSignup, *, spare_id: int | None) -> Tenant | None:
    with transaction.atomic():
        tenant = spare_lock(spare_id)
        if tenant is None:
            return None  # taken by a concurrent signup in the meantime: try again

        spare_schema = tenant.schema_name
        now = timezone.now()
        tenant.slug = signup.slug
        tenant.schema_name = schema_name_for(signup.slug)
        tenant.status = TenantStatus.TRIAL
        tenant.name = signup.company_name
        tenant.owner_name = signup.owner_name
        tenant.email = signup.email
        tenant.phone = signup.phone
        tenant.street = signup.street
        tenant.postcode = signup.postcode
        tenant.city = signup.city
        tenant.country = signup.country
        tenant.language = signup.language
        tenant.terms_accepted_at = now
        tenant.privacy_notice_version = signup.privacy_notice_version
        tenant.activated_at = now
        tenant.email_confirmed_at = now if signup.email_confirmed else None
        tenant.removal_warned_at = None
        try:
            # The unique index on slug decides a race for one address: the loser waits for the winner's
            # commit, then fails here.
            with transaction.atomic():
                tenant.save()
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"ALTER SCHEMA {_quote(spare_schema)} RENAME TO {_quote(tenant.schema_name)}"
                    )
                Domain.objects.create(domain=business_host(signup.slug), tenant=tenant, is_primary=True)
        except IntegrityError as exc:
            raise SubdomainTaken(signup.slug) from exc

        with schema_context(tenant.schema_name):
            owner_create(signup=signup)
    return tenant


def owner_create(*, signup: BusinessSignup):
    """The owner's login, inside the business's schema (the caller sets the schema)."""
    first_name, _, last_name = signup.owner_name.strip().partition(" ")
    return get_user_model().objects.create(
        username=signup.email,
        email=signup.email,
        password=signup.password_hash,
        first_name=first_name,
        last_name=last_name,
        role=Role.OWNER,
        language=signup.language,
    )


def tenant_delete(*, tenant: Tenant) -> None:
    """Remove a business for good: its schema, domains and row, in one transaction; then its uploads and
    stored exports (a later business given the same schema name must not find them)."""
    if tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        raise ValueError("the platform's own schema cannot be deleted")
    media = Path(settings.MEDIA_ROOT) / tenant.schema_name
    # Its stored exports (backups app) go too: their rows with the tenant row, their files here.
    exports = Path(settings.BUSINESS_EXPORTS_ROOT) / tenant.schema_name
    connection.set_schema_to_public()
    with transaction.atomic():
        # Deferred foreign-key checks still pending from earlier writes in this transaction (a business
        # provisioned and removed in one, as the tests do) would make PostgreSQL refuse to drop their tables.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        tenant.delete(force_drop=True)
        transaction.on_commit(lambda: shutil.rmtree(media, ignore_errors=True))
        transaction.on_commit(lambda: shutil.rmtree(exports, ignore_errors=True))
