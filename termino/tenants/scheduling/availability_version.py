"""A version number of each business's availability, moved whenever a slot may have changed.

Every committed write that can change what is free moves it: appointments (bookings, holds, moves,
cancellations, expired holds deleted), their allocations, services and which resources do them, resources,
weekly hours and closures. Readers key cached answers by it (the public availability endpoint), so a
booking is seen by the next request, not after a cache lifetime. Signals rather than calls in each service
because they also see queryset deletes and admin edits; `QuerySet.update()` sends none, and the writes that
use it (a status change's allocations) save their appointment in the same transaction.

Kept in the business's Redis keyspace (the default cache's keys carry the schema). Without Redis nothing is
cached and the version reads as None; a bump lost while Redis was away is covered by the short lifetime of
whatever was cached under the old version.
"""

import contextlib

from django.core.cache import cache
from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save
from django_tenants.utils import schema_context

from termino.shared.db.commit import after_commit_once

from .models import Allocation, Appointment, Closure, Resource, Service, WeeklyHours

KEY = "availability-version"


def current() -> int | None:
    """The version now, or None when it cannot be read (no cache then)."""
    version = cache.get(KEY)
    if version is None:
        cache.add(KEY, 1, timeout=None)
        version = cache.get(KEY)
    return version


def bump() -> None:
    """Move the version now, and again once the transaction commits.

    Now, so that reads on this connection (later in the same transaction) miss the cache; after the commit
    (registered once per transaction), so that an answer another request computed from the old rows in
    between is not kept under the new version.
    """
    schema = connection.schema_name

    def move():
        # ValueError: never read yet (or Redis away), so nothing is cached under a version.
        with schema_context(schema), contextlib.suppress(ValueError):
            cache.incr(KEY)

    move()
    if connection.in_atomic_block:
        after_commit_once(("availability-version", schema), move)


def _changed(sender, **kwargs):
    bump()


def connect() -> None:
    for model in (Appointment, Allocation, Service, Resource, WeeklyHours, Closure):
        post_save.connect(_changed, sender=model, dispatch_uid=f"availability-version-save-{model.__name__}")
        post_delete.connect(
            _changed, sender=model, dispatch_uid=f"availability-version-delete-{model.__name__}"
        )
    m2m_changed.connect(_changed, sender=Service.resources.through, dispatch_uid="availability-version-m2m")
