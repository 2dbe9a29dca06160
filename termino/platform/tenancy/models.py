"""Businesses (tenants) and the host names that reach them. Public schema."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

# Subdomains: lowercase letters, digits and inner hyphens, 3–40 characters.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$"
# Claimed tenant schemas are `t_<slug>` so no slug can collide with `public`, `pg_*` or a spare schema.
TENANT_SCHEMA_PREFIX = "t_"
SPARE_SCHEMA_PREFIX = "spare_"


class TenantStatus(models.TextChoices):
    PREPARING = "preparing", _("Preparing (schema being migrated)")
    SPARE = "spare", _("Spare (ready to be claimed)")
    TRIAL = "trial", _("Trial")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Payment overdue")
    SUSPENDED = "suspended", _("Suspended")
    CANCELLED = "cancelled", _("Cancelled")


POOL_STATUSES = (TenantStatus.PREPARING, TenantStatus.SPARE)
CLOSED_STATUSES = (TenantStatus.SUSPENDED, TenantStatus.CANCELLED)


class Tenant(TenantMixin):
    """A business, or a spare schema in the warm pool (status preparing/spare, no slug, no domain).

    Spare schemas are tenant rows so that every `migrate_schemas` run migrates them like any business.
    """

    # Schemas are created by our provisioning services (pool or migrate path), never on save().
    auto_create_schema = False

    slug = models.CharField(_("subdomain"), max_length=40, unique=True, null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=TenantStatus.choices)
    name = models.CharField(_("company name"), max_length=200, blank=True)
    owner_name = models.CharField(_("owner's full name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin")
    language = models.CharField(_("language"), max_length=8, default="de")
    terms_accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("business")
        verbose_name_plural = _("businesses")
        constraints = [
            models.CheckConstraint(
                name="tenant_slug_format",
                condition=Q(slug__isnull=True) | Q(slug__regex=SLUG_PATTERN),
            ),
            # A pool schema has no address; a business always has one (the public row has neither).
            models.CheckConstraint(
                name="tenant_pool_has_no_slug",
                condition=Q(status__in=POOL_STATUSES, slug__isnull=True)
                | (~Q(status__in=POOL_STATUSES) & (Q(slug__isnull=False) | Q(schema_name="public"))),
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.slug or self.schema_name

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class Domain(DomainMixin):
    """A host name (`acme.termino.de` or a custom domain) that routes to a tenant."""

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")
        constraints = [
            # One primary domain per business: absolute links are built from it.
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(is_primary=True), name="domain_one_primary_per_tenant"
            ),
            models.CheckConstraint(name="domain_lowercase", condition=Q(domain=Lower("domain"))),
        ]
