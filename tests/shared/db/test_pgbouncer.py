"""Through a real PgBouncer: under transaction pooling django-tenants' session-level `SET search_path`
serves one business's rows to another; our backend in transaction mode does not, even with many
concurrent clients; session pooling (the documented alternative) does not leak either."""

import threading

import pytest
from django.db import IntegrityError, connections, transaction

from termino.tenants.crm.models import Customer

from .support import connect, database_alias, marked_customers, pgbouncer, pool_settings

pytestmark = pytest.mark.usefixtures("committed_db")


@pytest.fixture
def marked(business_a, business_b):
    # Different counts too, so even a bare count tells the businesses apart.
    with marked_customers({business_a.schema: 1, business_b.schema: 2}) as marked:
        yield marked


def names_seen(db, marker: str) -> list[str]:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT last_name FROM crm_customer WHERE last_name LIKE %s ORDER BY last_name", [marker + "%"]
        )
        return [row[0] for row in cursor.fetchall()]


def interleaved(settings_dict: dict, schemas: tuple[str, str], marker: str) -> list[list[str]]:
    """Client A queries, client B queries, client A queries again: what each query saw."""
    with database_alias(settings_dict) as first_alias, database_alias(settings_dict) as second_alias:
        first, second = connections[first_alias], connections[second_alias]
        first.set_schema(schemas[0])
        second.set_schema(schemas[1])
        return [names_seen(first, marker), names_seen(second, marker), names_seen(first, marker)]


def plain_django_tenants(settings_dict: dict) -> dict:
    return {**settings_dict, "ENGINE": "django_tenants.postgresql_backend"}


def session_search_path(settings_dict: dict) -> str:
    """The search_path a fresh client finds on the (only) server connection behind PgBouncer."""
    with connect(settings_dict) as conn:
        return conn.execute("SHOW search_path").fetchone()[0]


def test_plain_django_tenants_serves_the_other_business_under_transaction_pooling(
    marked, business_a, business_b
):
    a, b = business_a.schema, business_b.schema
    with pgbouncer(pool_mode="transaction", pool_size=1) as target:
        seen = interleaved(plain_django_tenants(target), (a, b), marked.marker)
    # A's second query skips the SET (TENANT_LIMIT_SET_CALLS) and runs on the server connection B set.
    assert seen == [marked.names[a], marked.names[b], marked.names[b]]


def test_our_backend_in_transaction_mode_serves_each_business_its_own(marked, business_a, business_b):
    a, b = business_a.schema, business_b.schema
    with pgbouncer(pool_mode="transaction", pool_size=1) as target:
        seen = interleaved(pool_settings(target, "transaction"), (a, b), marked.marker)
        # No session-level SET ever reached the shared server connection.
        assert session_search_path(target) == '"$user", public'
    assert seen == [marked.names[a], marked.names[b], marked.names[a]]


def test_session_pooling_with_plain_django_tenants_does_not_leak(marked, business_a, business_b):
    a, b = business_a.schema, business_b.schema
    with pgbouncer(pool_mode="session", pool_size=2) as target:
        seen = interleaved(plain_django_tenants(target), (a, b), marked.marker)
    assert seen == [marked.names[a], marked.names[b], marked.names[a]]


# --- Many clients at once --------------------------------------------------------------------------------


def orm_read(alias, schema, marked, tag) -> bool:
    rows = Customer.objects.using(alias).filter(last_name__startswith=marked.marker)
    return list(rows.values_list("last_name", flat=True)) == marked.names[schema]


def atomic_write_and_read_back(alias, schema, marked, tag) -> bool:
    with transaction.atomic(using=alias):
        made = Customer.objects.using(alias).create(last_name=f"{marked.marker}{schema}-tmp-{tag}")
        try:  # a failed savepoint in between: its ROLLBACK TO must not cost the transaction its schema
            with transaction.atomic(using=alias):
                Customer.objects.using(alias).create(last_name="x", phone="not a phone number")
        except IntegrityError:
            pass
        rows = Customer.objects.using(alias).filter(last_name__startswith=marked.marker)
        seen = sorted(rows.values_list("last_name", flat=True))
        made.delete()  # never committed: other clients of the business never see it
    return seen == sorted([*marked.names[schema], made.last_name])


def raw_cursor(alias, schema, marked, tag) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT current_schema(), count(*) FROM crm_customer WHERE last_name LIKE %s",
            [marked.marker + "%"],
        )
        return cursor.fetchone() == (schema, len(marked.names[schema]))


def autocommit_count(alias, schema, marked, tag) -> bool:
    count = Customer.objects.using(alias).filter(last_name__startswith=marked.marker).count()
    return count == len(marked.names[schema])


OPERATIONS = (orm_read, atomic_write_and_read_back, raw_cursor, autocommit_count)


def test_concurrent_clients_of_two_businesses_never_see_each_others_rows(marked, business_a, business_b):
    schemas, per_business, rounds = (business_a.schema, business_b.schema), 4, 200
    wrong: list[str] = []
    finished: list[str] = []
    barrier = threading.Barrier(len(schemas) * per_business)

    def client(alias: str, schema: str, number: int) -> None:
        db = connections[alias]  # this thread's own connection, through PgBouncer
        try:
            db.set_schema(schema)
            barrier.wait(timeout=30)
            for n in range(rounds):
                operation = OPERATIONS[n % len(OPERATIONS)]
                if not operation(alias, schema, marked, f"{number}-{n}"):
                    wrong.append(f"{schema} client {number}: {operation.__name__} round {n}")
            finished.append(schema)
        except Exception as exc:
            wrong.append(f"{schema} client {number}: {exc!r}")
        finally:
            db.close()

    with (
        pgbouncer(pool_mode="transaction", pool_size=2) as target,
        database_alias(pool_settings(target, "transaction")) as alias,
    ):
        threads = [
            threading.Thread(target=client, args=(alias, schema, number))
            for schema in schemas
            for number in range(per_business)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert wrong == []
    assert sorted(finished) == sorted(schemas * per_business)
