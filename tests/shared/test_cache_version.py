"""The version processes check what they remember against: started at random, moved by every change."""

import pytest
from django.core.cache import caches

from termino.shared import cache_version
from termino.shared.cache import DegradingRedisCache, RedisCache

KEY = "test:cache-version"


@pytest.fixture
def platform():
    cache = caches["platform"]
    cache.delete(KEY)
    yield cache
    cache.delete(KEY)


def test_a_missing_version_starts_at_a_random_number_and_stays(platform):
    first = cache_version.read(platform, KEY)
    assert first == cache_version.read(platform, KEY) == platform.get(KEY)
    platform.delete(KEY)  # Redis lost its data
    second = cache_version.read(platform, KEY)
    assert second != first
    assert first > 2**16 and second > 2**16  # not a count from 0 or 1 (2**-46 to fail by chance)


def test_a_change_moves_the_version_whether_or_not_it_existed(platform):
    cache_version.move(platform, KEY)  # missing: a random start
    started = platform.get(KEY)
    assert started > 2**16
    cache_version.move(platform, KEY)
    assert cache_version.read(platform, KEY) == started + 1


def test_without_redis_the_platform_cache_raises_and_the_tenant_cache_has_no_version():
    unreachable = {"LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": {}}  # nothing listens on port 1
    raising = RedisCache(unreachable["LOCATION"], {})
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises: callers trust nothing then
        cache_version.read(raising, KEY)
    degrading = DegradingRedisCache(unreachable["LOCATION"], {})
    assert cache_version.read(degrading, KEY) is None
    with pytest.raises(ValueError):
        cache_version.move(degrading, KEY)
