"""scheduling.lifecycle, the one door of an appointment's changes: who may, what is written and published."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django_tenants.utils import schema_context

from termino.shared.errors import NotPermitted
from termino.tenants.crm.models import Consent, Customer
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling import events, lifecycle, services
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import Appointment, Resource
from tests.tenants.backoffice.helpers import make_user

from .factories import next_monday, salon

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen():
    """Every event published while the test runs: (kind, before status, after status) in order."""
    kinds = []

    def record(event):
        kinds.append((event.kind, event.before.status if event.before else None, event.after.status))

    events.subscribe(record)
    yield kinds
    events._in_transaction.remove(record)


@pytest.fixture
def shop(business_a):
    with schema_context(business_a.schema):
        service, staff, _room = salon()
        customer = Customer.objects.create(first_name="Lena", last_name="Vogel", email="lena@example.com")
        Consent.objects.create(customer=customer, kind="privacy", granted=True, source="test")
        yield service, staff, customer


def book(service, staff, customer, **kwargs):
    return lifecycle.appointment_book(
        actor=kwargs.pop("actor", Actor(source="backoffice")),
        booking=services.Booking(service=service, start=kwargs.pop("start", next_monday()), staff=staff),
        customer=customer,
        **kwargs,
    )


def test_each_change_publishes_one_event_with_before_and_after(shop, seen):
    service, staff, customer = shop
    appointment = book(service, staff[0], customer, status="requested")
    lifecycle.appointment_confirm(actor=Actor(source="backoffice"), appointment=appointment)
    lifecycle.appointment_move(
        actor=Actor(source="backoffice"),
        appointment=appointment,
        start=appointment.start + timedelta(hours=1),
    )
    lifecycle.appointment_resize(actor=Actor(source="backoffice"), appointment=appointment, minutes=45)
    lifecycle.appointment_cancel(actor=Actor(source="backoffice"), appointment=appointment, reason="krank")
    assert seen == [
        ("requested", None, "requested"),
        ("confirmed", "requested", "confirmed"),
        ("moved", "confirmed", "confirmed"),
        ("resized", "confirmed", "confirmed"),
        ("cancelled", "confirmed", "cancelled"),
    ]


def test_nothing_changed_means_nothing_published(shop, seen):
    service, staff, customer = shop
    appointment = book(service, staff[0], customer)
    lifecycle.appointment_move(
        actor=Actor(source="backoffice"), appointment=appointment, start=appointment.start
    )
    lifecycle.appointment_confirm(actor=Actor(source="backoffice"), appointment=appointment)
    assert [kind for kind, *_ in seen] == ["created"]


def test_outbox_rows_commit_with_the_change_or_not_at_all(shop):
    service, staff, customer = shop
    with pytest.raises(RuntimeError), transaction.atomic():
        book(service, staff[0], customer)
        assert OutboxMessage.objects.filter(kind="confirmation").exists()  # written in the transaction
        raise RuntimeError("the request fails after the booking")
    assert not Appointment.objects.exists() and not OutboxMessage.objects.exists()


def test_after_commit_subscribers_see_only_committed_changes(shop, django_capture_on_commit_callbacks):
    service, staff, customer = shop
    after = []
    events.subscribe(after.append, on_commit=True)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            book(service, staff[0], customer)
        assert [event.kind for event in after] == ["created"] and callbacks
        with (
            django_capture_on_commit_callbacks(execute=False) as dropped,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            book(service, staff[1], customer, start=next_monday() + timedelta(hours=2))
            raise RuntimeError
        assert dropped == [] and len(after) == 1
    finally:
        events._after_commit.remove(after.append)


def test_a_staff_member_changes_only_their_own_column(business_a, shop):
    service, staff, customer = shop
    user = make_user(business_a, "staff")
    with schema_context(business_a.schema):
        Resource.objects.filter(pk=staff[0].pk).update(user=user)
        mine = Actor(source="backoffice", user=user)
        theirs = book(service, staff[1], customer)
        with pytest.raises(NotPermitted):
            lifecycle.appointment_cancel(actor=mine, appointment=theirs)
        with pytest.raises(NotPermitted):
            book(service, staff[1], customer, actor=mine, start=next_monday() + timedelta(hours=3))
        own = book(service, None, customer, actor=mine, start=next_monday() + timedelta(hours=4))
        assert list(own.allocations.values_list("resource_id", flat=True)) == [staff[0].pk]
        with pytest.raises(NotPermitted):
            lifecycle.appointment_move(actor=mine, appointment=own, start=own.start, staff=staff[1])
        assert Appointment.objects.get(pk=theirs.pk).status == "confirmed"


def test_a_move_leaves_one_message_and_no_skipped_rows(shop):
    service, staff, customer = shop
    appointment = book(service, staff[0], customer)
    assert set(OutboxMessage.objects.values_list("kind", flat=True)) == {"confirmation", "reminder"}
    lifecycle.appointment_move(
        actor=Actor(source="backoffice"), appointment=appointment, start=appointment.start + timedelta(days=1)
    )
    rows = list(OutboxMessage.objects.values_list("kind", "status", "due_at"))
    assert [kind for kind, *_ in rows].count("change") == 1
    assert "skipped" not in {status for _kind, status, _due in rows}
    moved = Appointment.objects.get(pk=appointment.pk)
    assert all(due < moved.start for kind, _status, due in rows if kind == "reminder")
    assert {due for kind, _s, due in rows if kind == "reminder"} == {
        moved.start - timedelta(hours=24),
        moved.start - timedelta(hours=2),
    }


def test_a_quiet_cancellation_tells_the_customer_nothing(shop):
    service, staff, customer = shop
    appointment = book(service, staff[0], customer)
    lifecycle.appointment_cancel(actor=Actor(source="backoffice"), appointment=appointment, notify=False)
    assert not OutboxMessage.objects.filter(kind__in=["cancellation", "reminder"]).exists()


def test_resize_checks_the_time_it_grows_into(shop):
    service, staff, customer = shop
    first = book(service, staff[0], customer)
    book(service, staff[0], customer, start=first.end + timedelta(minutes=15))
    grown = lifecycle.appointment_resize(actor=Actor(source="backoffice"), appointment=first, minutes=45)
    assert grown.end - grown.start == timedelta(minutes=45)
    with pytest.raises(services.Conflict):
        lifecycle.appointment_resize(actor=Actor(source="backoffice"), appointment=first, minutes=60)
    # A move keeps the appointment's own length.
    moved = lifecycle.appointment_move(
        actor=Actor(source="backoffice"), appointment=first, start=first.start + timedelta(days=1)
    )
    assert moved.end - moved.start == timedelta(minutes=45)


def test_no_show_and_completed_only_once_begun(shop):
    service, staff, customer = shop
    appointment = book(service, staff[0], customer)
    with pytest.raises(services.SchedulingError):
        lifecycle.appointment_no_show(actor=Actor(source="backoffice"), appointment=appointment)
    with time_machine.travel(appointment.start + timedelta(minutes=1), tick=True):
        done = lifecycle.appointment_complete(actor=Actor(source="backoffice"), appointment=appointment)
    assert done.status == "completed"
