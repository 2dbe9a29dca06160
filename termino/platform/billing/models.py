"""Plans, each business's billing account, and the Stripe events received. Public schema.

Tenant.status is the business's platform status (trial, active, past_due, suspended, cancelled); it is
changed only by services.tenant_status_set. BillingAccount mirrors what Stripe says about the business's
subscription, so pages and limits never need a network call.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Interval(models.TextChoices):
    MONTH = "month", _("monthly")
    YEAR = "year", _("yearly")


class SubscriptionStatus(models.TextChoices):
    """Stripe's subscription statuses, mirrored as received ("" while there is no subscription)."""

    NONE = "", _("no subscription")
    INCOMPLETE = "incomplete", _("incomplete")
    INCOMPLETE_EXPIRED = "incomplete_expired", _("incomplete, expired")
    TRIALING = "trialing", _("trialing")
    ACTIVE = "active", _("active")
    PAST_DUE = "past_due", _("past due")
    CANCELED = "canceled", pgettext_lazy("subscription status", "canceled")
    UNPAID = "unpaid", _("unpaid")
    PAUSED = "paused", _("paused")


class Plan(models.Model):
    """What a business can buy: prices per interval and the limits that come with it."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3, default="eur")
    price_monthly_cents = models.PositiveIntegerField(_("monthly price (cents)"))
    price_yearly_cents = models.PositiveIntegerField(_("yearly price (cents)"))
    # Stripe Price ids; when blank, Checkout is given the price inline (price_data) instead.
    stripe_price_monthly = models.CharField(_("Stripe price id, monthly"), max_length=100, blank=True)
    stripe_price_yearly = models.CharField(_("Stripe price id, yearly"), max_length=100, blank=True)
    max_staff = models.PositiveSmallIntegerField(_("team members (logins)"))
    sms_per_month = models.PositiveIntegerField(_("SMS per month"))
    custom_domain = models.BooleanField(_("custom domain"), default=False)
    active = models.BooleanField(_("offered"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "price_monthly_cents", "code"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [
            models.CheckConstraint(name="plan_code_format", condition=Q(code__regex=r"^[a-z][a-z0-9-]*$")),
            models.CheckConstraint(name="plan_currency_format", condition=Q(currency__regex=r"^[a-z]{3}$")),
            models.CheckConstraint(
                name="plan_prices_positive", condition=Q(price_monthly_cents__gt=0, price_yearly_cents__gt=0)
            ),
            # Every plan includes at least its owner's login.
            models.CheckConstraint(name="plan_max_staff_positive", condition=Q(max_staff__gte=1)),
            models.CheckConstraint(name="plan_name_not_empty", condition=~Q(name="")),
            # A Stripe price identifies one plan: webhooks map a subscription's price back to its plan.
            models.UniqueConstraint(
                fields=["stripe_price_monthly"],
                condition=~Q(stripe_price_monthly=""),
                name="plan_stripe_price_monthly_unique",
            ),
            models.UniqueConstraint(
                fields=["stripe_price_yearly"],
                condition=~Q(stripe_price_yearly=""),
                name="plan_stripe_price_yearly_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def price_cents(self, interval: str) -> int:
        return self.price_yearly_cents if interval == Interval.YEAR else self.price_monthly_cents

    def stripe_price(self, interval: str) -> str:
        return self.stripe_price_yearly if interval == Interval.YEAR else self.stripe_price_monthly

    @property
    def price_monthly(self) -> Decimal:
        return Decimal(self.price_monthly_cents) / 100

    @property
    def price_yearly(self) -> Decimal:
        return Decimal(self.price_yearly_cents) / 100


class BillingAccount(models.Model):
    """One per business, opened with its trial at signup: plan, Stripe ids and the subscription mirror."""

    tenant = models.OneToOneField(
        "tenancy.Tenant", on_delete=models.CASCADE, related_name="billing_account", verbose_name=_("business")
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("plan"))
    interval = models.CharField(_("interval"), max_length=5, choices=Interval.choices, default=Interval.MONTH)
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    subscription_status = models.CharField(
        _("subscription status"), max_length=20, choices=SubscriptionStatus.choices, blank=True
    )
    cancel_at_period_end = models.BooleanField(default=False)
    trial_ends_at = models.DateTimeField(_("trial ends"))
    current_period_end = models.DateTimeField(_("paid until"), null=True, blank=True)
    # Set when a payment fails; the business is suspended once it has passed without a payment.
    grace_until = models.DateTimeField(_("grace period until"), null=True, blank=True)
    # When the subscription ended; the retention worker deletes the data BILLING_RETENTION_DAYS later.
    cancelled_at = models.DateTimeField(pgettext_lazy("subscription", "cancelled"), null=True, blank=True)
    # Bought SMS packs not used up yet; they do not expire and are used after the monthly allowance.
    extra_sms_credits = models.PositiveIntegerField(_("extra SMS credits"), default=0)
    # Suspended by platform staff (e.g. abuse): Stripe's events and payments do not reopen the business.
    held_by_staff = models.BooleanField(_("suspended by platform staff"), default=False)
    # `created` of the last subscription-related Stripe event applied: older ones arriving late are ignored.
    updated_from_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("billing account")
        verbose_name_plural = _("billing accounts")
        constraints = [
            models.CheckConstraint(name="billing_interval_valid", condition=Q(interval__in=Interval.values)),
            models.CheckConstraint(
                name="billing_subscription_status_valid",
                condition=Q(subscription_status__in=SubscriptionStatus.values),
            ),
            models.UniqueConstraint(
                fields=["stripe_customer_id"],
                condition=~Q(stripe_customer_id=""),
                name="billing_stripe_customer_unique",
            ),
            models.UniqueConstraint(
                fields=["stripe_subscription_id"],
                condition=~Q(stripe_subscription_id=""),
                name="billing_stripe_subscription_unique",
            ),
            # A subscription belongs to a Stripe customer; so does its status.
            models.CheckConstraint(
                name="billing_subscription_has_customer",
                condition=Q(stripe_subscription_id="") | ~Q(stripe_customer_id=""),
            ),
            models.CheckConstraint(
                name="billing_status_needs_subscription",
                condition=Q(subscription_status="") | ~Q(stripe_subscription_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant} · {self.plan}"


class StripeEvent(models.Model):
    """Every verified webhook event, stored by its id: a second delivery of the same event is a no-op."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    created = models.DateTimeField()  # Stripe's `created` of the event
    payload = models.JSONField()
    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.SET_NULL, null=True, blank=True, related_name="stripe_events"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        constraints = [
            models.CheckConstraint(name="stripe_event_id_format", condition=Q(event_id__startswith="evt_")),
            models.CheckConstraint(name="stripe_event_type_not_empty", condition=~Q(type="")),
        ]
        indexes = [models.Index(fields=["tenant", "-created"], name="stripe_event_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class SmsPackPurchase(models.Model):
    """A paid SMS pack, one row per Checkout Session: however often Stripe reports it, it counts once."""

    account = models.ForeignKey(BillingAccount, on_delete=models.CASCADE, related_name="sms_purchases")
    checkout_session_id = models.CharField(max_length=255, unique=True)
    pack = models.CharField(max_length=32)
    sms = models.PositiveIntegerField()
    amount_cents = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("SMS pack purchase")
        verbose_name_plural = _("SMS pack purchases")
        constraints = [models.CheckConstraint(name="sms_pack_purchase_positive", condition=Q(sms__gt=0))]

    def __str__(self) -> str:
        return f"{self.sms} SMS ({self.checkout_session_id})"


class StatusChange(models.Model):
    """Each change of a business's status, why, and by what: the trail behind suspensions."""

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="status_changes")
    old_status = models.CharField(max_length=16)
    new_status = models.CharField(max_length=16)
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        constraints = [
            models.CheckConstraint(
                name="status_change_changes", condition=~Q(old_status=models.F("new_status"))
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant}: {self.old_status} → {self.new_status}"


class ConnectStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RESTRICTED = "restricted", _("Restricted")
    ENABLED = "enabled", _("Enabled")


class ConnectAccount(models.Model):
    """A business's own Stripe account (Connect, Express): its customers' payments go there, the platform
    keeps its fee. A mirror of what Stripe says about it, so pages need no network call; webhook events of
    a connected account name it (`account`), which is how they find their business."""

    tenant = models.OneToOneField("tenancy.Tenant", on_delete=models.CASCADE, related_name="connect_account")
    stripe_account_id = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=12, choices=ConnectStatus.choices, default=ConnectStatus.PENDING)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    disabled_reason = models.CharField(max_length=100, blank=True)  # Stripe's requirements.disabled_reason
    currently_due = models.JSONField(default=list, blank=True)  # Stripe's requirements.currently_due
    updated_from_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("connected Stripe account")
        verbose_name_plural = _("connected Stripe accounts")
        constraints = [
            models.CheckConstraint(
                name="connect_account_id_format", condition=Q(stripe_account_id__startswith="acct_")
            ),
            models.CheckConstraint(
                name="connect_enabled_can_charge",
                condition=~Q(status="enabled") | Q(charges_enabled=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stripe_account_id} ({self.status})"
