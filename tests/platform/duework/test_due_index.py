"""The due index: marks on commit with LEAST, the dispatcher visits only businesses whose work is due, a
run advances its row without overwriting a mark made meanwhile, and the sweep finds work whose mark was
lost between a commit and the index update."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.duework import dispatch, due
from termino.platform.duework.models import DueWork
from termino.platform.duework.tasks import repair
from termino.platform.tenancy.models import Tenant, TenantStatus
from termino.tenants.notifications.due import KIND as OUTBOX
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.due import KIND as HOLDS
from termino.tenants.scheduling.events import Actor
from tests.tenants.scheduling.factories import next_monday, salon


def row(business, kind=OUTBOX) -> DueWork | None:
    connection.set_schema_to_public()
    return DueWork.objects.filter(tenant=business.tenant, kind=kind).first()


@pytest.fixture
def sent(monkeypatch):
    """What the dispatcher queues, instead of sending it to the broker."""
    queued = []
    monkeypatch.setattr(
        dispatch.current_app, "send_task", lambda name, kwargs=None, **options: queued.append((name, kwargs))
    )
    return queued


def mark(business, at, kind=OUTBOX) -> None:
    with schema_context(business.schema):
        due.mark(kind, at)


def test_a_mark_is_written_on_commit_and_the_earliest_time_wins(committed_db):
    business = committed_db("t-due-mark")
    now = timezone.now()
    with schema_context(business.schema), transaction.atomic():
        due.mark(OUTBOX, now + timedelta(hours=2))
        assert row(business) is None  # not before the commit
        connection.set_schema(business.schema)
    assert row(business).due_at == now + timedelta(hours=2)
    mark(business, now + timedelta(hours=5))
    assert row(business).due_at == now + timedelta(hours=2)  # a later time does not push it back
    mark(business, now + timedelta(hours=1))
    assert row(business).due_at == now + timedelta(hours=1)
    with pytest.raises(RuntimeError), schema_context(business.schema), transaction.atomic():
        due.mark(OUTBOX, now)
        raise RuntimeError("rolled back")
    assert row(business).due_at == now + timedelta(hours=1)  # nothing marked for work that rolled back


def test_a_transactions_marks_are_written_together_in_one_statement(committed_db):
    business = committed_db("t-due-together")
    now = timezone.now()
    with (
        CaptureQueriesContext(connection) as statements,
        schema_context(business.schema),
        transaction.atomic(),
    ):
        for hours in (5, 2, 7):
            due.mark(OUTBOX, now + timedelta(hours=hours))
        due.mark(HOLDS, now + timedelta(minutes=10))
        due.mark(HOLDS, now + timedelta(minutes=30))
        assert due.waiting() == {
            (business.schema, OUTBOX): now + timedelta(hours=2),
            (business.schema, HOLDS): now + timedelta(minutes=10),
        }
        before_commit = len(statements)
    written = [q["sql"] for q in statements.captured_queries[before_commit:] if "duework" in (q["sql"] or "")]
    assert len(written) == 1  # one INSERT … ON CONFLICT for both kinds, after the COMMIT
    assert row(business).due_at == now + timedelta(hours=2)
    assert row(business, HOLDS).due_at == now + timedelta(minutes=10)
    assert (row(business).version, row(business, HOLDS).version) == (1, 1)
    with schema_context(business.schema):
        assert due.waiting() == {}  # committed: the next transaction starts with none


def test_a_mark_after_a_rolled_back_savepoint_is_still_written(committed_db):
    """The savepoint's rollback drops the callback its mark registered; a later mark registers a new one."""
    business = committed_db("t-due-savepoint")
    now = timezone.now()
    with schema_context(business.schema), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            due.mark(OUTBOX, now + timedelta(hours=1))
            raise RuntimeError("the booking inside failed")
        assert due.waiting() == {}
        due.mark(OUTBOX, now + timedelta(hours=3))
    assert row(business).due_at == now + timedelta(hours=3)


