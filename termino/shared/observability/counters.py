"""Counters that many processes add to and /metrics reads: kept in one Redis hash.

Workers (Celery prefork children) have no port to be scraped, so what they count goes to Redis, once per
batch. A Redis hiccup loses a few counts, never a message: counting must not fail the work it counts.
"""

import logging
from collections import Counter

import redis

from .redis_client import client

MESSAGES_KEY = "termino:metrics:messages"
logger = logging.getLogger(__name__)


def messages_add(tally: Counter) -> None:
    """Add {(channel, status): n} to the message counters."""
    if not tally:
        return
    try:
        pipe = client().pipeline(transaction=False)
        for (channel, status), count in tally.items():
            pipe.hincrby(MESSAGES_KEY, f"{channel}:{status}", count)
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("message counters not updated: %s", exc)


def messages_read() -> dict[tuple[str, str], int]:
    raw = client().hgetall(MESSAGES_KEY)
    counts = {}
    for field, value in raw.items():
        channel, _, status = field.decode().partition(":")
        counts[(channel, status)] = int(value)
    return counts
