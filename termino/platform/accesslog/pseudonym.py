"""Pseudonyms for visitors' IP addresses: HMAC-SHA256 with a secret that lives one day.

pseudonym = first 16 hex digits of HMAC-SHA256(secret of the UTC day, "<schema>|<ip>")

The day's secret is 32 random bytes that the first request of a UTC day stores in Redis (SET NX, so every
process uses the same one) with an expiry of two days; each process reads it once a day. Requests of one
day can be grouped by visitor (visitors per day), but nothing links days or leads back to an address.

Why a random secret and not one derived from SECRET_KEY and the date: the IPv4 space has only 2^32
addresses, so a hash of an address is reversed by trying them all. With a derivable key anyone holding
SECRET_KEY (every server, every copy of the settings) could do that for every day ever logged; a random
secret that expires makes the pseudonyms of past days irreversible for everyone, operators included.
Why not truncation (/24, /48): it keeps a coarse location, and whole networks behind one address or in one
block would count as one visitor. The schema is hashed along, so one person's visits to two businesses
cannot be linked either. The address itself never leaves the request: not to Redis, not to the database.
"""

import hashlib
import hmac
import secrets
from datetime import UTC, date, datetime

from . import buffer

SECRET_TTL_SECONDS = 2 * 24 * 60 * 60

_day_secret: tuple[date, bytes] | None = None


def day_secret(day: date) -> bytes:
    """The secret of `day` (UTC), created in Redis by the first process that needs it."""
    global _day_secret
    if _day_secret is not None and _day_secret[0] == day:
        return _day_secret[1]
    key = f"{buffer.DAY_KEY_PREFIX}{day.isoformat()}"
    pipe = buffer.client().pipeline(transaction=False)
    pipe.set(key, secrets.token_hex(32), nx=True, ex=SECRET_TTL_SECONDS)
    pipe.get(key)
    _created, value = pipe.execute()
    secret = bytes.fromhex(value.decode())
    _day_secret = (day, secret)
    return secret


def forget_cached_secret() -> None:
    """Tests: make the next call read Redis again."""
    global _day_secret
    _day_secret = None


def visitor_pseudonym(*, ip: str, schema: str, at: datetime) -> str:
    secret = day_secret(at.astimezone(UTC).date())
    return hmac.new(secret, f"{schema}|{ip}".encode(), hashlib.sha256).hexdigest()[:16]