def test_a_mark_in_a_savepoint_rolled_back_later_only_brings_the_visit_forward(committed_db):
    """Its time stays with the outer transaction's marks: a visit too early finds nothing and moves on; a
    visit too late would leave a message unsent, and that cannot happen."""
    business = committed_db("t-due-forward")
    now = timezone.now()
    with schema_context(business.schema), transaction.atomic():
        due.mark(OUTBOX, now + timedelta(hours=3))
        with pytest.raises(RuntimeError), transaction.atomic():
            due.mark(OUTBOX, now + timedelta(hours=1))
            raise RuntimeError("rolled back")
    assert row(business).due_at == now + timedelta(hours=1)


def test_marks_are_refused_outside_a_business_or_for_an_unknown_kind(business_a):
    connection.set_schema_to_public()
    with pytest.raises(ValueError, match="business"):
        due.mark(OUTBOX, timezone.now())
    with schema_context(business_a.schema), pytest.raises(ValueError, match="registered"):
        due.mark("no.such.kind", timezone.now())


def test_concurrent_marks_keep_the_earliest(committed_db):
    business = committed_db("t-due-race")
    base = timezone.now() + timedelta(days=1)
    times = [base + timedelta(minutes=(n * 37) % 100) for n in range(16)]
    barrier = threading.Barrier(len(times))
    errors = []

    def one(at):
        try:
            barrier.wait(timeout=30)
            mark(business, at)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one, args=(at,)) for at in times]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert row(business).due_at == min(times)
    assert row(business).version == len(times)  # every mark went through, none lost


def test_the_dispatcher_visits_only_businesses_whose_work_is_due(committed_db, sent):
    now = timezone.now()
    due_now, later, idle, suspended = (committed_db(f"t-due-{n}") for n in ("now", "later", "idle", "off"))
    mark(due_now, now - timedelta(seconds=1))
    mark(due_now, now + timedelta(minutes=3), kind=HOLDS)
    mark(later, now + timedelta(hours=1))
    mark(suspended, now - timedelta(minutes=1))
    Tenant.objects.filter(pk=suspended.tenant.pk).update(status=TenantStatus.SUSPENDED)

    visited = dispatch.due_dispatch(now=now)

    ours = {b.schema for b in (due_now, later, idle, suspended)}
    assert [v for v in visited if v[0] in ours] == [(due_now.schema, OUTBOX)]
    (kwargs,) = [k for name, k in sent if name == "duework.run" and k["schema_name"] in ours]
    assert kwargs == {"schema_name": due_now.schema, "kind": OUTBOX, "claimed": row(due_now).version}
    assert row(due_now).due_at == now + timedelta(seconds=600)  # leased until its run reports
    assert [v for v in dispatch.due_dispatch(now=now) if v[0] in ours] == []  # claimed once only
    assert row(suspended).due_at > now  # leased without a task: back when the business is


def test_a_run_advances_its_row_but_never_over_a_mark_made_meanwhile(committed_db):
    business = committed_db("t-due-run")
    now = timezone.now()
    mark(business, now)
    (claim,) = [r for r in dispatch.due_claim(now=now) if r[0] == business.schema]
    with schema_context(business.schema):
        # Nothing pending, but a message was marked for tomorrow while the run worked.
        due.mark(OUTBOX, now + timedelta(days=1))
        dispatch.finish(schema=business.schema, kind=OUTBOX, claimed=claim[3], next_at=None)
    assert row(business).due_at == now + timedelta(seconds=600)  # kept: visited again, nothing lost

    (claim,) = [r for r in dispatch.due_claim(now=now + timedelta(hours=1)) if r[0] == business.schema]
    with schema_context(business.schema):
        dispatch.finish(
            schema=business.schema, kind=OUTBOX, claimed=claim[3], next_at=now + timedelta(days=1)
        )
    assert row(business).due_at == now + timedelta(days=1)  # no mark since the claim: advanced
    (claim,) = [r for r in dispatch.due_claim(now=now + timedelta(days=2)) if r[0] == business.schema]
    with schema_context(business.schema):
        dispatch.finish(schema=business.schema, kind=OUTBOX, claimed=claim[3], next_at=None)
    assert row(business) is None  # nothing pending: the business drops out of the index


