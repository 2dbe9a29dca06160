import time
from datetime import datetime, timedelta

from django.core import signing

from termino.tenants.booking.apis import FORM_TOKEN_SALT
from tests.conftest import client_for


def aged_form_token(seconds: float = 10) -> str:
    """A form token handed out `seconds` ago, as the page would have fetched it."""
    return signing.Signer(salt=FORM_TOKEN_SALT).sign(f"{time.time() - seconds:.3f}")


def booking_body(service, when: datetime, **overrides) -> dict:
    body = {
        "service": service.pk,
        "start": when.isoformat(),
        "first_name": "Lena",
        "last_name": "Fischer",
        "email": "Lena.Fischer@Example.com",
        "phone": "0170 1234567",
        "privacy_consent": True,
        "sms_consent": True,
        "form_token": aged_form_token(),
        "website": "",
    }
    body.update(overrides)
    return body


def public_post(host: str, path: str, body: dict | None = None, **headers):
    return client_for(host, "en").post(
        f"/api/public/v1/{path}", body or {}, content_type="application/json", **headers
    )


def in_days(start: datetime, days: int) -> datetime:
    return start + timedelta(days=days)
