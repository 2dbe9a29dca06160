import secrets
import threading
import time
from datetime import datetime, timedelta

from django.core import signing
from django.db import connection

from termino.tenants.booking.apis import FORM_TOKEN_SALT
from tests.conftest import client_for


def aged_form_token(seconds: float = 10) -> str:
    """A form token handed out `seconds` ago, as the page would have fetched it (each one its own)."""
    return signing.Signer(salt=FORM_TOKEN_SALT).sign(f"{time.time() - seconds:.3f}-{secrets.token_hex(8)}")


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


def race(contenders: int, prepare, attempt) -> list:
    """Run `attempt(prepared)` in `contenders` threads at once, each with its own database connection.

    `prepare(n)` runs first in each thread (building bodies, signing tokens), then all threads wait at a
    barrier and fire together. Returns the results in thread order; an exception in a thread fails the
    caller.
    """
    barrier = threading.Barrier(contenders)
    results: list = [None] * contenders
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            prepared = prepare(n)
            barrier.wait(timeout=60)
            results[n] = attempt(prepared)
        except BaseException as exc:  # reported to the caller below
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    if errors:
        raise errors[0]
    assert not any(thread.is_alive() for thread in threads), "a contender hung"
    return results
