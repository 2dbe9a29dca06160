"""The lifecycle's events reach the customer through a real Celery worker on Redis and the fake LOX24:
sent when committed (not at beat's next minute), exactly once when beat's sweep races it, and the
approval flow's three messages — request received, confirmed, declined with the business's reason.
"""

import statistics
import time
from datetime import time as clock
from datetime import timedelta

from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection
from django_tenants.utils import schema_context

from termino import celery_app
from termino.tenants.business.models import BusinessSettings
from termino.tenants.notifications.models import OutboxMessage
from tests.conftest import client_for
from tests.fakes.lox24 import FakeLox24
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

BOOKINGS = 20


def _wait(condition, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _use_fake(settings, fake) -> None:
    settings.SMS_BACKEND, settings.LOX24_API_URL, settings.LOX24_TOKEN = "lox24", fake.url, fake.token


def test_a_committed_booking_reaches_the_gateway_at_once_and_exactly_once(committed_db, settings):
    business = committed_db("t-on-commit")
    with schema_context(business.schema):
        service, _staff, _room = salon(staff_count=2)
    connection.set_schema_to_public()
    waits = []
    with FakeLox24() as fake:
        _use_fake(settings, fake)
        with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
            for n in range(BOOKINGS):
                start = next_monday(clock(9)) + timedelta(days=n // 16, minutes=30 * (n % 16))
                body = booking_body(service, start, email=f"kunde{n}@example.com", phone=f"+49170123{n:04d}")
                assert (
                    public_post(business.host, "bookings/", body, REMOTE_ADDR=f"10.7.0.{n}").status_code
                    == 201
                )
                committed = time.monotonic()
                # Beat's sweep races the hand-over of the commit: still one message.
                celery_app.send_task("tenancy.fan_out", kwargs={"task_name": "notifications.send_due"})
                assert _wait(lambda n=n: len(fake.messages) >= n + 1), f"booking {n} was not sent"
                waits.append(time.monotonic() - committed)
            time.sleep(1.0)  # whatever the races left over would arrive now
        phones = [message["phone"] for message in fake.messages]
    assert len(phones) == BOOKINGS and len(set(phones)) == BOOKINGS
    p50 = statistics.median(waits)
    p95 = sorted(waits)[round(0.95 * (len(waits) - 1))]
    print(f"\ncommit to gateway over {BOOKINGS} bookings: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    assert p95 < 2.0
    with schema_context(business.schema):
        sent = OutboxMessage.objects.filter(kind="confirmation", status="sent")
        assert (
            sent.filter(channel="sms").count() == BOOKINGS
            and sent.filter(channel="email").count() == BOOKINGS
        )


def test_approval_request_then_confirmed_or_declined_through_a_real_worker(committed_db, settings):
    business = committed_db("t-approval")
    with schema_context(business.schema):
        service, _staff, _room = salon()
        # Customer messages only (the team's: test_team_notices.py).
        BusinessSettings.objects.update_or_create(
            id=1, defaults={"approval_required": True, "team_notice_email": False}
        )
    connection.set_schema_to_public()
    owner = log_in_as(business, "owner")
    with FakeLox24() as fake:
        _use_fake(settings, fake)
        with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
            first = public_post(business.host, "bookings/", booking_body(service, next_monday(clock(9))))
            second = public_post(
                business.host,
                "bookings/",
                booking_body(
                    service, next_monday(clock(11)), email="zweite@example.com", phone="0171 2345678"
                ),
                REMOTE_ADDR="10.7.1.2",
            )
            assert first.json()["status"] == second.json()["status"] == "requested"
            # Both requests are acknowledged at once — "request received", not "booked".
            assert _wait(lambda: len(fake.messages) == 2)
            assert all("Terminanfrage" in m["text"] and "eingegangen" in m["text"] for m in fake.messages)
            assert not any("ist gebucht" in m["text"] for m in fake.messages)

            confirmed = owner.post(f"/api/v1/appointments/{first.json()['id']}/confirm/")
            assert confirmed.json()["status"] == "confirmed"
            assert _wait(lambda: len(fake.messages) == 3)
            assert "ist gebucht" in fake.messages[2]["text"]

            declined = owner.post(
                f"/api/v1/appointments/{second.json()['id']}/decline/",
                {"reason": "Leider ist die Kollegin krank."},
                content_type="application/json",
            )
            assert declined.json()["status"] == "cancelled"
            assert _wait(lambda: len(fake.messages) == 4)
            assert "nicht annehmen" in fake.messages[3]["text"]
            assert "Leider ist die Kollegin krank." in fake.messages[3]["text"]
            assert _wait(lambda: len(mail.outbox) == 4)
    subjects = [message.subject for message in mail.outbox]
    assert subjects.count(f"Ihre Terminanfrage bei {business.tenant.name}") == 3  # request ×2, declined
    assert subjects.count(f"Ihr Termin bei {business.tenant.name}") == 1  # confirmed
    assert "Leider ist die Kollegin krank." in mail.outbox[-1].body
    with schema_context(business.schema):
        sms = OutboxMessage.objects.filter(channel="sms").exclude(kind="reminder")
        kinds = sorted(sms.values_list("kind", flat=True))
        assert kinds == ["confirmation", "declined", "request", "request"]
        # Reminders only for the confirmed appointment: a request or a declined one gets none.
        reminders = OutboxMessage.objects.filter(kind="reminder")
        assert set(reminders.values_list("appointment_id", flat=True)) == {first.json()["id"]}


def test_a_declined_request_cannot_be_declined_twice_nor_a_confirmed_one(committed_db):
    business = committed_db("t-decline-rules")
    with schema_context(business.schema):
        service, _staff, _room = salon()
    connection.set_schema_to_public()
    owner = log_in_as(business, "owner")
    booked = owner.post(
        "/api/v1/appointments/",
        {"service": service.pk, "start": next_monday().isoformat()},
        content_type="application/json",
    ).json()
    refused = owner.post(f"/api/v1/appointments/{booked['id']}/decline/", content_type="application/json")
    assert refused.status_code == 400 and "Only a requested appointment" in refused.json()["detail"]
    assert client_for(business.host).post(f"/api/v1/appointments/{booked['id']}/decline/").status_code in (
        401,
        403,
    )
