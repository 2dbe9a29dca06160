"""The Redis caches (termino.shared.cache): one redis-py client per connection pool, reused by every
operation, that still finds Redis again after its connections were cut; the tenant cache degrades to empty
without Redis."""

import threading

import pytest
import redis
from django.core.cache import caches

from termino.shared.cache import DegradingRedisCache, RedisCache

KEY = "test:cache-client"


@pytest.fixture(params=["default", "platform"])
def cache(request):
    cache = caches[request.param]
    cache.delete(KEY)
    yield cache
    cache.delete(KEY)


def test_the_configured_caches_are_ours():
    assert isinstance(caches["platform"], RedisCache)
    assert isinstance(caches["default"], DegradingRedisCache)


def test_every_operation_reuses_one_client(cache):
    first = cache._cache.get_client(KEY)
    cache.set(KEY, 1)
    cache.incr(KEY)
    assert cache.get(KEY) == 2
    assert cache._cache.get_client(KEY) is first
    assert cache._cache.get_client(KEY, write=True) is first  # one server: reads and writes share a pool


def test_a_thread_has_its_own_cache_and_client(cache):
    seen = []
    alias = next(alias for alias in ("default", "platform") if caches[alias] is cache)

    def other():
        seen.append(caches[alias]._cache.get_client(KEY))

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen and seen[0] is not cache._cache.get_client(KEY)


def test_the_reused_client_finds_redis_again_after_its_connections_were_cut(cache):
    cache.set(KEY, "before")
    client = cache._cache.get_client(KEY)
    # Only this connection: other tests may use the same Redis at the same time.
    assert client.client_kill_filter(_id=client.client_id(), skipme=False) == 1
    # The pool's connection is dead; redis-py retries once on a fresh one.
    assert cache.get(KEY) == "before"
    cache.set(KEY, "after")
    assert cache.get(KEY) == "after"
    assert cache._cache.get_client(KEY) is client


def test_without_redis_the_tenant_cache_misses_and_drops_and_the_platform_cache_raises():
    nobody = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    tenant = DegradingRedisCache(nobody, {})
    assert tenant.get(KEY, "default") == "default"
    assert tenant.add(KEY, 1) is False
    tenant.set(KEY, 1)  # dropped, no error
    platform = RedisCache(nobody, {})
    with pytest.raises(redis.exceptions.ConnectionError):
        platform.get(KEY)
