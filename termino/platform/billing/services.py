"""Writes of billing: trials, the business's status, Stripe events, SMS credits.

Every change of Tenant.status goes through `tenant_status_set` (it saves the Tenant row, so the routing
cache forgets the host on commit, and leaves a StatusChange row). The machine:

    trial     ── subscription paid ──────────────▶ active
    active    ── payment failed ─────────────────▶ past_due (grace period BILLING_GRACE_DAYS, a banner)
    past_due  ── grace over (beat task) ─────────▶ suspended (backoffice locked but billing; bookings closed)
    trial     ── trial over, no subscription ────▶ suspended
    past_due, suspended ── invoice paid ─────────▶ active
    any       ── subscription deleted ───────────▶ cancelled (data kept BILLING_RETENTION_DAYS, then the
                                                   retention worker deletes it)
    Platform staff may suspend (held: Stripe's events no longer reopen it) and reactivate.

Stripe events can arrive late, twice or out of order. Each is stored by id first (a second delivery is a
no-op). Subscription-related events carry `created`; one older than the last applied is ignored, one from
the same second is not trusted to be the latest, so the subscription is fetched from Stripe and that
applied instead. checkout.session.completed always fetches the subscription it created.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from termino.platform.tenancy.models import Tenant, TenantStatus
from termino.shared.errors import InvalidRequest

from . import selectors, stripe_gateway
from .models import (
    BillingAccount,
    Interval,
    Plan,
    SmsPackPurchase,
    StatusChange,
    StripeEvent,
    SubscriptionStatus,
)
from .packs import SmsPack
from .stripe_gateway import PaymentProviderError  # noqa: F401  (what callers of the *_start services catch)

logger = logging.getLogger(__name__)

S = TenantStatus

# Which status may follow which. Pool statuses never take part; `trial` again only by a trial extension.
ALLOWED_CHANGES = {
    S.TRIAL: {S.ACTIVE, S.PAST_DUE, S.SUSPENDED, S.CANCELLED},
    S.ACTIVE: {S.PAST_DUE, S.SUSPENDED, S.CANCELLED},
    S.PAST_DUE: {S.ACTIVE, S.SUSPENDED, S.CANCELLED},
    S.SUSPENDED: {S.ACTIVE, S.PAST_DUE, S.TRIAL, S.CANCELLED},
    S.CANCELLED: {S.ACTIVE},  # subscribing again within the retention period
}

# Subscriptions that are being paid for (or are about to be retried).
LIVE_SUBSCRIPTION = {SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE}

# What a subscription's status means for the business. `incomplete` (first payment still open) and
# `incomplete_expired` change nothing: the business stays where it was.
TENANT_STATUS_FOR_SUBSCRIPTION = {
    SubscriptionStatus.ACTIVE: S.ACTIVE,
    SubscriptionStatus.TRIALING: S.ACTIVE,
    SubscriptionStatus.PAST_DUE: S.PAST_DUE,
    SubscriptionStatus.UNPAID: S.SUSPENDED,  # Stripe has given up retrying
    SubscriptionStatus.PAUSED: S.SUSPENDED,
    SubscriptionStatus.CANCELED: S.CANCELLED,
}


class StatusChangeNotAllowed(ValueError):
    pass


# --- The business's status ---------------------------------------------------------------------------


@transaction.atomic
def tenant_status_set(*, tenant: Tenant, status: str, reason: str) -> bool:
    """Move a business to `status`; returns False when it is there already. Raises StatusChangeNotAllowed.

    Reads and writes the locked row; the `tenant` passed in (perhaps the routing cache's copy) is not changed.
    """
    row = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if row.status == status:
        return False
    if status not in ALLOWED_CHANGES.get(row.status, ()):
        raise StatusChangeNotAllowed(f"{row.status} → {status} is not a valid change for {row}")
    old = row.status
    row.status = status
    row.save(update_fields=["status"])  # post_save: the routing cache forgets its hosts on commit
    StatusChange.objects.create(tenant=row, old_status=old, new_status=status, reason=reason[:200])
    logger.info("business %s: %s → %s (%s)", row.schema_name, old, status, reason)
    return True


def _tenant_status_locked(tenant_id: int) -> str:
    return Tenant.objects.select_for_update().values_list("status", flat=True).get(pk=tenant_id)


def _tenant_follow(account: BillingAccount, target: str, *, reason: str) -> None:
    """Bring the business in line with what Stripe says (`target`), keeping the machine's rules.

    The caller holds the account's row lock and saves the account afterwards.
    """
    current = _tenant_status_locked(account.tenant_id)
    now = timezone.now()
    if account.held_by_staff and target != S.CANCELLED:
        return  # suspended by platform staff: only they reopen it (the mirror is still updated)
    if target == S.ACTIVE:
        account.grace_until = None
        account.cancelled_at = None
        tenant_status_set(tenant=account.tenant, status=S.ACTIVE, reason=reason)
    elif target == S.PAST_DUE:
        # A suspended business stays suspended until it pays; a cancelled one stays cancelled.
        if current in (S.TRIAL, S.ACTIVE, S.PAST_DUE):
            if account.grace_until is None:  # the grace period runs from the first failure, once
                account.grace_until = now + timedelta(days=settings.BILLING_GRACE_DAYS)
            tenant_status_set(tenant=account.tenant, status=S.PAST_DUE, reason=reason)
    elif target == S.SUSPENDED:
        if current not in (S.SUSPENDED, S.CANCELLED):
            tenant_status_set(tenant=account.tenant, status=S.SUSPENDED, reason=reason)
    elif target == S.CANCELLED:
        account.grace_until = None
        account.cancelled_at = account.cancelled_at or now
        tenant_status_set(tenant=account.tenant, status=S.CANCELLED, reason=reason)


# --- Trial -------------------------------------------------------------------------------------------


def billing_account_open(*, tenant: Tenant) -> BillingAccount | None:
    """The business's billing account with a trial on the trial plan, no card needed. Idempotent.

    Called when a business is provisioned (signals.py). Never fails a signup: without any plan it logs
    and returns None (selectors treat a missing account as a trial without limits data).
    """
    existing = BillingAccount.objects.filter(tenant_id=tenant.pk).first()
    if existing is not None:
        return existing
    plan = (
        Plan.objects.filter(code=settings.BILLING_TRIAL_PLAN).first()
        or Plan.objects.filter(active=True).order_by("sort_order", "price_monthly_cents").first()
    )
    if plan is None:
        logger.error("no plan exists: business %s has no billing account", tenant.schema_name)
        return None
    start = tenant.activated_at or timezone.now()
    account, _created = BillingAccount.objects.get_or_create(
        tenant=tenant,
        defaults={"plan": plan, "trial_ends_at": start + timedelta(days=settings.BILLING_TRIAL_DAYS)},
    )
    return account


@transaction.atomic
def billing_trial_extend(*, tenant: Tenant, days: int, reason: str) -> BillingAccount:
    """More trial days (platform staff); a business suspended for its trial's end is opened again."""
    if not 1 <= days <= 365:
        raise InvalidRequest(_("A trial can be extended by 1 to 365 days."))
    account = _account_locked(tenant)
    if account.subscription_status in LIVE_SUBSCRIPTION:
        raise InvalidRequest(_("This business pays for a subscription; there is no trial to extend."))
    account.trial_ends_at = max(account.trial_ends_at, timezone.now()) + timedelta(days=days)
    account.save(update_fields=["trial_ends_at", "updated_at"])
    if _tenant_status_locked(account.tenant_id) == S.SUSPENDED and not account.held_by_staff:
        tenant_status_set(tenant=account.tenant, status=S.TRIAL, reason=reason)
    return account


def _status_from_mirror(account: BillingAccount, now: datetime) -> str:
    """The status the business would have by its subscription and trial alone."""
    sub = account.subscription_status
    if sub in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
        return S.ACTIVE
    if sub == SubscriptionStatus.PAST_DUE:
        return S.PAST_DUE if account.grace_until is None or account.grace_until > now else S.SUSPENDED
    if sub == SubscriptionStatus.CANCELED:
        return S.CANCELLED
    if sub in (SubscriptionStatus.NONE, SubscriptionStatus.INCOMPLETE, SubscriptionStatus.INCOMPLETE_EXPIRED):
        return S.TRIAL if account.trial_ends_at > now else S.SUSPENDED
    return S.SUSPENDED  # unpaid, paused


@transaction.atomic
def billing_staff_suspend(*, tenant: Tenant, reason: str) -> None:
    """Platform staff suspend a business (abuse, fraud): it stays suspended whatever Stripe reports."""
    account = _account_locked(tenant)
    if _tenant_status_locked(account.tenant_id) == S.CANCELLED:
        raise InvalidRequest(_("A cancelled business cannot be suspended."))
    account.held_by_staff = True
    account.save(update_fields=["held_by_staff", "updated_at"])
    tenant_status_set(tenant=account.tenant, status=S.SUSPENDED, reason=f"platform staff: {reason}")


@transaction.atomic
def billing_staff_reactivate(*, tenant: Tenant, reason: str) -> str:
    """Platform staff lift a suspension; the business gets the status its subscription and trial give it
    (a business whose trial is over without a subscription stays suspended). Returns the status."""
    account = _account_locked(tenant)
    account.held_by_staff = False
    account.save(update_fields=["held_by_staff", "updated_at"])
    target = _status_from_mirror(account, timezone.now())
    if _tenant_status_locked(account.tenant_id) == S.SUSPENDED:
        tenant_status_set(tenant=account.tenant, status=target, reason=f"platform staff: {reason}")
    return target


# --- The periodic check ------------------------------------------------------------------------------


def billing_overdue_suspend(*, now: datetime | None = None) -> int:
    """Suspend businesses whose trial ended without a subscription or whose grace period is over.

    Returns how many were suspended. Each business in its own short transaction.
    """
    now = now or timezone.now()
    due = BillingAccount.objects.filter(
        Q(tenant__status=S.TRIAL, trial_ends_at__lte=now)
        | Q(tenant__status=S.PAST_DUE, grace_until__lte=now)
        | Q(tenant__status=S.PAST_DUE, grace_until__isnull=True)
    )
    return sum(_overdue_suspend_one(pk, now) for pk in due.values_list("pk", flat=True))


@transaction.atomic
def _overdue_suspend_one(pk: int, now: datetime) -> int:
    account = BillingAccount.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=pk)
    status = _tenant_status_locked(account.tenant_id)
    if status == S.TRIAL and account.trial_ends_at <= now:
        reason = "trial ended without a subscription"
    elif status == S.PAST_DUE and account.grace_until is None:  # cannot happen through the services
        account.grace_until = now + timedelta(days=settings.BILLING_GRACE_DAYS)
        account.save(update_fields=["grace_until", "updated_at"])
        return 0
    elif status == S.PAST_DUE and account.grace_until <= now:
        reason = "grace period over without payment"
    else:
        return 0  # paid (or changed) since the query
    tenant_status_set(tenant=account.tenant, status=S.SUSPENDED, reason=reason)
    return 1


