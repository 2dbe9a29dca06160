"""Rate limits that hold under concurrency: one Redis script checks and counts in one step.

A limit is "at most `limit` events per `window` seconds" for a key (an IP, a phone number, a business).
Each key is a sliding-window log in a Redis sorted set: the script drops entries older than the window,
refuses when `limit` remain, and otherwise adds the new entry — atomically, so 50 concurrent requests
against a limit of 5 let exactly 5 through, never more (a read-then-write counter in the cache let 24–39
of 50 through a limit of 20). Several limits are taken together or not at all (`take`), and a caller that
counts only successes hands its reservation back when the attempt failed (`Reservation.release`).

Times come from our own clock (`timeutils.now`), not from Redis's, so a pinned clock in tests moves the
windows too.

When Redis cannot be reached, `take` follows the limit's `fail_open`: reads stay open (a page that shows
free times is better served than refused), anything that sends an SMS or creates data fails closed.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from dataclasses import dataclass, field

import redis
from django.conf import settings

from .redis_clients import redis_client
from .timeutils import now

logger = logging.getLogger(__name__)

PREFIX = "termino-rl"

# KEYS: one sorted set per limit. ARGV: now (ms), member, then (window ms, limit) per key.
# Returns {1, 0, 0} when every limit had room (the member was added to each), or {0, wait_ms, i} for the
# first full one, the i-th key (nothing added anywhere).
_TAKE = """
local now = tonumber(ARGV[1])
local member = ARGV[2]
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[1 + 2 * i])
  local limit = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local wait = window
    if oldest[2] then wait = tonumber(oldest[2]) + window - now end
    return {0, wait, i}
  end
end
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[1 + 2 * i])
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window + 1000)
end
return {1, 0, 0}
"""


@dataclass(frozen=True)
class Limit:
    """At most `limit` events per `window` seconds. `fail_open`: allow when Redis is unreachable."""

    name: str
    limit: int
    window: int
    fail_open: bool = False


class RateLimited(Exception):
    """Refused by `limit`; `retry_after` seconds until the oldest counted event leaves the window."""

    def __init__(self, limit: Limit, retry_after: int):
        super().__init__(f"rate limit {limit.name} reached")
        self.limit = limit
        self.retry_after = max(1, retry_after)


class LimitUnavailable(RateLimited):
    """Redis could not be reached and a limit fails closed: nothing was counted; try again shortly."""


@dataclass
class Reservation:
    """The events one `take` counted; `release()` un-counts them (the attempt failed, nothing was done)."""

    keys: list[str] = field(default_factory=list)
    member: str = ""

    def release(self) -> None:
        if not self.keys:
            return
        try:
            pipe = _client().pipeline(transaction=False)
            for key in self.keys:
                pipe.zrem(key, self.member)
            pipe.execute()
        except redis.RedisError:
            logger.warning("rate limit: could not release a reservation", exc_info=True)
        self.keys = []


def key_of(*parts: object) -> str:
    """A key for personal values (phone numbers, e-mail addresses): hashed, so Redis holds none in clear."""
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _client() -> redis.Redis:
    return redis_client(settings.REDIS_URL, float(getattr(settings, "RATE_LIMIT_REDIS_TIMEOUT", 1.0)))


_script = None


def take(*checks: tuple[Limit, str]) -> Reservation:
    """Count one event against every (limit, key) given, all or none; RateLimited if one is full.

    A limit of 0 or less refuses always; an empty key skips that check (nothing to count by).
    """
    global _script
    checks = tuple((limit, key) for limit, key in checks if key)
    for limit, _key in checks:
        if limit.limit <= 0:
            raise RateLimited(limit, limit.window)
    if not checks:
        return Reservation()
    keys = [f"{PREFIX}:{limit.name}:{key}" for limit, key in checks]
    moment = math.floor(now().timestamp() * 1000)
    member = f"{moment}-{secrets.token_hex(6)}"
    argv: list[object] = [moment, member]
    for limit, _key in checks:
        argv += [limit.window * 1000, limit.limit]
    try:
        client = _client()
        if _script is None:
            _script = client.register_script(_TAKE)
        allowed, wait_ms, index = _script(keys=keys, args=argv, client=client)
    except redis.RedisError:
        if all(limit.fail_open for limit, _key in checks):
            logger.warning("rate limit: Redis unreachable, allowing (%s)", checks[0][0].name)
            return Reservation()
        closed = next(limit for limit, _key in checks if not limit.fail_open)
        logger.error("rate limit: Redis unreachable, refusing (%s)", closed.name)
        raise LimitUnavailable(closed, 5) from None
    if not allowed:
        raise RateLimited(checks[int(index) - 1][0], math.ceil(int(wait_ms) / 1000))
    return Reservation(keys=keys, member=member)


def count(limit: Limit, key: str) -> int:
    """How many events of `key` the window holds now (for pages that show usage)."""
    moment = math.floor(now().timestamp() * 1000)
    redis_key = f"{PREFIX}:{limit.name}:{key}"
    try:
        client = _client()
        client.zremrangebyscore(redis_key, "-inf", moment - limit.window * 1000)
        return int(client.zcard(redis_key))
    except redis.RedisError:
        return 0


def clear(limit: Limit, key: str) -> None:
    """Forget every counted event of `key` (e.g. failed logins after a successful one)."""
    try:
        _client().delete(f"{PREFIX}:{limit.name}:{key}")
    except redis.RedisError:
        logger.warning("rate limit: could not clear %s", limit.name, exc_info=True)
