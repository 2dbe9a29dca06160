"""A booking's confirmation goes out through a real Celery worker on Redis and the fake LOX24 server."""

import time

from celery.contrib.testing.worker import start_worker
from django.db import connection
from django_tenants.utils import schema_context

from termino import celery_app
from termino.tenants.notifications.models import OutboxMessage
from tests.fakes.lox24 import FakeLox24
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon


def test_booking_confirmation_is_sent_once_by_the_worker(committed_db, settings):
    business = committed_db("t-worker-sms")
    with schema_context(business.schema):
        service, _staff, _room = salon()
    connection.set_schema_to_public()
    assert public_post(business.host, "bookings/", booking_body(service, next_monday())).status_code == 201
    with FakeLox24() as fake:
        settings.SMS_BACKEND, settings.LOX24_API_URL, settings.LOX24_TOKEN = "lox24", fake.url, fake.token
        with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
            for _ in range(2):  # two beat ticks: the second must find nothing left to send
                celery_app.send_task("tenancy.fan_out", kwargs={"task_name": "notifications.send_due"})
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with schema_context(business.schema):
                    if not OutboxMessage.objects.filter(kind="confirmation").exclude(status="sent").exists():
                        break
                time.sleep(0.2)
            time.sleep(1)  # let the second tick run too
        assert len(fake.messages) == 1
    assert_confirmed_and_reminders_waiting(business)


def test_a_booking_hands_its_confirmation_to_a_worker_without_waiting_for_beat(committed_db, settings):
    """The commit asks a worker once (no beat tick here); the reminders stay in the outbox."""
    business = committed_db("t-worker-soon")
    with schema_context(business.schema):
        service, _staff, _room = salon()
    connection.set_schema_to_public()
    with FakeLox24() as fake:
        settings.SMS_BACKEND, settings.LOX24_API_URL, settings.LOX24_TOKEN = "lox24", fake.url, fake.token
        with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
            booked = public_post(business.host, "bookings/", booking_body(service, next_monday()))
            assert booked.status_code == 201
            connection.set_schema_to_public()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(fake.messages) < 1:
                time.sleep(0.2)
        assert len(fake.messages) == 1
    assert_confirmed_and_reminders_waiting(business)


def assert_confirmed_and_reminders_waiting(business) -> None:
    with schema_context(business.schema):
        confirmations = OutboxMessage.objects.filter(kind="confirmation")
        assert set(confirmations.values_list("channel", "status")) == {("sms", "sent"), ("email", "sent")}
        # The reminders wait in the database for their time, not in Celery.
        assert set(OutboxMessage.objects.filter(kind="reminder").values_list("status", flat=True)) == {
            "queued"
        }
