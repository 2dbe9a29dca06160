"""The business the fault tests book at: a service, two staff members, a room, open Monday to Saturday."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import connection
from django_tenants.utils import schema_context

from termino.tenants.business.models import BusinessSettings
from tests.tenants.booking.public_helpers import aged_form_token
from tests.tenants.scheduling.factories import next_monday, salon


@dataclass
class Bookable:
    host: str
    schema: str
    service_id: int
    slug: str
    owner: str

    def slot(self, n: int) -> datetime:
        """The n-th free 30-minute slot: each booking of a test gets its own (two staff, 9 to 18)."""
        day, index = divmod(n, 18 * 2)
        return next_monday(time(9)) + timedelta(days=7 * day, minutes=30 * (index // 2))

    def body(self, n: int, *, phone: bool = True) -> dict:
        return {
            "service": self.service_id,
            "start": self.slot(n).isoformat(),
            "first_name": "Kundin",
            "last_name": f"Nummer {n}",
            "email": f"kundin{n}@example.com",
            "phone": f"+49170{2000000 + n}" if phone else "",
            "privacy_consent": True,
            "sms_consent": phone,
            "form_token": aged_form_token(),
            "website": "",
        }

    def availability_path(self) -> str:
        day = self.slot(0).date()
        return f"/api/public/v1/availability/?service={self.service_id}&start={day}&end={day}"


def bookable(committed_db, prefix: str) -> Bookable:
    business = committed_db(f"t-{prefix}-{secrets.token_hex(3)}")
    with schema_context(business.schema):
        service, _staff, _room = salon(staff_count=2)
        BusinessSettings.objects.update_or_create(id=1, defaults={"max_open_bookings": 1000})
    connection.set_schema_to_public()
    return Bookable(
        host=business.host,
        schema=business.schema,
        service_id=service.pk,
        slug=business.tenant.slug,
        owner=business.owner_username,
    )


def key() -> str:
    return str(uuid.uuid4())


def half_written(conn, schema: str) -> list[int]:
    """Appointments without an allocation or without their customer: a booking only half in the database."""
    rows = conn.execute(
        f'SELECT a.id FROM "{schema}".scheduling_appointment a WHERE a.customer_id IS NULL OR NOT EXISTS '
        f'(SELECT 1 FROM "{schema}".scheduling_allocation l WHERE l.appointment_id = a.id)'
    ).fetchall()
    return [row[0] for row in rows]


def count(conn, schema: str, table: str, where: str = "true", params=()) -> int:
    return conn.execute(f'SELECT count(*) FROM "{schema}".{table} WHERE {where}', params).fetchone()[0]
