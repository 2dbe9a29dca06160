"""The Redis list between the middleware (one RPUSH per request) and the flush task (bulk inserts).

A separate small client with short timeouts: a slow or absent Redis delays no request by more than
ACCESS_LOG_REDIS_TIMEOUT, and after a failure the middleware stops trying for a while (`breaker`).
"""

import json
import time

import redis
from django.conf import settings

from termino.shared.redis_clients import redis_client

BUFFER_KEY = "termino:accesslog:buffer"
PROCESSING_KEY = "termino:accesslog:processing"
FLUSH_LOCK_KEY = "termino:accesslog:flush-lock"
DAY_KEY_PREFIX = "termino:accesslog:secret:"


def _setting(name: str, default):
    return getattr(settings, name, default)


def client() -> redis.Redis:
    """The access log's Redis (ACCESS_LOG_REDIS_URL, by default REDIS_URL); one pool per process."""
    url = _setting("ACCESS_LOG_REDIS_URL", "") or settings.REDIS_URL
    return redis_client(url, float(_setting("ACCESS_LOG_REDIS_TIMEOUT", 0.25)))


def push(entry: dict) -> None:
    """Append one entry; the list is cut to its newest ACCESS_LOG_BUFFER_MAX entries, so a stopped flush
    task cannot fill Redis up."""
    limit = int(_setting("ACCESS_LOG_BUFFER_MAX", 200_000))
    pipe = client().pipeline(transaction=False)
    pipe.rpush(BUFFER_KEY, json.dumps(entry, separators=(",", ":")))
    pipe.ltrim(BUFFER_KEY, -limit, -1)
    pipe.execute()


class Breaker:
    """After a failure, skip logging for `pause` seconds instead of waiting on a dead Redis every request."""

    def __init__(self, pause: float = 10.0):
        self.pause = pause
        self.open_until = 0.0

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    def trip(self) -> bool:
        """Open the breaker; True if it was closed (the caller logs the failure once per opening)."""
        was_closed = self.allows()
        self.open_until = time.monotonic() + self.pause
        return was_closed

    def reset(self) -> None:
        self.open_until = 0.0


breaker = Breaker()
