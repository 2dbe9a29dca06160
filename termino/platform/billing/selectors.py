"""Reads of billing: a business's plan, status, limits and usage.

This module is the door through which tenant-side code (backoffice, team, notifications) reads billing;
nothing there imports billing's models. Usage is counted inside the business's own schema.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from termino.platform.tenancy.models import Tenant, TenantStatus
from termino.tenants.accounts.models import Invitation
from termino.tenants.notifications.models import Channel, MessageStatus, OutboxMessage

from . import stripe_gateway
from .models import BillingAccount, Plan, SubscriptionStatus
from .packs import SMS_PACKS, SmsPack, sms_pack

S = TenantStatus
# Days before the trial's end from which the backoffice shows a reminder.
TRIAL_REMINDER_DAYS = 5
LIVE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)


@dataclass(frozen=True)
class Limits:
    plan_name: str
    max_staff: int
    sms_per_month: int
    extra_sms_credits: int
    custom_domain: bool

    @property
    def sms_total(self) -> int:
        return self.sms_per_month + self.extra_sms_credits


@dataclass(frozen=True)
class Usage:
    staff: int
    sms_this_month: int


@dataclass(frozen=True)
class BillingState:
    """What the backoffice shows about billing; `banner` is a sentence for every page, `locked` closes
    everything but the billing page."""

    plan: Plan | None
    interval: str
    status: str
    status_label: str
    trial_ends_at: datetime | None
    trial_days_left: int | None
    grace_until: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    subscribed: bool  # a subscription is being paid for
    can_manage: bool  # a Stripe customer exists: the Billing Portal can be opened
    banner: str | None
    banner_level: str  # "info", "warn" or "err"
    locked: bool


def _account(tenant: Tenant) -> BillingAccount | None:
    return BillingAccount.objects.select_related("plan", "tenant").filter(tenant_id=tenant.pk).first()


def _fallback_plan() -> Plan | None:
    return Plan.objects.filter(code=settings.BILLING_TRIAL_PLAN).first()


def _local_date(tenant: Tenant, moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment, ZoneInfo(tenant.time_zone)), "DATE_FORMAT")


def _days_left(until: datetime, now: datetime) -> int:
    return max(0, math.ceil((until - now) / timedelta(days=1)))


def billing_state(tenant: Tenant) -> BillingState:
    account = _account(tenant)
    # The account's join reads the status fresh; `tenant` may be the routing cache's copy.
    status = account.tenant.status if account else tenant.status
    now = timezone.now()
    trial_days_left = _days_left(account.trial_ends_at, now) if account and status == S.TRIAL else None
    subscribed = bool(account and account.subscription_status in LIVE)
    banner, level = _banner(tenant, account, status, trial_days_left, now)
    return BillingState(
        plan=account.plan if account else _fallback_plan(),
        interval=account.interval if account else "month",
        status=status,
        status_label=str(S(status).label) if status in S.values else status,
        trial_ends_at=account.trial_ends_at if account else None,
        trial_days_left=trial_days_left,
        grace_until=account.grace_until if account else None,
        current_period_end=account.current_period_end if account else None,
        cancel_at_period_end=bool(account and account.cancel_at_period_end),
        subscribed=subscribed,
        can_manage=bool(account and account.stripe_customer_id),
        banner=banner,
        banner_level=level,
        locked=status in (S.SUSPENDED, S.CANCELLED),
    )


def _banner(tenant, account, status, trial_days_left, now) -> tuple[str | None, str]:
    if account is None:
        return None, "info"
    if status == S.PAST_DUE:
        date = _local_date(tenant, account.grace_until or now)
        return (
            _(
                "Your last payment did not go through. Please update your payment method by %(date)s, "
                "otherwise your account will be suspended."
            )
            % {"date": date},
            "err",
        )
    if status == S.SUSPENDED:
        if account.held_by_staff:
            return _(
                "Your account has been suspended by Termino support. Paying does not lift this suspension: "
                "please contact Termino support."
            ), "err"
        if account.subscription_status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID):
            return _(
                "Your account is suspended because a payment is open. "
                "Online bookings are closed until it is paid."
            ), "err"
        if account.trial_ends_at <= now and account.subscription_status not in LIVE:
            return _("Your free trial has ended. Choose a plan to open online bookings again."), "err"
        return _("Your account has been suspended. Please contact Termino support."), "err"
    if status == S.CANCELLED:
        deletion = (account.cancelled_at or now) + timedelta(days=settings.BILLING_RETENTION_DAYS)
        return (
            _(
                "Your subscription has ended. "
                "Your data will be deleted on %(date)s unless you subscribe again."
            )
            % {"date": _local_date(tenant, deletion)},
            "err",
        )
    if status == S.TRIAL and trial_days_left is not None and trial_days_left <= TRIAL_REMINDER_DAYS:
        return (
            _("Your free trial ends on %(date)s. Choose a plan to keep taking bookings.")
            % {"date": _local_date(tenant, account.trial_ends_at)},
            "warn",
        )
    if status == S.ACTIVE and account.cancel_at_period_end and account.current_period_end:
        return (
            _("Your subscription has been cancelled and ends on %(date)s.")
            % {"date": _local_date(tenant, account.current_period_end)},
            "warn",
        )
    return None, "info"


def limits(tenant: Tenant) -> Limits:
    """The business's plan limits, bought SMS credits included."""
    account = _account(tenant)
    plan = account.plan if account else _fallback_plan()
    if plan is None:  # no plans at all: the most careful reading
        return Limits(plan_name="", max_staff=1, sms_per_month=0, extra_sms_credits=0, custom_domain=False)
    return Limits(
        plan_name=plan.name,
        max_staff=plan.max_staff,
        sms_per_month=plan.sms_per_month,
        extra_sms_credits=account.extra_sms_credits if account else 0,
        custom_domain=plan.custom_domain,
    )


