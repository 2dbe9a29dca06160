"""One Redis client per (URL, timeout) and process: its connection pool is shared by every caller."""

import functools

import redis


@functools.cache
def redis_client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
