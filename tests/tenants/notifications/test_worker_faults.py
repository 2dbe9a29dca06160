"""Every due message ends sent exactly once, whatever happens to the worker, the gateway or Redis.

Real worker processes (`celery worker`, prefork pool) on a Redis of the test's own, the fake LOX24 over
HTTP, committed rows in a business's schema. Beat is played by the test: a tick every second.
"""

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.tenants.crm.models import Consent, Customer
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling.models import Appointment, Service
from tests.fakes.lox24 import FakeLox24

from .worker_process import kill, private_broker, running_worker

MESSAGES = 30


@pytest.fixture
def due(committed_db):
    """A business with MESSAGES reminders due now, each to its own phone number."""
    business = committed_db("t-faults")
    with schema_context(business.schema):
        service = Service.objects.create(name="Termin", duration_minutes=30)
        start = timezone.now() + timedelta(days=1)
        for n in range(MESSAGES):
            customer = Customer.objects.create(last_name=f"Kunde {n}", phone=f"+49170{1000000 + n}")
            Consent.objects.create(customer=customer, kind="sms_reminders", granted=True, source="test")
            appointment = Appointment.objects.create(
                service=service, customer=customer, start=start, end=start + timedelta(minutes=30)
            )
            OutboxMessage.objects.create(
                channel="sms",
                kind="reminder",
                recipient=customer.phone,
                appointment=appointment,
                customer=customer,
                due_at=timezone.now(),
                idempotency_key=f"reminder:{appointment.pk}:fault",
            )
    connection.set_schema_to_public()
    return business


@pytest.fixture
def fake():
    with FakeLox24() as server:
        yield server


@pytest.fixture
def broker(tmp_path):
    with private_broker(tmp_path / "redis") as b:
        yield b


def worker_env(broker, fake, **extra):
    return broker.env(
        SMS_BACKEND="lox24",
        LOX24_API_URL=fake.url,
        LOX24_TOKEN=fake.token,
        OUTBOX_STUCK_AFTER_SECONDS="2",
        OUTBOX_BACKOFF_SECONDS="1",
        **extra,
    )


def rows(business) -> list[OutboxMessage]:
    with schema_context(business.schema):
        return list(OutboxMessage.objects.order_by("pk"))


def wait_for(condition, timeout: float, tick=None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if tick:
            tick()
        time.sleep(1)
    return condition()


def settle(business, broker, timeout: float = 60) -> list[OutboxMessage]:
    """Beat ticks every second until no row is queued or sending any more."""
    wait_for(lambda: all(r.status not in ("queued", "sending") for r in rows(business)), timeout, broker.tick)
    return rows(business)


def assert_each_sent_exactly_once(business, fake, final: list[OutboxMessage]) -> None:
    assert [r.status for r in final] == ["sent"] * MESSAGES, Counter((r.status, r.reason) for r in final)
    callbacks = Counter(m["callback_data"] for m in fake.messages)
    expected = {f"{business.schema}|{r.idempotency_key}" for r in final}
    assert set(callbacks) == expected  # none lost
    assert max(callbacks.values()) == 1, [k for k, n in callbacks.items() if n > 1]  # none twice
    ids = dict(zip((m["callback_data"] for m in fake.messages), fake.ids, strict=True))
    assert all(r.provider_message_id == ids[f"{business.schema}|{r.idempotency_key}"] for r in final)


def test_a_worker_killed_in_the_middle_of_a_batch(due, fake, broker):
    # Each message is accepted at once and answered 0.4 s later: the kill lands between the gateway's
    # acceptance of a message and our record of it, the one gap no transaction can close.
    fake.delay_replies(0.4)
    env = worker_env(broker, fake)
    worker = broker.worker(env)
    try:
        broker.tick()
        assert wait_for(lambda: len(fake.messages) >= 8, 30)
        kill(worker)
    finally:
        kill(worker)
    accepted = {m["callback_data"] for m in fake.messages}
    unrecorded = [r for r in rows(due) if r.status == "sending"]
    assert unrecorded, "the kill should leave a row in `sending`"
    assert any(f"{due.schema}|{r.idempotency_key}" in accepted for r in unrecorded)

    fake.delay_replies(0)
    time.sleep(2.5)  # OUTBOX_STUCK_AFTER_SECONDS
    with running_worker(broker, env):
        final = settle(due, broker)
    assert_each_sent_exactly_once(due, fake, final)


def test_gateway_timeouts_and_server_errors(due, fake, broker):
    # Three requests stall past the 1 s timeout and are accepted afterwards (the client never learns
    # the id), two more get a 503; every message still goes out once.
    fake.stall_next(1.5, times=3)
    env = worker_env(broker, fake, LOX24_TIMEOUT="1")
    with running_worker(broker, env):
        broker.tick()
        assert wait_for(lambda: len(fake.messages) >= 10, 30)
        fake.fail_next(503, times=2)
        final = settle(due, broker)
    assert_each_sent_exactly_once(due, fake, final)
    assert sum(r.attempts > 1 for r in final) >= 3


def test_redis_restarts_while_the_worker_sends(due, fake, broker):
    fake.delay_replies(0.1)
    env = worker_env(broker, fake)
    with running_worker(broker, env):
        broker.tick()
        assert wait_for(lambda: len(fake.messages) >= 5, 30)
        broker.restart()  # every queued task is gone with it; the rows in the database remain
        final = settle(due, broker)
    assert_each_sent_exactly_once(due, fake, final)


def test_dispatcher_and_sweep_racing_send_each_message_once(due, fake, broker):
    """The messages were written without marks (as if every mark was lost in a crash): the dispatcher alone
    finds nothing; the sweep finds them. Then sweeps and dispatches race, with a lease of one second so the
    dispatcher claims the business again while its runs still send, on two worker processes."""
    fake.delay_replies(0.05)
    env = worker_env(broker, fake, DUE_LEASE_SECONDS="1")
    first, second = broker.worker(env), broker.worker(env)
    try:
        broker.dispatch()
        time.sleep(2)
        assert fake.messages == []  # not in the index: the dispatcher does not know of them

        def race():
            broker.sweep()
            broker.dispatch()
            broker.dispatch()

        assert wait_for(lambda: fake.messages, 30, race)
        wait_for(lambda: all(r.status == "sent" for r in rows(due)), 60, race)
        final = rows(due)
    finally:
        kill(first)
        kill(second)
    assert_each_sent_exactly_once(due, fake, final)
