"""A fixed-window counter in the cache, for the booking page's request form.

The default cache adds the schema to every key, so each business counts on its own. Redis's INCR keeps
the key's expiry, so a window ends one hour after its first attempt whatever happens in between.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 3600


def requests_per_hour() -> int:
    return getattr(settings, "PRIVACY_REQUESTS_PER_HOUR", 5)


def _hit(key: str, *, limit: int, window: int) -> bool:
    """Counts one attempt; False once more than `limit` were made within the window."""
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        count = 1
    return count <= limit


def allow_ip(ip: str | None) -> bool:
    return _hit(f"privacy-request:ip:{ip or 'unknown'}", limit=requests_per_hour(), window=WINDOW_SECONDS)


def allow_email(email: str) -> bool:
    # Hashed: the cache holds no addresses.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return _hit(f"privacy-request:email:{digest}", limit=requests_per_hour(), window=WINDOW_SECONDS)