def _month_start(tenant: Tenant) -> datetime:
    local = timezone.localtime(timezone.now(), ZoneInfo(tenant.time_zone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def sms_sent_this_month(tenant: Tenant) -> int:
    """SMS handed to the gateway since the 1st of this month (the business's time zone)."""
    with schema_context(tenant.schema_name):
        return OutboxMessage.objects.filter(
            channel=Channel.SMS,
            status__in=(MessageStatus.SENT, MessageStatus.DELIVERED),
            sent_at__gte=_month_start(tenant),
        ).count()


def staff_count(tenant: Tenant) -> int:
    """Team members with an active login, the owner included."""
    with schema_context(tenant.schema_name):
        return get_user_model().objects.filter(is_active=True).count()


def usage(tenant: Tenant) -> Usage:
    return Usage(staff=staff_count(tenant), sms_this_month=sms_sent_this_month(tenant))


def staff_seats_left(tenant: Tenant) -> int:
    """How many more people may be invited: the plan's limit minus active logins and open invitations."""
    with schema_context(tenant.schema_name):
        pending = Invitation.objects.filter(accepted_at__isnull=True, expires_at__gt=timezone.now()).count()
    return max(0, limits(tenant).max_staff - staff_count(tenant) - pending)


def sms_allowance_left(tenant: Tenant) -> int:
    """SMS of this month's plan allowance not used yet (bought credits not counted)."""
    return max(0, limits(tenant).sms_per_month - sms_sent_this_month(tenant))


def sms_quota_left(tenant: Tenant) -> int:
    """SMS the business may still send this month: the rest of its allowance plus bought credits."""
    plan_limits = limits(tenant)
    return max(0, plan_limits.sms_per_month - sms_sent_this_month(tenant)) + plan_limits.extra_sms_credits


def plan_list():
    """Plans on offer, cheapest first."""
    return Plan.objects.filter(active=True).order_by("sort_order", "price_monthly_cents", "code")


def plan_by_code(code: str) -> Plan | None:
    return plan_list().filter(code=code).first()


def sms_pack_list() -> tuple[SmsPack, ...]:
    return SMS_PACKS


def sms_pack_by_code(code: str) -> SmsPack | None:
    return sms_pack(code)


def payments_configured() -> bool:
    """Whether this installation can take payments (a Stripe key is set)."""
    return stripe_gateway.configured()


def accounts_past_retention(*, now: datetime | None = None):
    """Cancelled businesses whose retention period is over (for the retention worker)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.BILLING_RETENTION_DAYS)
    return BillingAccount.objects.filter(tenant__status=S.CANCELLED, cancelled_at__lte=cutoff).select_related(
        "tenant"
    )