# --- Starting payments (these call Stripe, so they hold no transaction across the call) --------------


def _account_locked(tenant: Tenant) -> BillingAccount:
    account = (
        BillingAccount.objects.select_for_update(of=("self",))
        .select_related("tenant", "plan")
        .filter(tenant_id=tenant.pk)
        .first()
    )
    if account is None:
        raise InvalidRequest(
            _("Billing is not set up for this business yet. Please contact Termino support.")
        )
    return account


def billing_customer_ensure(*, tenant: Tenant) -> str:
    """The business's Stripe customer id, created on first use (locked: two clicks make one customer)."""
    with transaction.atomic():
        account = _account_locked(tenant)
        if not account.stripe_customer_id:
            account.stripe_customer_id = stripe_gateway.customer_create(tenant=account.tenant)
            account.save(update_fields=["stripe_customer_id", "updated_at"])
        return account.stripe_customer_id


def billing_checkout_start(*, tenant: Tenant, plan: Plan, interval: str) -> stripe_gateway.HostedPage:
    """A Checkout Session to subscribe to `plan`, or to change to it (the old subscription then ends
    when the new one is paid, see `_subscription_replaced`)."""
    if not plan.active:
        raise InvalidRequest(_("This plan is no longer offered."))
    if interval not in Interval.values:
        raise InvalidRequest(_("Please choose monthly or yearly payment."))
    account = BillingAccount.objects.select_related("tenant").filter(tenant_id=tenant.pk).first()
    if account is None:
        raise InvalidRequest(
            _("Billing is not set up for this business yet. Please contact Termino support.")
        )
    if (
        account.subscription_status in LIVE_SUBSCRIPTION
        and account.plan_id == plan.pk
        and account.interval == interval
    ):
        raise InvalidRequest(_("You already have this plan."))
    members = selectors.staff_count(account.tenant)
    if members > plan.max_staff:
        raise InvalidRequest(
            _(
                "Your team has %(members)d members with a login; the %(plan)s plan includes %(max)d. "
                "Please deactivate members on the team page first."
            )
            % {"members": members, "plan": plan.name, "max": plan.max_staff}
        )
    customer_id = billing_customer_ensure(tenant=tenant)
    return stripe_gateway.checkout_subscription_create(
        tenant=account.tenant, customer_id=customer_id, plan=plan, interval=interval
    )


