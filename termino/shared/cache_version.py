"""A version number in a Redis cache, against which processes check what they remember.

A process keeps what it read (hosts, API tokens, the legal facts) while the version it read them under is
still the cache's, and a change moves the version. A missing key (never set, or Redis lost its data)
starts at a random number, never at a count from 0 or 1: a process that filled its memory under one
version must not meet the same number again after Redis started afresh, or it would trust what a change
made while Redis was away has made stale.

Both functions raise when the cache does; their callers then trust nothing they remember.
"""

import secrets


def read(cache, key: str) -> int | None:
    """The version under `key` in `cache`, started at random when missing (None from a cache that degrades
    to empty when Redis is away)."""
    version = cache.get(key)
    if version is None:
        cache.add(key, _start(), timeout=None)
        version = cache.get(key)
    return version


def move(cache, key: str) -> None:
    """A new version under `key`: whatever a process remembered under the old one is stale."""
    try:
        cache.incr(key)
    except ValueError:  # missing: never read, or Redis lost its data
        cache.add(key, _start(), timeout=None) or cache.incr(key)


def _start() -> int:
    return secrets.randbits(62)
