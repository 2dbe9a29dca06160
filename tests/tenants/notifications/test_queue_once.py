"""A message is queued once per idempotency key, in one statement, however many writers race for it."""

from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.duework import due
from termino.tenants.notifications.due import KIND, outbox_queue_once
from termino.tenants.notifications.models import OutboxMessage
from tests.tenants.booking.public_helpers import booking_body, public_post, race
from tests.tenants.scheduling.factories import next_monday, salon


def message(key: str, text: str, due_at) -> OutboxMessage:
    return OutboxMessage(
        idempotency_key=key, channel="email", kind="confirmation", recipient="a@example.com", text=text,
        due_at=due_at,
    )  # fmt: skip


@pytest.mark.django_db
def test_a_key_queued_again_keeps_the_first_message_and_marks_it_due(business_a):
    now = timezone.now()
    with schema_context(business_a.schema):
        outbox_queue_once(message("confirmation:1:email", "first", now + timedelta(hours=1)))
        outbox_queue_once(message("confirmation:1:email", "second", now))
        (stored,) = OutboxMessage.objects.all()
        assert (stored.text, stored.due_at, stored.status) == ("first", now + timedelta(hours=1), "queued")
        assert stored.created_at is not None and stored.updated_at is not None
        assert due.waiting()[business_a.schema, KIND] == now  # early marks only bring a visit forward


def test_fifty_writers_of_one_message_leave_one_row(committed_db):
    business = committed_db("t-queue-once")
    now = timezone.now()

    def attempt(n):
        try:
            with schema_context(business.schema), transaction.atomic():
                outbox_queue_once(message("reminder:7:24h:email", f"writer {n}", now + timedelta(minutes=n)))
            return "ok"
        finally:
            connections.close_all()

    assert race(50, lambda n: n, attempt) == ["ok"] * 50  # none of them fails on the unique key
    with schema_context(business.schema):
        (stored,) = OutboxMessage.objects.filter(idempotency_key="reminder:7:24h:email")
        assert stored.text.startswith("writer ")


@pytest.mark.django_db
def test_a_booking_writes_each_message_with_one_statement(business_a):
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
    with CaptureQueriesContext(connection) as statements:
        response = public_post(business_a.host, "bookings/", booking_body(service, next_monday()))
    assert response.status_code == 201
    with schema_context(business_a.schema):
        queued = OutboxMessage.objects.count()
    # A confirmation and reminders on two channels, and the team's notice.
    assert queued >= 5
    outbox = [
        q["sql"] or ""
        for q in statements.captured_queries
        if "notifications_outboxmessage" in (q["sql"] or "")
    ]
    written = [sql for sql in outbox if sql.startswith("INSERT")]
    assert len(written) == queued and all("ON CONFLICT DO NOTHING" in sql for sql in written)
    # No look-up before each insert, and none after the commit to decide on the hand-over to a worker.
    assert outbox == written


@pytest.mark.django_db
def test_a_message_due_now_asks_a_worker_once_per_transaction_and_a_later_one_does_not(
    business_a, django_capture_on_commit_callbacks
):
    def hand_overs(callbacks):
        return [c for c in callbacks if getattr(c, "commit_once_key", None) == ("outbox-send-soon", schema)]

    schema, now = business_a.schema, timezone.now()
    with schema_context(schema), django_capture_on_commit_callbacks() as callbacks:
        outbox_queue_once(message("reminder:1:24h:email", "", now + timedelta(hours=20)))
    assert hand_overs(callbacks) == []  # beat's dispatcher sends it when it is due
    with schema_context(schema), django_capture_on_commit_callbacks() as callbacks:
        outbox_queue_once(message("confirmation:1:email", "", now))
        outbox_queue_once(message("confirmation:1:sms", "", now))
    assert len(hand_overs(callbacks)) == 1