@pytest.mark.clock
def test_writes_mark_their_work_and_a_run_sends_it_and_moves_on_to_the_reminder(committed_db, sent):
    business = committed_db("t-due-book")
    with schema_context(business.schema):
        service, (staff, *_), _room = salon()
        customer = scheduling_customer()
        appointment = lifecycle.appointment_book(
            actor=Actor(source="backoffice"),
            booking=scheduling.Booking(service=service, start=next_monday(), staff=staff),
            customer=customer,
        )
        reminder = OutboxMessage.objects.filter(appointment=appointment, kind="reminder").order_by("due_at")
        first_reminder = reminder.first().due_at
    now = timezone.now()
    assert row(business).due_at <= now  # the confirmation, due now
    # The commit asked a worker to send it at once, once; beat's dispatcher would find it too.
    asked = [name for name, k in sent if k["schema_name"] == business.schema]
    assert asked == ["notifications.send_due"]
    assert [v for v in dispatch.due_dispatch() if v[0] == business.schema] == [(business.schema, OUTBOX)]
    kwargs = next(k for name, k in sent if name == "duework.run" and k["schema_name"] == business.schema)
    with schema_context(business.schema):
        dispatch.due_run(kind=kwargs["kind"], claimed=kwargs["claimed"])
        assert set(OutboxMessage.objects.filter(kind="confirmation").values_list("status", flat=True)) == {
            "sent"
        }
    assert row(business).due_at == first_reminder  # the next visit is the reminder's time


def scheduling_customer():
    from termino.tenants.crm.models import Consent, Customer

    customer = Customer.objects.create(first_name="Lena", last_name="Fischer", email="lena@example.com")
    Consent.objects.create(customer=customer, kind="privacy", granted=True, source="test")
    return customer


@pytest.mark.clock
def test_the_sweep_finds_work_whose_mark_was_lost_in_a_crash(committed_db, sent):
    business = committed_db("t-due-lost")
    with schema_context(business.schema):
        service, (staff, *_), _room = salon()
        lifecycle.appointment_book(
            actor=Actor(source="backoffice"),
            booking=scheduling.Booking(service=service, start=next_monday(), staff=staff),
            customer=scheduling_customer(),
        )
        later_slot = next_monday() + timedelta(hours=2)
        hold = lifecycle.appointment_hold(
            booking=scheduling.Booking(service=service, start=later_slot, staff=staff),
            expires_at=timezone.now() + timedelta(minutes=10),
        )
    # The crash: the rows are committed, their marks never reached the index.
    DueWork.objects.filter(tenant=business.tenant).delete()
    assert [v for v in dispatch.due_dispatch() if v[0] == business.schema] == []

    found = repair.apply(kwargs={"schema_name": business.schema}).get()

    assert found[HOLDS] == hold.hold_expires_at.isoformat()
    assert row(business, HOLDS).due_at == hold.hold_expires_at
    assert row(business).due_at <= timezone.now()
    assert [v for v in dispatch.due_dispatch() if v[0] == business.schema] == [(business.schema, OUTBOX)]
    kwargs = next(k for name, k in sent if name == "duework.run" and k["schema_name"] == business.schema)
    with schema_context(business.schema):
        dispatch.due_run(kind=OUTBOX, claimed=kwargs["claimed"])
        assert not OutboxMessage.objects.filter(kind="confirmation").exclude(status="sent").exists()
    later = timezone.now() + timedelta(minutes=11)
    assert [v for v in dispatch.due_dispatch(now=later) if v[0] == business.schema] == [
        (business.schema, HOLDS)
    ]
