"""A small Redis client with short timeouts for health checks and metrics: a dead Redis never hangs them."""

import redis
from django.conf import settings

from termino.shared.redis_clients import redis_client


def client(url: str | None = None) -> redis.Redis:
    return redis_client(url or settings.REDIS_URL, float(settings.READINESS_TIMEOUT_SECONDS))
