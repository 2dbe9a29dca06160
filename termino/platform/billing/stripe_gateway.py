"""The only module that talks to Stripe.

Settings: STRIPE_API_BASE (tests point it at a local fake server), STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET,
STRIPE_WEBHOOK_TOLERANCE, STRIPE_TIMEOUT. A `StripeClient` per (key, base) is used instead of the library's
module globals (`stripe.api_key`, `stripe.api_base`): same effect, no process-wide state to race on.

Links back into a business (success, cancel and return URLs) are built from its Domain row with
`primary_url`, never from a request's Host header. Every object handed back is a plain dict in Stripe's
documented shape.
"""

import logging
import time
from dataclasses import dataclass
from functools import lru_cache

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from termino.platform.tenancy.routing import primary_url
from termino.shared.guard import safejson

from .models import Interval, Plan
from .packs import SmsPack

logger = logging.getLogger(__name__)

BILLING_PATH = "/billing/"


class PaymentProviderError(Exception):
    """Stripe could not do what was asked; `message` is fit to show the business owner."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SignatureInvalid(Exception):
    """A webhook that is not provably from Stripe: unsigned, forged, stale or malformed."""


@dataclass(frozen=True)
class HostedPage:
    """A Stripe-hosted page (Checkout or the Billing Portal) to send the owner to."""

    id: str
    url: str


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


@lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str, timeout: int) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def _client() -> stripe.StripeClient:
    if not configured():
        raise PaymentProviderError(_("Online payment is not set up yet. Please contact Termino support."))
    return _client_for(
        settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE.rstrip("/"), settings.STRIPE_TIMEOUT
    )


def _call(what: str, operation):
    try:
        result = operation()
    except stripe.AuthenticationError:
        logger.error("Stripe rejected our API key while trying to %s", what)
        raise PaymentProviderError(
            _("Payment is unavailable right now. Please try again later or contact Termino support.")
        ) from None
    except stripe.StripeError as exc:
        logger.warning("Stripe could not %s: %s", what, exc, exc_info=True)
        raise PaymentProviderError(
            _("Our payment provider could not be reached. Please try again in a few minutes.")
        ) from exc
    return result.to_dict()


def _locale(tenant) -> str:
    return tenant.language if tenant.language in ("de", "en") else "auto"


# --- Customers and hosted pages ----------------------------------------------------------------------


def customer_create(*, tenant) -> str:
    """A Stripe customer for the business; returns its id (cus_…)."""
    client = _client()
    params = {
        "name": tenant.name,
        "email": tenant.email,
        "preferred_locales": [tenant.language],
        "metadata": {"tenant_id": str(tenant.pk), "slug": tenant.slug or ""},
    }
    if tenant.street:
        params["address"] = {
            "line1": tenant.street,
            "postal_code": tenant.postcode,
            "city": tenant.city,
            "country": tenant.country,
        }
    # The idempotency key makes a retried request (network hiccup) return the same customer.
    customer = _call(
        "create a customer",
        lambda: client.v1.customers.create(
            params, options={"idempotency_key": f"termino-customer-{tenant.pk}-{tenant.schema_name}"}
        ),
    )
    return customer["id"]


def _return_urls(tenant) -> dict:
    return {
        "success_url": primary_url(tenant, f"{BILLING_PATH}?checkout=success"),
        "cancel_url": primary_url(tenant, f"{BILLING_PATH}?checkout=cancelled"),
    }


def checkout_subscription_create(*, tenant, customer_id: str, plan: Plan, interval: str) -> HostedPage:
    """A Checkout Session (mode subscription) for `plan` billed per `interval`."""
    client = _client()
    metadata = {"tenant_id": str(tenant.pk), "kind": "subscription", "plan": plan.code, "interval": interval}
    price_id = plan.stripe_price(interval)
    if price_id:
        line_item = {"price": price_id, "quantity": 1}
    else:  # no Price configured in Stripe for this plan: describe it inline
        line_item = {
            "price_data": {
                "currency": plan.currency,
                "unit_amount": plan.price_cents(interval),
                "recurring": {"interval": Interval(interval).value},
                "product_data": {"name": f"Termino {plan.name}"},
            },
            "quantity": 1,
        }
    session = _call(
        "create a checkout session",
        lambda: client.v1.checkout.sessions.create(
            {
                "mode": "subscription",
                "customer": customer_id,
                "client_reference_id": str(tenant.pk),
                "line_items": [line_item],
                "metadata": metadata,
                "subscription_data": {"metadata": metadata},
                "locale": _locale(tenant),
                **_return_urls(tenant),
            }
        ),
    )
    return HostedPage(id=session["id"], url=session["url"])


def checkout_sms_pack_create(*, tenant, customer_id: str, pack: SmsPack) -> HostedPage:
    """A Checkout Session (mode payment) for one SMS pack, with an invoice for the books."""
    client = _client()
    metadata = {"tenant_id": str(tenant.pk), "kind": "sms_pack", "pack": pack.code, "sms": str(pack.sms)}
    session = _call(
        "create a checkout session",
        lambda: client.v1.checkout.sessions.create(
            {
                "mode": "payment",
                "customer": customer_id,
                "client_reference_id": str(tenant.pk),
                "line_items": [
                    {
                        "price_data": {
                            "currency": pack.currency,
                            "unit_amount": pack.price_cents,
                            "product_data": {"name": f"{pack.sms} SMS"},
                        },
                        "quantity": 1,
                    }
                ],
                "metadata": metadata,
                "payment_intent_data": {"metadata": metadata},
                "invoice_creation": {"enabled": True},
                "locale": _locale(tenant),
                **_return_urls(tenant),
            }
        ),
    )
    return HostedPage(id=session["id"], url=session["url"])


def portal_session_create(*, tenant, customer_id: str) -> HostedPage:
    """A Billing Portal session: payment method, invoices, plan changes and cancellation."""
    client = _client()
    session = _call(
        "open the billing portal",
        lambda: client.v1.billing_portal.sessions.create(
            {
                "customer": customer_id,
                "return_url": primary_url(tenant, BILLING_PATH),
                "locale": _locale(tenant),
            }
        ),
    )
    return HostedPage(id=session["id"], url=session["url"])


# --- Subscriptions -----------------------------------------------------------------------------------


def subscription_retrieve(subscription_id: str) -> dict:
    """The subscription as Stripe has it now: the truth when events may have arrived out of order."""
    client = _client()
    return _call("retrieve a subscription", lambda: client.v1.subscriptions.retrieve(subscription_id))


def subscription_cancel(subscription_id: str) -> dict | None:
    """End a subscription at once, crediting unused time (after a plan change replaced it).

    Returns None when Stripe has no such live subscription any more (cancelled already).
    """
    client = _client()
    try:
        return client.v1.subscriptions.cancel(subscription_id, {"prorate": True}).to_dict()
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404 or getattr(exc, "code", "") == "resource_missing":
            return None
        logger.warning("Stripe could not cancel %s: %s", subscription_id, exc, exc_info=True)
        raise PaymentProviderError(_("The previous subscription could not be ended.")) from exc
    except stripe.StripeError as exc:
        logger.warning("Stripe could not cancel %s: %s", subscription_id, exc, exc_info=True)
        raise PaymentProviderError(_("The previous subscription could not be ended.")) from exc


# --- Webhooks ----------------------------------------------------------------------------------------


def _check_not_from_the_future(signature: str) -> None:
    # The library rejects old timestamps only; a signature dated ahead is as unusable for us.
    stamps = [part[2:] for part in signature.split(",") if part.startswith("t=")]
    if not stamps or int(stamps[0]) > time.time() + settings.STRIPE_WEBHOOK_TOLERANCE:
        raise stripe.SignatureVerificationError("timestamp in the future", signature)


def webhook_event_parse(*, payload: bytes, signature: str | None, secret: str | None = None) -> dict:
    """Verify a webhook's `Stripe-Signature` (HMAC-SHA256 of "{t}.{payload}", within the tolerance) and
    return the event as a dict. Raises SignatureInvalid for anything not provably sent by Stripe.

    `secret`: the endpoint's signing secret (the billing endpoint's by default; Connect has its own)."""
    secret = settings.STRIPE_WEBHOOK_SECRET if secret is None else secret
    if not secret:
        raise SignatureInvalid("the webhook's signing secret is not set")
    try:
        # The library's check (what stripe.Webhook.construct_event runs before parsing): the header's
        # timestamp and v1 signatures, compared in constant time, and the timestamp's age.
        stripe.WebhookSignature.verify_header(payload, signature, secret, settings.STRIPE_WEBHOOK_TOLERANCE)
        _check_not_from_the_future(signature)
        # Parsed by us rather than into the library's objects, which would turn some fields into Decimals:
        # the event is stored as Stripe sent it.
        data = safejson.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise SignatureInvalid(str(exc)) from None
    except (ValueError, UnicodeDecodeError) as exc:  # signed but not JSON
        raise SignatureInvalid(f"malformed payload: {exc}") from None
    valid = (
        isinstance(data, dict)
        and data.get("object") == "event"
        and str(data.get("id", "")).startswith("evt_")
        and isinstance(data.get("type"), str)
        and isinstance(data.get("created"), int)
        and isinstance(data.get("data"), dict)
        and isinstance(data["data"].get("object"), dict)
    )
    if not valid:
        raise SignatureInvalid("not a Stripe event")
    return data


# --- Connect: a business's own Stripe account ----------------------------------------------------------
# Every call names the connected account (`Stripe-Account` header) and carries an idempotency key made
# from our own row's key, so a retried request never creates a second object.


def _on(account_id: str, key: str | None = None) -> dict:
    options = {"stripe_account": account_id}
    if key:
        options["idempotency_key"] = key
    return options


def connect_account_create(*, tenant) -> dict:
    """An Express account for the business (it completes the details on Stripe's onboarding pages)."""
    client = _client()
    return _call(
        "create a connected account",
        lambda: client.v1.accounts.create(
            {
                "type": "express",
                "country": tenant.country or "DE",
                "email": tenant.email,
                "default_currency": "eur",
                "business_profile": {"name": tenant.name},
                "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
                "metadata": {"tenant_id": str(tenant.pk), "schema": tenant.schema_name},
            },
            options={"idempotency_key": f"termino-connect-account-{tenant.pk}-{tenant.schema_name}"},
        ),
    )


def connect_account_retrieve(account_id: str) -> dict:
    client = _client()
    return _call("retrieve a connected account", lambda: client.v1.accounts.retrieve(account_id))


def connect_onboarding_link(*, tenant, account_id: str, return_path: str, refresh_path: str, key: str) -> str:
    """A one-time link to Stripe's onboarding for the account; returns its URL."""
    client = _client()
    link = _call(
        "create an onboarding link",
        lambda: client.v1.account_links.create(
            {
                "account": account_id,
                "type": "account_onboarding",
                "return_url": primary_url(tenant, return_path),
                "refresh_url": primary_url(tenant, refresh_path),
            },
            options={"idempotency_key": key},
        ),
    )
    return link["url"]


def connect_customer_create(*, account_id: str, params: dict, key: str) -> dict:
    client = _client()
    return _call(
        "create a customer", lambda: client.v1.customers.create(params, options=_on(account_id, key))
    )


def connect_checkout_create(*, account_id: str, params: dict, key: str) -> dict:
    client = _client()
    return _call(
        "create a checkout session",
        lambda: client.v1.checkout.sessions.create(params, options=_on(account_id, key)),
    )


def connect_checkout_retrieve(*, account_id: str, session_id: str) -> dict:
    client = _client()
    return _call(
        "retrieve a checkout session",
        lambda: client.v1.checkout.sessions.retrieve(session_id, options=_on(account_id)),
    )


def connect_checkout_expire(*, account_id: str, session_id: str, key: str) -> dict | None:
    """Close an open Checkout session; None when it cannot be closed any more (complete or expired)."""
    client = _client()
    try:
        return client.v1.checkout.sessions.expire(session_id, options=_on(account_id, key)).to_dict()
    except stripe.InvalidRequestError as exc:
        logger.info("checkout session %s not expired: %s", session_id, exc)
        return None
    except stripe.StripeError as exc:
        logger.warning("Stripe could not expire %s: %s", session_id, exc, exc_info=True)
        raise PaymentProviderError(
            _("Our payment provider could not be reached. Please try again in a few minutes.")
        ) from exc


def connect_setup_intent_retrieve(*, account_id: str, setup_intent_id: str) -> dict:
    client = _client()
    return _call(
        "retrieve a setup intent",
        lambda: client.v1.setup_intents.retrieve(setup_intent_id, options=_on(account_id)),
    )


def connect_payment_intent_create(*, account_id: str, params: dict, key: str) -> dict:
    """A PaymentIntent on the connected account. A declined card is an answer, not an outage: it comes
    back as a dict with `status` "requires_payment_method" and `last_payment_error`."""
    client = _client()
    try:
        return client.v1.payment_intents.create(params, options=_on(account_id, key)).to_dict()
    except stripe.CardError as exc:
        error = exc.error.to_dict() if exc.error else {}
        intent = error.get("payment_intent") or {}
        return {
            **intent,
            "status": "requires_payment_method",
            "last_payment_error": {"code": error.get("code"), "message": error.get("message")},
        }
    except stripe.StripeError as exc:
        logger.warning("Stripe could not charge on %s: %s", account_id, exc, exc_info=True)
        raise PaymentProviderError(
            _("Our payment provider could not be reached. Please try again in a few minutes.")
        ) from exc


def connect_refund_create(*, account_id: str, params: dict, key: str) -> dict:
    client = _client()
    return _call("refund a payment", lambda: client.v1.refunds.create(params, options=_on(account_id, key)))
