"""Connect: each business takes its customers' payments on its own Stripe account (Express).

The port through which a business's apps (`tenants.payments`) reach Stripe: every call here looks the
business's own connected account up by its tenant, so a business can never charge, refund or read on
another's account, whatever ids it is handed. The mirror of the account (`ConnectAccount`) lives in
`public`, because a webhook event of a connected account names only the account (`account: acct_…`):
that is how it finds its business.

Events of connected accounts arrive at their own endpoint (`/billing/connect/webhook/`, its own signing
secret). Like the billing events they are verified, stored by id before anything is applied (a second
delivery, even a concurrent one, waits on the unique id and then does nothing), and applied in one
transaction with the record. `account.updated` is the platform's own (older events are ignored, one of
the same second is settled by fetching the account); everything else is handed to the handler the
business's payments app registered, inside that business's schema.
"""

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tenants.utils import tenant_context

from termino.platform.tenancy.models import Tenant
from termino.shared.errors import InvalidRequest

from . import stripe_gateway
from .models import ConnectAccount, ConnectStatus, StripeEvent
from .stripe_gateway import PaymentProviderError, SignatureInvalid  # noqa: F401  (for the port's callers)

logger = logging.getLogger(__name__)

RETURN_PATH = "/payments/connect/return/"
REFRESH_PATH = "/payments/connect/refresh/"

# What Stripe's requirements.disabled_reason means for the owner (the code itself is shown for others).
DISABLED_REASONS = {
    "requirements.past_due": gettext_lazy("Stripe needs more information from you (overdue)."),
    "requirements.pending_verification": gettext_lazy("Stripe is verifying the information you gave."),
    "under_review": gettext_lazy("Stripe is reviewing your account."),
    "listed": gettext_lazy("Stripe is reviewing your account."),
    "platform_paused": gettext_lazy("Payments are paused by the platform."),
    "rejected.fraud": gettext_lazy("Stripe has rejected the account."),
    "rejected.terms_of_service": gettext_lazy("Stripe has rejected the account."),
    "rejected.listed": gettext_lazy("Stripe has rejected the account."),
    "rejected.other": gettext_lazy("Stripe has rejected the account."),
    "action_required.requested_capabilities": gettext_lazy("Stripe needs more information from you."),
}

_handler: list[Callable[[dict], str]] = []


def register(handler: Callable[[dict], str]) -> None:
    """The business side's handler of connected-account events (once, from the payments app's ready())."""
    if _handler and _handler[0] is not handler:
        raise ValueError("a Connect event handler is registered already")
    _handler[:] = [handler]


def platform_fee(amount_cents: int) -> int:
    """The platform's fee on a payment of `amount_cents` (settings PAYMENTS_PLATFORM_FEE_*), never more."""
    share = (amount_cents * settings.PAYMENTS_PLATFORM_FEE_BPS + 5000) // 10000
    return max(0, min(amount_cents, share + settings.PAYMENTS_PLATFORM_FEE_FIXED_CENTS))


# --- The business's account ----------------------------------------------------------------------------


def account_of(tenant) -> ConnectAccount | None:
    return ConnectAccount.objects.filter(tenant_id=tenant.pk).first()


def reason_text(account: ConnectAccount) -> str:
    """Why the account cannot take payments, in the owner's words (Stripe's code when unknown)."""
    if account.status == ConnectStatus.ENABLED:
        return ""
    if account.status == ConnectStatus.PENDING:
        return _("The onboarding at Stripe is not finished yet.")
    text = DISABLED_REASONS.get(account.disabled_reason)
    if text:
        return str(text)
    return account.disabled_reason or _("Stripe has not enabled payments yet.")


def _status_of(obj: dict) -> str:
    if obj.get("charges_enabled"):
        return ConnectStatus.ENABLED
    requirements = obj.get("requirements") or {}
    if obj.get("details_submitted") or requirements.get("disabled_reason", "").startswith("rejected"):
        return ConnectStatus.RESTRICTED
    return ConnectStatus.PENDING


def _mirror(row: ConnectAccount, obj: dict) -> None:
    requirements = obj.get("requirements") or {}
    row.charges_enabled = bool(obj.get("charges_enabled"))
    row.payouts_enabled = bool(obj.get("payouts_enabled"))
    row.details_submitted = bool(obj.get("details_submitted"))
    row.disabled_reason = str(requirements.get("disabled_reason") or "")[:100]
    row.currently_due = [str(item) for item in requirements.get("currently_due") or []][:50]
    row.status = _status_of(obj)


def onboarding_start(*, tenant) -> str:
    """The URL of Stripe's onboarding for the business, its connected account created on first use (under
    the tenant row's lock: two clicks make one account)."""
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        row = account_of(tenant)
        if row is None:
            created = stripe_gateway.connect_account_create(tenant=tenant)
            row = ConnectAccount(tenant_id=tenant.pk, stripe_account_id=created["id"])
            _mirror(row, created)
            row.save()
    return stripe_gateway.connect_onboarding_link(
        tenant=tenant,
        account_id=row.stripe_account_id,
        return_path=RETURN_PATH,
        refresh_path=REFRESH_PATH,
        key=f"termino-account-link-{row.stripe_account_id}-{secrets.token_hex(8)}",
    )


