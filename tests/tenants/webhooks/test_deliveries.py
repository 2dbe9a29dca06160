"""Deliveries: written with the change (or not at all), sent in order per appointment, retried with
back-off after a 500 until they give up, endpoints disabled after failing for days (the owner told), and
an erasure leaving only the customer's id behind."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.crm.services import customer_create
from termino.tenants.privacy.services import customer_erase
from termino.tenants.scheduling import lifecycle, services
from termino.tenants.scheduling.models import AppointmentStatus
from termino.tenants.webhooks import services as webhooks
from termino.tenants.webhooks.delivery import BACKOFF, deliveries_send_due
from termino.tenants.webhooks.due import deliveries_next_due, log_next_due, log_purge
from termino.tenants.webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint, EventType
from termino.tenants.webhooks.selectors import sendable
from tests.fakes.webhook_receiver import Receiver
from tests.tenants.scheduling.factories import next_monday, salon

from .helpers import DESK, booking, endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    with Receiver() as receiver:
        yield receiver


def bodies(receiver) -> list[dict]:
    return [json.loads(r.body) for r in receiver.requests]


def test_a_change_writes_one_delivery_per_subscribed_endpoint_in_its_transaction(business_a, receiver):
    with schema_context(business_a.schema):
        everything = endpoint(receiver.url)
        only_customers = endpoint(receiver.url + "/customers", [EventType.CUSTOMER_CREATED])
        endpoint(receiver.url + "/off", [EventType.APPOINTMENT_CREATED])
        Endpoint.objects.filter(url=receiver.url + "/off").update(active=False)
        appointment, customer = booking()
        rows = Delivery.objects.order_by("id")
        assert [(d.endpoint_id, d.event, d.subject) for d in rows] == [
            (everything.pk, "customer.created", f"customer:{customer.pk}"),
            (only_customers.pk, "customer.created", f"customer:{customer.pk}"),
            (everything.pk, "appointment.created", f"appointment:{appointment.pk}"),
        ]
        # The appointment names its customer by id only.
        data = rows[2].payload["appointment"]
        assert data["customer_id"] == customer.pk and "email" not in json.dumps(rows[2].payload)

        # A change that rolls back leaves no delivery.
        count = Delivery.objects.count()
        with pytest.raises(RuntimeError), transaction.atomic():
            lifecycle.appointment_cancel(actor=DESK, appointment=appointment)
            raise RuntimeError
        assert Delivery.objects.count() == count


def test_deliveries_of_one_appointment_go_out_in_order_and_wait_behind_a_failing_one(business_a, receiver):
    """The order rule: a delivery is not sent while an earlier one of the same appointment and endpoint is
    pending. Another appointment's deliveries are not held back."""
    with schema_context(business_a.schema):
        hook = endpoint(receiver.url, [EventType.APPOINTMENT_CREATED, EventType.APPOINTMENT_CANCELLED])
        first, _customer = booking()
        lifecycle.appointment_cancel(actor=DESK, appointment=first)
        receiver.answer(500)  # the "created" of the first appointment fails
        deliveries_send_due()
        assert [(b["type"], b["data"]["appointment"]["id"]) for b in bodies(receiver)] == [
            ("appointment.created", first.pk)
        ]
        held = Delivery.objects.get(event="appointment.cancelled")
        assert held.status == DeliveryStatus.PENDING and held.attempts == 0
        assert not sendable().filter(pk=held.pk).exists()

        # Another appointment is not held back by the first one's failure.
        second, _ = booking(start=timeutils.shift(first.start, hours=2))
        deliveries_send_due()
        assert bodies(receiver)[-1]["data"]["appointment"]["id"] == second.pk

        # After the back-off the first one goes, then at once the one that waited behind it.
        with time_machine.travel(timeutils.shift(timeutils.now(), BACKOFF[0], seconds=1), tick=True):
            deliveries_send_due()
        sent = [(b["type"], b["data"]["appointment"]["id"]) for b in bodies(receiver)]
        assert sent[-2:] == [("appointment.created", first.pk), ("appointment.cancelled", first.pk)]
        assert set(Delivery.objects.filter(endpoint=hook).values_list("status", flat=True)) == {"delivered"}


