"""Businesses (tenants) and the host names that reach them. Public schema."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
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
    CANCELLED = "cancelled", pgettext_lazy("business status", "Cancelled")  # the contract: "Gekündigt"


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
    # The version of the platform's privacy notice (legal.DocumentVersion of kind "privacy") shown to the
    # owner at signup, with the terms accepted at `terms_accepted_at`.
    privacy_notice_version = models.PositiveIntegerField(
        _("privacy notice version accepted"), null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)  # of the row: a spare's, long before its signup
    activated_at = models.DateTimeField(null=True, blank=True)  # the signup
    # Until the owner confirms the signup address through the e-mailed link, the booking page takes no
    # bookings and no SMS go out; unconfirmed trials are removed after SIGNUP_UNCONFIRMED_REMOVE_DAYS.
    email_confirmed_at = models.DateTimeField(_("e-mail address confirmed"), null=True, blank=True)
    # When the owner was told that the unconfirmed business is about to be removed (once).
    removal_warned_at = models.DateTimeField(null=True, blank=True)

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
        indexes = [
            # The hourly clean-up looks for these (few) rows only.
            models.Index(
                fields=["activated_at"],
                condition=Q(email_confirmed_at__isnull=True, slug__isnull=False),
                name="tenant_unconfirmed_idx",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.slug or self.schema_name

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None


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


class PlatformEventKind(models.TextChoices):
    UNCONFIRMED_REMOVED = "unconfirmed_removed", _("Removed: e-mail address not confirmed")
    REMOVAL_WARNED = "removal_warned", _("Owner warned of the removal")
    RESTORED = "restored", _("Restored from an export (by an operator)")


class AppendOnlyError(RuntimeError):
    """The platform log is never changed or deleted (the database refuses too, see migration 0003)."""


class PlatformEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("platform log entries cannot be changed")

    def delete(self):
        raise AppendOnlyError("platform log entries cannot be deleted")


class PlatformEvent(models.Model):
    """What the platform did to a business by itself (no staff member acted): the platform log.

    Staff actions have their own trail (staffadmin.StaffAction, which names the staff member) and status
    changes theirs (billing.StatusChange, deleted with the business). This one outlives the business it
    names: `tenant_id` is no foreign key, and the row keeps the business's address and name.
    """

    kind = models.CharField(_("what"), max_length=32, choices=PlatformEventKind.choices)
    tenant_id = models.BigIntegerField(_("business id"))
    slug = models.CharField(_("subdomain"), max_length=40, blank=True)
    schema_name = models.CharField(_("schema"), max_length=63)
    tenant_label = models.CharField(_("business"), max_length=250, blank=True)
    reason = models.TextField(_("reason"))
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = PlatformEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("platform log entry")
        verbose_name_plural = _("platform log")
        constraints = [
            models.CheckConstraint(
                name="platform_event_kind_valid", condition=Q(kind__in=PlatformEventKind.values)
            ),
            models.CheckConstraint(name="platform_event_has_reason", condition=~Q(reason="")),
        ]
        indexes = [models.Index(fields=["tenant_id", "-created_at"], name="platform_event_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.tenant_label or self.schema_name}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("platform log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("platform log entries cannot be deleted")
