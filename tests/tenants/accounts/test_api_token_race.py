"""Concurrent uses of one API token over real connections (committed, no per-test transaction): the
last use is written once, not once per request."""

import threading

from django.db import connection
from django_tenants.utils import schema_context

from termino.tenants.accounts import services
from termino.tenants.accounts.models import Role, User
from tests.conftest import client_for


def api_get(business, key: str):
    return client_for(business.host, "en").get("/api/v1/services/", HTTP_AUTHORIZATION=f"Token {key}")


def test_concurrent_requests_write_the_last_use_once(committed_db):
    """40 requests at once over real connections: one UPDATE changes the row, counted by a trigger."""
    business = committed_db("t-token-touch")
    with schema_context(business.schema):
        key = services.api_token_create(user=User.objects.get(role=Role.OWNER), name="race").key
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE touch_log (at timestamptz NOT NULL)")
            cursor.execute(
                "CREATE FUNCTION touch_logged() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN INSERT INTO touch_log VALUES (NEW.last_used_at); RETURN NEW; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER touch_logged AFTER UPDATE ON accounts_apitoken FOR EACH ROW"
                " EXECUTE FUNCTION touch_logged()"
            )
    connection.set_schema_to_public()
    contenders = 20
    barrier = threading.Barrier(contenders)
    codes: list[int] = []

    def use() -> None:
        try:
            barrier.wait()
            for _ in range(2):
                codes.append(api_get(business, key).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=use) for _ in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert codes == [200] * (2 * contenders)
    with schema_context(business.schema), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM touch_log")
        assert cursor.fetchone()[0] == 1