def billing_portal_start(*, tenant: Tenant) -> stripe_gateway.HostedPage:
    """A Billing Portal session for payment methods, invoices and cancellation."""
    account = BillingAccount.objects.select_related("tenant").filter(tenant_id=tenant.pk).first()
    if account is None or not account.stripe_customer_id:
        raise InvalidRequest(_("There is nothing to manage yet: please choose a plan first."))
    return stripe_gateway.portal_session_create(tenant=account.tenant, customer_id=account.stripe_customer_id)


def sms_pack_checkout_start(*, tenant: Tenant, pack: SmsPack) -> stripe_gateway.HostedPage:
    """A Checkout Session (one-off payment) for an SMS pack."""
    status = Tenant.objects.values_list("status", flat=True).get(pk=tenant.pk)
    if status in (S.SUSPENDED, S.CANCELLED):
        raise InvalidRequest(_("Please reactivate your subscription before buying SMS."))
    customer_id = billing_customer_ensure(tenant=tenant)
    account = BillingAccount.objects.select_related("tenant").get(tenant_id=tenant.pk)
    return stripe_gateway.checkout_sms_pack_create(tenant=account.tenant, customer_id=customer_id, pack=pack)


# --- SMS quota ---------------------------------------------------------------------------------------


@transaction.atomic
def billing_account_close(*, tenant: Tenant, reason: str) -> None:
    """The owner closes the business (no subscription running): cancelled now, and `cancelled_at` starts
    the retention period after which the retention worker exports and deletes the data."""
    tenant_status_set(tenant=tenant, status=S.CANCELLED, reason=reason)
    BillingAccount.objects.filter(tenant_id=tenant.pk, cancelled_at__isnull=True).update(
        cancelled_at=timezone.now()
    )


