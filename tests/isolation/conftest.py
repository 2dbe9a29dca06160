"""Businesses A and B with one object of every kind, built once for the whole isolation package.

The objects are written inside a transaction opened here and rolled back when the package is done; each
test runs in its own savepoint within it (pytest-django's `db`), so whatever an attack manages to write
is undone after the test as well.
"""

import pytest
from django.db import connection, transaction
from django.test import override_settings

from .world import World, build_side, ids_beyond, seed_import


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    business_a, business_b = pytest.termino_businesses
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
    media.enable()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            side_b = build_side(business_b, "B")
            # A's ids lie beyond B's: an id of A asked for at B's host must find nothing (no false alarm).
            ids_beyond(schema=business_a.schema, other=business_b.schema)
            side_a = build_side(business_a, "A")
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            media.disable()
            raise
        finally:
            connection.set_schema_to_public()
    yield World(a=side_a, b=side_b)
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)
        connection.set_schema_to_public()
    media.disable()


@pytest.fixture
def sides(world, db):
    """The world, with the caches each test starts without (uploads waiting for import) filled again."""
    seed_import(world.a)
    seed_import(world.b)
    connection.set_schema_to_public()
    return world
