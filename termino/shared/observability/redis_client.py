"""A small Redis client with short timeouts for health checks and metrics: a dead Redis never hangs them."""

import functools

import redis
from django.conf import settings


@functools.cache
def _client_for(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def client(url: str | None = None) -> redis.Redis:
    return _client_for(url or settings.REDIS_URL, float(settings.READINESS_TIMEOUT_SECONDS))