@transaction.atomic
def sms_quota_take(*, tenant: Tenant) -> bool:
    """May one more SMS go out? Uses the monthly allowance first, then one bought credit.

    Call right before handing an SMS to the gateway; on False mark it skipped ("SMS quota of this month
    used up"). The account's row lock serialises concurrent senders of one business.
    """
    account = (
        BillingAccount.objects.select_for_update(of=("self",))
        .select_related("plan")
        .filter(tenant_id=tenant.pk)
        .first()
    )
    if account is None:
        logger.warning("business %s has no billing account: SMS not limited", tenant.schema_name)
        return True
    if selectors.sms_sent_this_month(tenant) < account.plan.sms_per_month:
        return True
    if account.extra_sms_credits > 0:
        account.extra_sms_credits -= 1
        account.save(update_fields=["extra_sms_credits", "updated_at"])
        return True
    return False


# --- Stripe events -----------------------------------------------------------------------------------


def _event_time(event: dict) -> datetime:
    return datetime.fromtimestamp(int(event["created"]), tz=UTC)


def _id_of(value) -> str:
    """An expandable field: an id, an expanded object, or null."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _account_for(obj: dict) -> BillingAccount | None:
    """The (locked) account a Stripe object belongs to: by our tenant id in its metadata or
    client_reference_id, else by its customer. Ids that disagree match nothing."""
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    tenant_id = str(
        (obj.get("metadata") or {}).get("tenant_id")
        or obj.get("client_reference_id")
        or (parent.get("metadata") or {}).get("tenant_id")
        or ""
    )
    customer = _id_of(obj.get("customer"))
    accounts = BillingAccount.objects.select_for_update(of=("self",)).select_related("tenant", "plan")
    account = accounts.filter(tenant_id=int(tenant_id)).first() if tenant_id.isdigit() else None
    if account is None and customer:
        account = accounts.filter(stripe_customer_id=customer).first()
    if account is not None and customer and account.stripe_customer_id != customer:
        belongs_elsewhere = (
            account.stripe_customer_id
            or BillingAccount.objects.filter(stripe_customer_id=customer).exclude(pk=account.pk).exists()
        )
        if belongs_elsewhere:
            logger.warning(
                "Stripe object %s: customer %s is not business %s's", obj.get("id"), customer, tenant_id
            )
            return None
    return account


def _order(account: BillingAccount, event_at: datetime) -> str:
    """ "newer", "same" (same second: cannot tell which is the latest) or "older" than the state we have."""
    last = account.updated_from_event_at
    if last is None or event_at > last:
        return "newer"
    return "same" if event_at == last else "older"


def _record_time(account: BillingAccount, event_at: datetime) -> None:
    if account.updated_from_event_at is None or event_at > account.updated_from_event_at:
        account.updated_from_event_at = event_at


def _plan_and_interval(sub: dict, account: BillingAccount) -> tuple[Plan, str]:
    """A configured Stripe price names its plan; otherwise the metadata we gave the subscription."""
    items = ((sub.get("items") or {}).get("data")) or []
    price = (items[0].get("price") if items else None) or {}
    price_id = price.get("id") or ""
    metadata = sub.get("metadata") or {}
    plan = (
        Plan.objects.filter(Q(stripe_price_monthly=price_id) | Q(stripe_price_yearly=price_id)).first()
        if price_id
        else None
    )
    if plan is not None:
        return plan, Interval.YEAR if plan.stripe_price_yearly == price_id else Interval.MONTH
    plan = Plan.objects.filter(code=metadata.get("plan", "")).first() or account.plan
    interval = (price.get("recurring") or {}).get("interval") or metadata.get("interval")
    return plan, interval if interval in Interval.values else account.interval


def _period_end(sub: dict) -> datetime | None:
    # Since API 2025-03-31 the billing period lives on the subscription items, no longer on the subscription.
    ends = [item.get("current_period_end") for item in (sub.get("items") or {}).get("data") or []]
    ends = [end for end in ends if end] or [sub.get("current_period_end")]
    return datetime.fromtimestamp(max(ends), tz=UTC) if ends[0] else None


def _subscription_apply(account: BillingAccount, sub: dict, *, reason: str) -> None:
    """Mirror a subscription object onto the account and move the business accordingly."""
    status = sub.get("status", "")
    if status not in SubscriptionStatus.values:
        logger.warning("unknown Stripe subscription status %r on %s: not mirrored", status, sub.get("id"))
        return
    account.plan, account.interval = _plan_and_interval(sub, account)
    account.stripe_subscription_id = sub["id"]
    if not account.stripe_customer_id:
        account.stripe_customer_id = _id_of(sub.get("customer"))
    account.subscription_status = status
    account.cancel_at_period_end = bool(sub.get("cancel_at_period_end"))
    account.current_period_end = _period_end(sub) or account.current_period_end
    target = TENANT_STATUS_FOR_SUBSCRIPTION.get(status)
    if target is not None:
        _tenant_follow(account, target, reason=reason)


def _subscription_replaced(previous_id: str, previous_status: str, account: BillingAccount) -> None:
    """After a plan change the new subscription is live: end the old one, so it is not billed twice."""
    ended = previous_status in (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED)
    if previous_id and previous_id != account.stripe_subscription_id and not ended:
        stripe_gateway.subscription_cancel(previous_id)
        logger.info(
            "business %s: subscription %s replaced by %s",
            account.tenant_id,
            previous_id,
            account.stripe_subscription_id,
        )


def _on_checkout_completed(event: dict) -> tuple[str, BillingAccount | None]:
    session = event["data"]["object"]
    account = _account_for(session)
    if account is None:
        return "ignored: no business for this checkout session", None
    if session.get("mode") == "payment":
        return _sms_pack_credit(account, session), account
    if session.get("mode") != "subscription" or session.get("status") != "complete":
        return "ignored: not a completed subscription checkout", account
    sub_id = _id_of(session.get("subscription"))
    if not sub_id:
        return "ignored: no subscription in the session", account
    # The session's own copy says little about the subscription's state: ask Stripe for it.
    sub = stripe_gateway.subscription_retrieve(sub_id)
    previous, previous_status = account.stripe_subscription_id, account.subscription_status
    if previous and previous != sub_id and sub.get("status") not in LIVE_SUBSCRIPTION:
        return f"ignored: new subscription is {sub.get('status')}, the current one stays", account
    if not account.stripe_customer_id:
        account.stripe_customer_id = _id_of(session.get("customer"))
    _subscription_apply(account, sub, reason="subscription checkout completed")
    _record_time(account, _event_time(event))
    account.save()
    _subscription_replaced(previous, previous_status, account)
    return f"subscription {sub_id} is {sub.get('status')}", account


def _on_subscription_event(event: dict) -> tuple[str, BillingAccount | None]:
    sub = event["data"]["object"]
    account = _account_for(sub)
    if account is None:
        return "ignored: no business for this subscription", None
    event_at = _event_time(event)
    order = _order(account, event_at)
    deleted = event["type"] == "customer.subscription.deleted"
    current, current_status = account.stripe_subscription_id, account.subscription_status
    is_current = current in ("", sub["id"])
    # A new subscription (plan change) is adopted when it is created live; events of other ones are
    # about a subscription this business no longer uses.
    adopt = (
        not is_current
        and event["type"] == "customer.subscription.created"
        and sub.get("status") in LIVE_SUBSCRIPTION
    )
    if not is_current and not adopt:
        return "ignored: not the business's current subscription", account
    if order == "older" and not deleted:  # a deletion is final, however late it comes
        return "ignored: older than the state already applied", account
    if order == "same" and not deleted:
        sub = stripe_gateway.subscription_retrieve(sub["id"])
    _subscription_apply(account, sub, reason=event["type"])
    _record_time(account, event_at)
    account.save()
    if adopt:
        _subscription_replaced(current, current_status, account)
    return f"subscription {sub['id']} is {sub.get('status')}" + (
        " (fetched)" if order == "same" else ""
    ), account


def _invoice_subscription(invoice: dict) -> str:
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    # `parent` since API 2025-03-31; the top-level field before.
    return _id_of(parent.get("subscription")) or _id_of(invoice.get("subscription"))


def _on_invoice_event(event: dict) -> tuple[str, BillingAccount | None]:
    invoice = event["data"]["object"]
    sub_id = _invoice_subscription(invoice)
    if not sub_id:
        return "ignored: not a subscription invoice", None  # e.g. the invoice of an SMS pack
    account = _account_for(invoice)
    if account is None:
        return "ignored: no business for this invoice", None
    if account.stripe_subscription_id not in ("", sub_id):
        return "ignored: invoice of another subscription", account
    if account.subscription_status == SubscriptionStatus.CANCELED:
        return "ignored: the subscription has ended", account
    event_at = _event_time(event)
    order = _order(account, event_at)
    if order == "older":
        return "ignored: older than the state already applied", account
    paid = event["type"] == "invoice.paid"
    if order == "same" or not account.stripe_subscription_id:
        # Same second as the last event, or before checkout.session.completed: trust only Stripe's state.
        sub = stripe_gateway.subscription_retrieve(sub_id)
        if sub.get("status") not in LIVE_SUBSCRIPTION and not account.stripe_subscription_id:
            return f"ignored: subscription is {sub.get('status')}", account
        _subscription_apply(account, sub, reason=f"{event['type']} (fetched)")
        result = f"subscription {sub_id} is {sub.get('status')} (fetched)"
    elif paid:
        account.subscription_status = SubscriptionStatus.ACTIVE
        _tenant_follow(account, S.ACTIVE, reason="invoice paid")
        result = "invoice paid: active"
    else:
        account.subscription_status = SubscriptionStatus.PAST_DUE
        _tenant_follow(account, S.PAST_DUE, reason="invoice payment failed")
        result = "payment failed: past due"
    _record_time(account, event_at)
    account.save()
    return result, account


def _sms_pack_credit(account: BillingAccount, session: dict) -> str:
    if session.get("payment_status") != "paid":
        return "ignored: SMS pack not paid yet"
    metadata = session.get("metadata") or {}
    if metadata.get("kind") != "sms_pack":
        return "ignored: payment is not an SMS pack"
    try:
        sms = int(metadata.get("sms", ""))
    except ValueError:
        sms = 0
    if sms <= 0:
        logger.error("checkout session %s: SMS pack without a size", session.get("id"))
        return "ignored: SMS pack without a size"
    try:
        with transaction.atomic():
            SmsPackPurchase.objects.create(
                account=account,
                checkout_session_id=session["id"],
                pack=str(metadata.get("pack", ""))[:32],
                sms=sms,
                amount_cents=int(session.get("amount_total") or 0),
            )
    except IntegrityError:  # completed and async_payment_succeeded, or a replay under another event id
        return "ignored: SMS pack credited already"
    account.extra_sms_credits += sms  # under the row lock taken by _account_for
    account.save(update_fields=["extra_sms_credits", "updated_at"])
    return f"{sms} SMS credited"


EVENT_HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "checkout.session.async_payment_succeeded": _on_checkout_completed,
    "customer.subscription.created": _on_subscription_event,
    "customer.subscription.updated": _on_subscription_event,
    "customer.subscription.deleted": _on_subscription_event,
    "invoice.paid": _on_invoice_event,
    "invoice.payment_failed": _on_invoice_event,
}


@transaction.atomic
def stripe_event_handle(*, event: dict) -> str:
    """Apply one verified Stripe event, at most once. Returns what was done (stored with the event).

    A failure (Stripe unreachable while fetching) rolls everything back, the event included, so Stripe's
    next delivery tries again.
    """
    try:
        with transaction.atomic():
            record = StripeEvent.objects.create(
                event_id=event["id"], type=event["type"], created=_event_time(event), payload=event
            )
    except IntegrityError:
        return "duplicate: received before"
    handler = EVENT_HANDLERS.get(event["type"])
    result, account = handler(event) if handler else ("ignored: event type not handled", None)
    record.result = result[:200]
    record.processed_at = timezone.now()
    record.tenant_id = account.tenant_id if account else None
    record.save(update_fields=["result", "processed_at", "tenant"])
    return result