@pytest.mark.clock
def test_a_500_is_retried_with_growing_back_off_until_three_days_then_the_endpoint_is_disabled(
    business_a, receiver, mailoutbox, django_capture_on_commit_callbacks
):
    with schema_context(business_a.schema):
        hook = endpoint(receiver.url, [EventType.CUSTOMER_CREATED])
        booking()
        delivery = Delivery.objects.get()
        start = timeutils.now()
        receiver.answer(*[500] * 20)
        # A frozen clock, as for every later attempt: a retry is timed from the end of the attempt, so a
        # slow first answer on a busy machine would otherwise show in the first wait (61 s, not 60).
        with time_machine.travel(start, tick=False):
            deliveries_send_due()
        waits = []
        moment = start
        while True:
            delivery.refresh_from_db()
            if delivery.status != DeliveryStatus.PENDING:
                break
            waits.append(timeutils.elapsed(delivery.last_attempt_at, delivery.next_attempt_at))
            # Not a moment before its time...
            with time_machine.travel(timeutils.shift(delivery.next_attempt_at, seconds=-5), tick=False):
                assert deliveries_send_due()["retry"] == 0
            moment = delivery.next_attempt_at
            with (
                time_machine.travel(timeutils.shift(moment, seconds=1), tick=False),
                django_capture_on_commit_callbacks(execute=True),  # the owner's notice is sent on commit
            ):
                assert deliveries_next_due() == moment
                deliveries_send_due()
        assert [round(w.total_seconds()) for w in waits[:4]] == [60, 300, 1800, 7200]
        assert waits[:-1] == sorted(waits[:-1])  # growing; the last one lands on the end of the three days
        assert delivery.status == DeliveryStatus.FAILED
        assert moment == delivery.give_up_at
        assert (
            timedelta(days=3) - timedelta(seconds=5) < timeutils.elapsed(start, moment) <= timedelta(days=3)
        )
        attempts = list(Attempt.objects.filter(delivery=delivery).order_by("at"))
        assert len(attempts) == len(waits) + 1 == len(receiver.requests)
        assert {a.status_code for a in attempts} == {500}
        assert all(len(a.response_excerpt) <= 500 for a in attempts)
        # Every attempt carries the same id, so the receiver can dedupe.
        assert len({r.headers["Termino-Delivery"] for r in receiver.requests}) == 1

        hook.refresh_from_db()
        assert not hook.active and hook.disabled_at is not None
        assert deliveries_next_due() is None
        notice = [m for m in mailoutbox if m.to == [business_a.owner_username]]
        assert len(notice) == 1 and hook.url in notice[0].body and business_a.tenant.name in notice[0].subject

        # Resend after enabling it again: the same id, sent now.
        with pytest.raises(Exception, match="disabled"):
            webhooks.delivery_resend(delivery=delivery)
        webhooks.endpoint_update(endpoint=hook, active=True)
        receiver.answer_ok()
        webhooks.delivery_resend(delivery=delivery)
        deliveries_send_due()
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.DELIVERED
        assert receiver.requests[-1].headers["Termino-Delivery"] == str(delivery.uid)


def test_a_success_in_between_keeps_the_endpoint_enabled(business_a, receiver):
    with schema_context(business_a.schema):
        hook = endpoint(receiver.url, [EventType.CUSTOMER_CREATED])
        booking()
        receiver.answer(500)
        deliveries_send_due()
        hook.refresh_from_db()
        assert hook.failing_since is not None
        with time_machine.travel(timeutils.shift(timeutils.now(), minutes=2), tick=True):
            deliveries_send_due()
        hook.refresh_from_db()
        assert hook.active and hook.failing_since is None


def test_an_erasure_leaves_only_the_customers_id_in_every_delivery(business_a, receiver):
    with schema_context(business_a.schema):
        endpoint(
            receiver.url, [EventType.CUSTOMER_CREATED, EventType.CUSTOMER_UPDATED, EventType.CUSTOMER_ERASED]
        )
        _appointment, customer = booking()
        deliveries_send_due()
        assert bodies(receiver)[0]["data"]["customer"]["email"] == "erika@example.org"
        lifecycle.appointment_cancel(actor=DESK, appointment=_appointment)
        customer_erase(customer=customer)
        payloads = {d.event: d.payload for d in Delivery.objects.all()}
        assert payloads == {
            "customer.created": {"customer": {"id": customer.pk}},
            "customer.erased": {"customer": {"id": customer.pk}},
        }
        deliveries_send_due()
        assert bodies(receiver)[-1]["type"] == "customer.erased"
        assert bodies(receiver)[-1]["data"] == {"customer": {"id": customer.pk}}


