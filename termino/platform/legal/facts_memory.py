"""The operator and the sub-processors as this process last read them from `public`.

Every visitor of a booking page asks for its services, and the answer names the version of the page's
privacy notice, which lists the operator and the sub-processors in effect: two `public` reads for
something that changes a few times a year. So each process keeps what it read, per day, and trusts it
while the platform cache's `legal:version` stays the same, asking Redis at most every
LEGAL_LOCAL_SECONDS (like the routing's host dictionary). A change saved through the ORM writes a new
version once committed; what bypasses the signals (a QuerySet.update in a shell) or a lost write to Redis
is seen after LEGAL_MEMORY_SECONDS at the latest.

Inside a transaction nothing is remembered or reused: the transaction may hold changes of its own that it
would see and could roll back, and a booking's consent records the version it read from the database.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models.signals import post_delete, post_save

from termino.shared import cache_version
from termino.shared.db.commit import after_commit_once

from .models import Operator, SubProcessor

logger = logging.getLogger(__name__)
VERSION_KEY = "legal:version"


class _Memory:
    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.version, self.checked_at, self.entries = None, float("-inf"), {}


_memory = _Memory()


def remembered(key, load):
    """`load()` for `key` (a day, and which providers), or what this process read for it since the last
    change."""
    if connection.in_atomic_block:
        return load()
    now = time.monotonic()
    with _memory.lock:
        if now - _memory.checked_at >= settings.LEGAL_LOCAL_SECONDS:
            try:
                version = cache_version.read(caches["platform"], VERSION_KEY)
            except Exception:  # Redis away: read the database each time rather than trust blindly
                logger.warning("platform cache unavailable, reading the legal facts", exc_info=True)
                _memory.clear()
                return load()
            if version != _memory.version:
                _memory.entries = {}
            _memory.version, _memory.checked_at = version, now
        hit = _memory.entries.get(key)
        if hit is not None and now - hit[0] < settings.LEGAL_MEMORY_SECONDS:
            return hit[1]
    value = load()
    with _memory.lock:
        if len(_memory.entries) > 16:  # a few days' worth at most
            _memory.entries = {}
        _memory.entries[key] = (now, value)
    return value


def forget_here() -> None:
    """Empty this process's memory (a change made here does; the suite does it between tests)."""
    with _memory.lock:
        _memory.clear()


def _announce() -> None:
    try:
        cache_version.move(caches["platform"], VERSION_KEY)
    except Exception:  # every process reads again after LEGAL_MEMORY_SECONDS anyway
        logger.warning("platform cache unavailable, legal change not announced", exc_info=True)


def _changed(**_kwargs) -> None:
    forget_here()
    # Only once committed: a process that read the old rows before would otherwise keep them.
    after_commit_once("legal-facts", _announce)


for _model in (Operator, SubProcessor):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"legal-facts-save-{_model.__name__}")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"legal-facts-delete-{_model.__name__}")
