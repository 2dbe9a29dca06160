"""The tenant cache without Redis: nothing cached, nothing failing.

What lives in the `default` alias is an accelerator or short-lived convenience (the signup hand-over token,
a CSV import's preview, DRF's per-IP request counters, the privacy request form's counters). When Redis is
away those must not turn every page into an error: a read misses, a write is dropped, and the request goes on
(logged, at most once a minute per process). Anything whose loss matters does not belong in this alias: the
routing cache (`platform`) raises and is handled by its caller, and rate limits that must fail closed use
termino.shared.ratelimit with `fail_open=False`.
"""

import logging
import time

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

logger = logging.getLogger(__name__)

_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
_last_warning = 0.0


def _warn(operation: str) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        logger.warning("cache: Redis unreachable, %s skipped (the tenant cache degrades to empty)", operation)


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's client builds a new redis.Redis around its pool for every operation, and redis-py's
    constructor (retry policy, event dispatcher, response callbacks) cost more than a GET's round trip on a
    warm connection. The object keeps no state of its own between commands (the pool holds the
    connections), so one per pool serves every operation. Each thread has its own cache object (Django's
    cache handler), and so its own dictionary."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """Django's Redis cache with one client per connection pool (ReusingRedisCacheClient)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient


class DegradingRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except _DOWN:
            _warn("get")
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except _DOWN:
            _warn("get_many")
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except _DOWN:
            _warn("has_key")
            return False

    def add(self, key, value, timeout=None, version=None):
        try:
            return super().add(key, value, timeout, version)
        except _DOWN:
            _warn("add")
            return False

    def set(self, key, value, timeout=None, version=None):
        try:
            return super().set(key, value, timeout, version)
        except _DOWN:
            _warn("set")
            return None

    def set_many(self, data, timeout=None, version=None):
        try:
            return super().set_many(data, timeout, version)
        except _DOWN:
            _warn("set_many")
            return list(data)

    def touch(self, key, timeout=None, version=None):
        try:
            return super().touch(key, timeout, version)
        except _DOWN:
            _warn("touch")
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except _DOWN:
            _warn("delete")
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except _DOWN:
            _warn("delete_many")
            return None

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except _DOWN:
            _warn("incr")
            raise ValueError(f"Key '{key}' not found (Redis unreachable)") from None

    def clear(self):
        try:
            return super().clear()
        except _DOWN:
            _warn("clear")
            return False