def test_an_erasure_removes_the_customer_id_from_the_appointments_deliveries(business_a):
    with schema_context(business_a.schema):
        endpoint("http://127.0.0.1:9/hooks", [EventType.APPOINTMENT_CREATED])
        _appointment, customer = booking()
        assert Delivery.objects.get().payload["appointment"]["customer_id"] == customer.pk
        customer_erase(customer=customer)
        assert Delivery.objects.get().payload["appointment"]["customer_id"] is None


@pytest.mark.clock
def test_the_delivery_log_is_deleted_thirty_days_after_the_last_attempt(business_a, receiver):
    with schema_context(business_a.schema):
        endpoint(receiver.url, [EventType.CUSTOMER_CREATED, EventType.APPOINTMENT_CREATED])
        booking()
        receiver.answer(200, 500)
        deliveries_send_due()
        sent = Delivery.objects.get(status="delivered")
        open_one = Delivery.objects.get(status="pending")
        assert log_next_due() == timeutils.shift(sent.last_attempt_at, days=30)
        with time_machine.travel(timeutils.shift(sent.last_attempt_at, days=30, seconds=-1), tick=False):
            assert log_purge() == 0
        with time_machine.travel(timeutils.shift(sent.last_attempt_at, days=30, seconds=1), tick=False):
            assert log_purge() >= 1
        assert not Delivery.objects.filter(pk=sent.pk).exists()
        assert not Attempt.objects.filter(delivery_id=sent.pk).exists()
        assert Delivery.objects.filter(pk=open_one.pk).exists()  # still being retried: kept
        assert log_next_due() is None


def test_every_status_change_of_an_appointment_is_its_own_event(business_a, receiver):
    """Requested, confirmed, declined, no-show and completed each reach a subscribed endpoint as their own
    event, with the appointment's new status in the payload; an endpoint not subscribed to one gets none."""
    with schema_context(business_a.schema):
        hook = endpoint(receiver.url)
        created_only = endpoint(receiver.url + "/created", [EventType.APPOINTMENT_CREATED])
        service, (staff, *_), _room = salon()
        customer = customer_create(first_name="Erika", last_name="Muster", email="erika@example.org")

        def book(day: int, status=AppointmentStatus.REQUESTED):
            return lifecycle.appointment_book(
                actor=DESK,
                booking=services.Booking(
                    service=service, start=next_monday() + timedelta(days=day), staff=staff
                ),
                customer=customer,
                status=status,
            )

        confirmed, declined = book(0), book(1)
        lifecycle.appointment_confirm(actor=DESK, appointment=confirmed)
        lifecycle.appointment_decline(actor=DESK, appointment=declined, reason="Ausgebucht")
        missed, done = book(2, AppointmentStatus.CONFIRMED), book(3, AppointmentStatus.CONFIRMED)
        with time_machine.travel(next_monday() + timedelta(days=4), tick=False):
            lifecycle.appointment_no_show(actor=DESK, appointment=missed)
            lifecycle.appointment_complete(actor=DESK, appointment=done)

        def events(appointment):
            rows = Delivery.objects.filter(endpoint=hook, subject=f"appointment:{appointment.pk}").order_by(
                "id"
            )
            return [(d.event, d.payload["appointment"]["status"]) for d in rows]

        assert events(confirmed) == [
            ("appointment.requested", "requested"),
            ("appointment.confirmed", "confirmed"),
        ]
        assert events(declined) == [
            ("appointment.requested", "requested"),
            ("appointment.declined", "cancelled"),
        ]
        assert events(missed) == [("appointment.created", "confirmed"), ("appointment.no_show", "no_show")]
        assert events(done) == [("appointment.created", "confirmed"), ("appointment.completed", "completed")]
        assert set(Delivery.objects.filter(endpoint=created_only).values_list("event", flat=True)) == {
            "appointment.created"
        }
