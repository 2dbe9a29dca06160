"""What a moved business looks like from inside the database it now lives in.

Used in the test process (same database) and, for the move to another database, as a subprocess:
`python -m tests.platform.tenancy.transfer_probe '<json>'` with DATABASE_URL set; it prints one JSON line.
"""

import hashlib
import json
import sys

CHECK_TIMEZONE = "UTC"


def table_digests(schema: str) -> dict[str, list]:
    """Per table of `schema` (django_migrations aside): row count and the MD5 of its ordered rows, ids
    and every column included."""
    from django.db import connection

    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('TimeZone', %s, false)", [CHECK_TIMEZONE])
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
            " AND table_type = 'BASE TABLE' AND table_name <> 'django_migrations' ORDER BY 1",
            [schema],
        )
        tables = [row[0] for row in cursor.fetchall()]
        digests = {}
        for table in tables:
            cursor.execute(
                f"SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '')"
                f" FROM {quote(schema)}.{quote(table)} t"
            )
            digests[table] = list(cursor.fetchone())
    return digests


def sequences(schema: str) -> dict[str, list]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = %s ORDER BY 1", [schema]
        )
        return dict(cursor.fetchall())


def probe(*, schema: str, host: str, username: str, password: str, api_token: str, logo: str) -> dict:
    """Digests first (before anything writes), then: routing, login, API token, logo, the exclusion
    constraint and the id the next customer gets."""
    from django.db import IntegrityError, transaction
    from django.test import Client
    from django_tenants.utils import schema_context

    from termino.platform.tenancy.routing import tenant_for_host
    from termino.tenants.crm.models import Customer
    from termino.tenants.scheduling.models import Allocation, Appointment

    result = {"digests": table_digests(schema), "sequences": sequences(schema)}
    routed = tenant_for_host(host)
    result["routed_schema"] = routed.schema_name if routed else None

    client = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")
    login = client.post("/login/", {"username": username, "password": password})
    result["login"] = [login.status_code, login.get("Location")]
    result["home"] = client.get("/").status_code
    api = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {api_token}").get("/api/v1/appointments/")
    result["api"] = [api.status_code, api.json().get("count") if api.status_code == 200 else None]
    media = Client(HTTP_HOST=host).get(f"/media/{schema}/{logo}")
    body = b"".join(media.streaming_content) if media.status_code == 200 else b""
    result["logo"] = [media.status_code, hashlib.sha256(body).hexdigest()]

    with schema_context(schema):
        taken = Allocation.objects.filter(active=True).select_related("appointment").order_by("pk").first()
        try:
            with transaction.atomic():
                rival = Appointment.objects.create(
                    service_id=taken.appointment.service_id, start=taken.period.lower, end=taken.period.upper
                )
                Allocation.objects.create(
                    appointment=rival, resource_id=taken.resource_id, period=taken.period
                )
            result["double_booking"] = "accepted"
        except IntegrityError as exc:
            result["double_booking"] = getattr(exc.__cause__, "sqlstate", "refused")
        result["new_customer_id"] = Customer.objects.create(last_name="Nach dem Umzug").pk
    return result


def main() -> None:
    import django

    django.setup()
    print(json.dumps(probe(**json.loads(sys.argv[1]))))


if __name__ == "__main__":
    main()