@transaction.atomic
def account_refresh(*, tenant) -> ConnectAccount | None:
    """Ask Stripe how the account stands now (the owner came back from the onboarding)."""
    row = ConnectAccount.objects.select_for_update().filter(tenant_id=tenant.pk).first()
    if row is None:
        return None
    _mirror(row, stripe_gateway.connect_account_retrieve(row.stripe_account_id))
    row.save()
    return row


def _charging_account(tenant) -> str:
    row = account_of(tenant)
    if row is None or row.status != ConnectStatus.ENABLED:
        raise InvalidRequest(_("This business cannot take payments online at the moment."))
    return row.stripe_account_id


def _own_account(tenant) -> str:
    """The business's account for follow-ups (refunds, expiring a session): also while restricted."""
    row = account_of(tenant)
    if row is None:
        raise InvalidRequest(_("This business has no Stripe account connected."))
    return row.stripe_account_id


def can_charge(tenant) -> bool:
    row = account_of(tenant)
    return row is not None and row.status == ConnectStatus.ENABLED


# --- Calls on the business's own account (the payments app's door to Stripe) ----------------------------


def customer_create(*, tenant, params: dict, key: str) -> dict:
    return stripe_gateway.connect_customer_create(
        account_id=_charging_account(tenant), params=params, key=key
    )


def checkout_create(*, tenant, params: dict, key: str) -> dict:
    return stripe_gateway.connect_checkout_create(
        account_id=_charging_account(tenant), params=params, key=key
    )


def checkout_retrieve(*, tenant, session_id: str) -> dict:
    return stripe_gateway.connect_checkout_retrieve(account_id=_own_account(tenant), session_id=session_id)


def checkout_expire(*, tenant, session_id: str, key: str) -> dict | None:
    return stripe_gateway.connect_checkout_expire(
        account_id=_own_account(tenant), session_id=session_id, key=key
    )


def setup_intent_retrieve(*, tenant, setup_intent_id: str) -> dict:
    return stripe_gateway.connect_setup_intent_retrieve(
        account_id=_own_account(tenant), setup_intent_id=setup_intent_id
    )


def payment_intent_create(*, tenant, params: dict, key: str) -> dict:
    return stripe_gateway.connect_payment_intent_create(
        account_id=_charging_account(tenant), params=params, key=key
    )


def refund_create(*, tenant, params: dict, key: str) -> dict:
    return stripe_gateway.connect_refund_create(account_id=_own_account(tenant), params=params, key=key)


# --- Events of connected accounts ------------------------------------------------------------------------


def event_parse(*, payload: bytes, signature: str | None) -> dict:
    return stripe_gateway.webhook_event_parse(
        payload=payload, signature=signature, secret=settings.STRIPE_CONNECT_WEBHOOK_SECRET
    )


def _event_time(event: dict) -> datetime:
    return datetime.fromtimestamp(int(event["created"]), tz=UTC)


def _on_account_updated(row: ConnectAccount, event: dict) -> str:
    obj = event["data"]["object"]
    if obj.get("id") != row.stripe_account_id:
        return "ignored: the event's account is not the object's"
    event_at = _event_time(event)
    last = row.updated_from_event_at
    if last is not None and event_at < last:
        return "ignored: older than the state already applied"
    if last is not None and event_at == last:
        obj = stripe_gateway.connect_account_retrieve(row.stripe_account_id)  # same second: ask Stripe
    _mirror(row, obj)
    row.updated_from_event_at = max(event_at, last) if last else event_at
    row.save()
    return f"account {row.stripe_account_id} is {row.status}"


@transaction.atomic
def event_handle(*, event: dict) -> str:
    """Apply one verified event of a connected account, at most once; returns what was done.

    A failure (Stripe unreachable while fetching) rolls everything back, the record included, so Stripe's
    next delivery tries again.
    """
    try:
        with transaction.atomic():
            record = StripeEvent.objects.create(
                event_id=event["id"], type=event["type"], created=_event_time(event), payload=event
            )
    except IntegrityError:
        return "duplicate: received before"
    account_id = str(event.get("account") or "")
    # The account's row lock puts the events of one business in a queue: each sees what the one before
    # it applied.
    row = (
        ConnectAccount.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(stripe_account_id=account_id)
        .first()
        if account_id
        else None
    )
    if row is None:
        result = "ignored: no business has this account"
    elif event["type"] == "account.updated":
        result = _on_account_updated(row, event)
    elif not _handler:
        result = "ignored: no handler for payment events"
    else:
        with tenant_context(row.tenant):
            result = _handler[0](event)
    record.result = result[:200]
    record.processed_at = timezone.now()
    record.tenant_id = row.tenant_id if row else None
    record.save(update_fields=["result", "processed_at", "tenant"])
    return result
