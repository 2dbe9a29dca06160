""" "Only one of these at a time" for jobs that span many transactions, correct under any pool mode.

A session-level `pg_advisory_lock` belongs to one server connection. Behind PgBouncer in transaction
mode the unlock may run on another server connection (it fails, and the lock stays with a pooled
connection that never closes), and another client handed the same server connection even "holds" it.
A transaction-level advisory lock cannot span a job that commits as it goes.

A lease instead is a Redis key holding a random token, with an expiry (redis-py's Lock: token-checked
release and extension). While the holder runs, a daemon thread extends it every ttl/3 seconds, so it is
held however long the job takes; a holder that dies (crash, OOM kill, deploy) stops extending it and the
lease frees itself within `ttl` seconds. Redis must not evict keys (the Celery broker needs that too).
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings

from termino.shared.redis_clients import redis_client

logger = logging.getLogger(__name__)

KEY_PREFIX = "termino:lease:"
DEFAULT_TTL = 60.0


def client() -> redis.Redis:
    return redis_client(settings.REDIS_URL, 5.0)


@contextmanager
def lease(name: str, *, ttl: float = DEFAULT_TTL) -> Iterator[bool]:
    """Hold the lease `name` for the block: yields True, or False at once when someone else holds it."""
    lock = client().lock(KEY_PREFIX + name, timeout=ttl, blocking=False, thread_local=False)
    if not lock.acquire(blocking=False):
        yield False
        return
    done = threading.Event()
    keeper = threading.Thread(target=_keep, args=(lock, name, ttl, done), name=f"lease {name}", daemon=True)
    keeper.start()
    try:
        yield True
    finally:
        done.set()
        keeper.join()
        try:
            lock.release()
        except redis.exceptions.LockError:
            logger.warning("lease %s had expired before its holder finished", name)


def _keep(lock, name: str, ttl: float, done: threading.Event) -> None:
    while not done.wait(ttl / 3):
        try:
            lock.reacquire()  # back to the full ttl
        except redis.exceptions.LockNotOwnedError:
            logger.error("lease %s was lost (expired or taken); another holder may run now", name)
            return
        except redis.RedisError:
            logger.warning("could not extend lease %s; trying again", name, exc_info=True)
