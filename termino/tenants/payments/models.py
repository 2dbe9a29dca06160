"""Payments of a business's customers, taken on the business's own Stripe account (Connect).

Amounts are integer cents in euros. A payment belongs to the appointment it was taken for; it stays (for
the books) when the appointment or the customer goes: the link becomes NULL and `description` keeps what
it was for.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

CURRENCY = "eur"


class RuleKind(models.TextChoices):
    NONE = "none", _("No payment online")
    DEPOSIT_FIXED = "deposit_fixed", _("Deposit (fixed amount)")
    DEPOSIT_PERCENT = "deposit_percent", _("Deposit (percent of the price)")
    PREPAY = "prepay", _("Full prepayment")
    CARD_ON_FILE = "card_on_file", _("Card on file (charged only for a no-show or late cancellation)")


class ServicePaymentRule(models.Model):
    """What a customer pays online when booking a service; a service without a row asks for nothing."""

    service = models.OneToOneField(
        "scheduling.Service", on_delete=models.CASCADE, primary_key=True, related_name="payment_rule"
    )
    kind = models.CharField(_("payment"), max_length=16, choices=RuleKind.choices, default=RuleKind.NONE)
    # The fixed deposit, or the fee charged to a card on file for a no-show or a late cancellation.
    amount_cents = models.PositiveIntegerField(_("amount (cents)"), default=0)
    percent = models.PositiveSmallIntegerField(_("percent"), default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="payment_rule_amount_needed",
                condition=~Q(kind__in=["deposit_fixed", "card_on_file"]) | Q(amount_cents__gt=0),
            ),
            models.CheckConstraint(
                name="payment_rule_percent_range",
                condition=~Q(kind="deposit_percent") | Q(percent__gte=1, percent__lte=100),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}: {self.kind}"


class PaymentSettings(models.Model):
    """The business's payment policy (one row)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    # Share of what was paid that a cancellation before the cut-off gives back.
    refund_before_cutoff_percent = models.PositiveSmallIntegerField(
        _("refund on cancellation before the cut-off (%)"), default=100
    )
    # Customers with this many no-shows are asked for a deposit (0: never).
    deposit_after_no_shows = models.PositiveSmallIntegerField(
        _("ask for a deposit after no-shows"), default=0
    )
    no_show_deposit_cents = models.PositiveIntegerField(_("deposit for such customers (cents)"), default=2000)

    class Meta:
        constraints = [
            models.CheckConstraint(name="payment_settings_single_row", condition=Q(id=1)),
            models.CheckConstraint(
                name="payment_settings_refund_percent", condition=Q(refund_before_cutoff_percent__lte=100)
            ),
        ]

    def __str__(self) -> str:
        return "payment settings"

    @classmethod
    def current(cls) -> "PaymentSettings":
        return cls.objects.filter(pk=1).first() or cls()


class CustomerPaymentRule(models.Model):
    """'Always ask this customer for a deposit', set by the team."""

    customer = models.OneToOneField(
        "crm.Customer", on_delete=models.CASCADE, primary_key=True, related_name="payment_rule"
    )
    always_deposit = models.BooleanField(_("always ask for a deposit"), default=False)

    def __str__(self) -> str:
        return f"{self.customer_id}: deposit {self.always_deposit}"


class PaymentKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    PREPAYMENT = "prepayment", _("Prepayment")
    CARD_ON_FILE = "card_on_file", _("Card on file")
    FEE = "fee", _("No-show or late cancellation fee")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for payment")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Not completed")


class Payment(models.Model):
    """One payment (or card saved for later) of a customer to the business."""

    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.SET_NULL, null=True, blank=True, related_name="payments"
    )
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="payments"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=PaymentKind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    description = models.CharField(_("for"), max_length=300)
    amount_cents = models.PositiveIntegerField(_("amount (cents)"))  # 0 for a card saved for later
    refunded_cents = models.PositiveIntegerField(_("refunded (cents)"), default=0)
    application_fee_cents = models.PositiveIntegerField(_("platform fee (cents)"), default=0)
    fee_cents = models.PositiveIntegerField(default=0)  # card on file: what a no-show costs
    currency = models.CharField(max_length=3, default=CURRENCY)
    # The customer's reference (return page), and the key of every Stripe write made for this payment.
    token = models.CharField(max_length=64, unique=True)
    checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    setup_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    payment_method_id = models.CharField(max_length=255, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    # The card-on-file payment a fee was charged to (one fee per card on file).
    charged_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="fee_charge"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="payment_refund_not_above_amount", condition=Q(refunded_cents__lte=F("amount_cents"))
            ),
            models.CheckConstraint(
                name="payment_amount_unless_card",
                condition=Q(kind="card_on_file", amount_cents=0)
                | (~Q(kind="card_on_file") & Q(amount_cents__gt=0)),
            ),
            models.CheckConstraint(
                name="payment_fee_not_above_amount", condition=Q(application_fee_cents__lte=F("amount_cents"))
            ),
            models.CheckConstraint(
                name="payment_paid_has_time", condition=~Q(status="succeeded") | Q(paid_at__isnull=False)
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="payment_status_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_cents} {self.status}"

    @property
    def kept_cents(self) -> int:
        return self.amount_cents - self.refunded_cents


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Being refunded")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Refund failed")


class RefundReason(models.TextChoices):
    POLICY = "policy", _("Cancelled before the cut-off")
    STAFF = "staff", _("Refunded by the team")
    SLOT_LOST = "slot_lost", _("The time was no longer free")
    STRIPE = "stripe", _("Refunded at Stripe")


class Refund(models.Model):
    """Money given back. Written before Stripe is asked (its id is the idempotency key), so a crash or a
    retry never refunds twice; a pending one is sent again by the due work `payments.refunds`."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="refunds")
    amount_cents = models.PositiveIntegerField(_("amount (cents)"))
    status = models.CharField(max_length=12, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    reason = models.CharField(_("reason"), max_length=12, choices=RefundReason.choices)
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(name="refund_amount_positive", condition=Q(amount_cents__gt=0)),
            # A policy refund happens once per payment, whoever cancels and however often it is asked.
            models.UniqueConstraint(
                fields=["payment"], condition=Q(reason="policy"), name="refund_policy_once"
            ),
        ]

    def __str__(self) -> str:
        return f"refund {self.amount_cents} of {self.payment_id}"
