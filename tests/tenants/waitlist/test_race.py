"""Confirming one freed time at once, over real concurrent connections (committed, no per-test transaction):
N customers offered the same time → exactly one booking; the same customer twice at once → one booking,
the same answer; confirmations racing the expiry run → never a booking of an expired offer."""

import time_machine
from django.db import connection
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling.models import Appointment, AppointmentStatus
from termino.tenants.waitlist import services as waitlist
from termino.tenants.waitlist.models import Offer, OfferStatus
from tests.tenants.booking.public_helpers import public_post, race

from .helpers import STAFF, link_token, offers_per_time, tight_day, waiting

CONTENDERS = 6


def _offered(business, count: int):
    with schema_context(business.schema):
        service, _staff, start, booked = tight_day()
        offers_per_time(count)
        waiting(service, count, day=start.date())
        lifecycle.appointment_cancel(actor=STAFF, appointment=booked)
        offers = waitlist.offers_match()
        tokens = [link_token(o) for o in offers]
    connection.set_schema_to_public()
    return start, tokens


def test_customers_confirming_the_same_time_at_once_get_exactly_one_booking(committed_db):
    business = committed_db("t-waitlist-race")
    start, tokens = _offered(business, CONTENDERS)
    assert len(tokens) == CONTENDERS
    codes = race(
        CONTENDERS,
        lambda n: tokens[n],
        lambda token: (
            public_post(
                business.host, f"waitlist/offers/{token}/accept/", REMOTE_ADDR=f"10.1.0.{tokens.index(token)}"
            ).status_code
        ),
    )
    assert sorted(codes) == [201] + [409] * (CONTENDERS - 1)
    with schema_context(business.schema):
        booked = Appointment.objects.filter(start=start, status=AppointmentStatus.CONFIRMED)
        assert booked.count() == 1
        assert not Appointment.objects.filter(status=AppointmentStatus.HELD).exists()
        statuses = sorted(Offer.objects.values_list("status", flat=True))
        assert statuses == ["accepted"] + ["taken"] * (CONTENDERS - 1)
        winner = Offer.objects.get(status=OfferStatus.ACCEPTED)
        assert booked.get().customer_id == winner.entry.customer_id


def test_one_customer_confirming_twice_at_once_books_once(committed_db):
    business = committed_db("t-waitlist-double")
    _start, (token,) = _offered(business, 1)
    answers = race(
        4,
        lambda n: n,
        lambda n: public_post(business.host, f"waitlist/offers/{token}/accept/", REMOTE_ADDR=f"10.2.0.{n}"),
    )
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["id"] for a in answers}) == 1
    with schema_context(business.schema):
        assert Appointment.objects.filter(status=AppointmentStatus.CONFIRMED).count() == 1


def test_confirmations_racing_the_expiry_never_book_an_expired_offer(committed_db):
    business = committed_db("t-waitlist-expiry-race")
    _start, tokens = _offered(business, 3)
    with schema_context(business.schema):
        expires = Offer.objects.order_by("expires_at").first().expires_at
    connection.set_schema_to_public()
    with time_machine.travel(timeutils.shift(expires, seconds=1), tick=True):

        def attempt(n):
            if n == 3:
                with schema_context(business.schema):
                    return len(waitlist.offers_match())
            return public_post(
                business.host, f"waitlist/offers/{tokens[n]}/accept/", REMOTE_ADDR=f"10.3.0.{n}"
            ).status_code

        results = race(4, lambda n: n, attempt)
    assert results[:3] == [409, 409, 409]
    with schema_context(business.schema):
        assert not Appointment.objects.filter(status=AppointmentStatus.CONFIRMED).exists()
        assert set(Offer.objects.values_list("status", flat=True)) == {OfferStatus.EXPIRED}
