"""End to end with a real Celery worker and a real local HTTP receiver: a booking's deliveries arrive
signed and in order, a 500 is retried after its back-off through beat's due-work dispatcher."""

import json
import time

import time_machine
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from django_tenants.utils import schema_context

from termino import celery_app
from termino.shared import timeutils
from termino.tenants.scheduling import lifecycle
from termino.tenants.webhooks.delivery import BACKOFF
from termino.tenants.webhooks.models import Delivery, EventType
from tests.fakes.webhook_receiver import Receiver

from .helpers import DESK, booking, endpoint
from .test_signing import snippet_verify


def test_signed_ordered_deliveries_and_a_retry_after_a_500_through_a_real_worker(committed_db):
    business = committed_db("t-webhooks-e2e")
    verify = snippet_verify()
    with Receiver() as receiver, start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
        with schema_context(business.schema):
            hook = endpoint(receiver.url, [EventType.APPOINTMENT_CREATED, EventType.APPOINTMENT_CANCELLED])
            receiver.answer(500)
            with transaction.atomic():
                appointment, _customer = booking()
            # The commit hands the delivery to the worker at once: it gets the 500. (Generous: the worker may
            # first refill the pool of spare schemas that making this business drew from.)
            receiver.wait_for(1, timeout=120)
            with transaction.atomic():
                lifecycle.appointment_cancel(actor=DESK, appointment=appointment)
        # The cancellation waits behind the failed "created" of the same appointment.
        time.sleep(1.5)
        assert len(receiver.requests) == 1

        # After the back-off, what beat does every 30 s: the dispatcher visits the business, the worker
        # retries the "created", then sends the "cancelled" that waited behind it.
        with time_machine.travel(timeutils.shift(timeutils.now(), BACKOFF[0], seconds=5), tick=True):
            celery_app.send_task("duework.dispatch")
            requests = receiver.wait_for(3, timeout=60)

    assert [r.status for r in requests] == [500, 200, 200]
    bodies = [json.loads(r.body) for r in requests]
    assert [b["type"] for b in bodies] == [
        "appointment.created",
        "appointment.created",
        "appointment.cancelled",
    ]
    assert {b["data"]["appointment"]["id"] for b in bodies} == {appointment.pk}
    # The retry is the same delivery (receivers dedupe by its id); each request is signed with the secret.
    assert (
        requests[0].headers["Termino-Delivery"] == requests[1].headers["Termino-Delivery"] == bodies[0]["id"]
    )
    assert requests[2].headers["Termino-Delivery"] != bodies[0]["id"]
    for request in requests:
        assert verify(hook.secret, request.body, request.headers["Termino-Signature"])
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["Termino-Event"] == json.loads(request.body)["type"]
    with schema_context(business.schema):
        assert list(Delivery.objects.order_by("id").values_list("status", "attempts")) == [
            ("delivered", 2),
            ("delivered", 1),
        ]
