"""The signature of a delivery, Stripe's scheme: `Termino-Signature: t=<unix time>,v1=<hex>`, where the hex
is HMAC-SHA256 with the endpoint's secret over "<unix time>.<body>". The timestamp is signed along, so a
receiver can refuse replays of old requests (docs/webhooks.md has the verify snippet)."""

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "Termino-Signature"
DELIVERY_HEADER = "Termino-Delivery"
EVENT_HEADER = "Termino-Event"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix that marks the text as a secret, not one)


def secret_new() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
