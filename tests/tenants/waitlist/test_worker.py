"""End to end with a real Celery worker on Redis: a staff cancellation reaches the first waitlisted customer
by e-mail (matched in the worker, not in the request), who books it from the link; an offer nobody answers
expires through the due index and goes to the next customer."""

import re
import time

from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection
from django_tenants.utils import schema_context

from termino import celery_app
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling.models import Appointment, AppointmentStatus
from termino.tenants.waitlist.models import Offer, OfferStatus
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.booking.public_helpers import aged_form_token, public_post

from .helpers import offers_per_time, tight_day


def _wait(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _join(business, service, day, n: int) -> None:
    body = {
        "service": service.pk,
        "first_name": f"Kunde{n}",
        "last_name": "Warteliste",
        "email": f"warte{n}@example.com",
        "privacy_consent": True,
        "date_from": str(day),
        "date_to": str(day),
        "form_token": aged_form_token(),
    }
    assert public_post(business.host, "waitlist/", body, REMOTE_ADDR=f"10.9.0.{n}").status_code == 201


def _offer_mails(to: str) -> list:
    return [m for m in mail.outbox if to in m.to and "/book/waitlist/offer/" in m.body]


def test_a_cancellation_reaches_the_first_waitlisted_customer_who_books_it(committed_db):
    business = committed_db("t-waitlist-worker")
    with schema_context(business.schema):
        service, _staff, start, booked = tight_day()
        offers_per_time(1)
    connection.set_schema_to_public()
    for n in range(2):
        _join(business, service, start.date(), n)
    owner = log_in_as(business)
    mail.outbox.clear()
    with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
        cancelled = owner.post(
            f"/api/v1/appointments/{booked.pk}/cancel/", {"reason": "krank"}, content_type="application/json"
        )
        assert cancelled.status_code == 200, cancelled.content
        assert _wait(lambda: _offer_mails("warte0@example.com")), "no offer reached the first customer"
        (offer_mail,) = _offer_mails("warte0@example.com")
        assert not _offer_mails("warte1@example.com")  # one customer per time (the business's setting)
        token = re.search(r"/book/waitlist/offer/([\w-]+)/", offer_mail.body)[1]
        booked_now = public_post(business.host, f"waitlist/offers/{token}/accept/")
        assert booked_now.status_code == 201, booked_now.content
        assert _wait(lambda: any("warte0@example.com" in m.to and m is not offer_mail for m in mail.outbox))
    with schema_context(business.schema):
        appointment = Appointment.objects.get(pk=booked_now.json()["id"])
        assert appointment.start == start and appointment.status == AppointmentStatus.CONFIRMED
        assert appointment.customer.email == "warte0@example.com"
        kinds = set(OutboxMessage.objects.filter(customer=appointment.customer).values_list("kind", "status"))
        assert {("waitlist_offer", "sent"), ("confirmation", "sent")} <= kinds


def test_an_unanswered_offer_expires_through_the_due_index_and_moves_on(committed_db, settings):
    import time_machine

    from termino.shared import timeutils

    business = committed_db("t-waitlist-expiry")
    with schema_context(business.schema):
        service, _staff, start, booked = tight_day()
        offers_per_time(1, minutes=15)
    connection.set_schema_to_public()
    for n in range(2):
        _join(business, service, start.date(), n)
    owner = log_in_as(business)
    mail.outbox.clear()
    with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
        owner.post(f"/api/v1/appointments/{booked.pk}/cancel/", {}, content_type="application/json")
        assert _wait(lambda: _offer_mails("warte0@example.com"))
        with schema_context(business.schema):
            expires = Offer.objects.get().expires_at
        connection.set_schema_to_public()
        with time_machine.travel(timeutils.shift(expires, seconds=5), tick=True):
            celery_app.send_task("duework.dispatch")  # what beat does every 30 s
            assert _wait(lambda: _offer_mails("warte1@example.com")), "the time did not move on"
    with schema_context(business.schema):
        assert dict(Offer.objects.values_list("entry__customer__email", "status")) == {
            "warte0@example.com": OfferStatus.EXPIRED,
            "warte1@example.com": OfferStatus.OPEN,
        }
