"""The waitlist's rules: a freed time goes to the first N waiting customers it suits, held for them; the first
to confirm books it, the others read "already taken" and stay on the list; offers expire and the time goes
on; nobody is offered a time twice; every step may run twice without doing anything twice."""

from datetime import time, timedelta

import pytest
import time_machine
from django.db import connection
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.shared.errors import ConflictError, InvalidRequest
from termino.tenants.notifications.models import MessageKind, OutboxMessage
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling.models import Appointment, AppointmentStatus
from termino.tenants.waitlist import services as waitlist
from termino.tenants.waitlist.models import EntryStatus, Offer, OfferStatus
from tests.tenants.scheduling.factories import BERLIN, next_monday

from .helpers import STAFF, customer, link_token, offers_per_time, tight_day, waiting

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(business_a):
    with schema_context(business_a.schema):
        yield tight_day()


def test_nothing_is_offered_while_no_time_is_free(shop):
    service, _staff, start, _booked = shop
    waiting(service, 2, day=start.date())
    assert waitlist.offers_match() == []


def test_a_cancellation_is_offered_to_the_first_three_and_held_for_them(shop):
    service, staff, start, booked = shop
    joined = waiting(service, 4, day=start.date())
    lifecycle.appointment_cancel(actor=STAFF, appointment=booked)
    offers = waitlist.offers_match()
    assert [o.entry_id for o in offers] == [entry.pk for entry, _token in joined[:3]]
    assert {o.start for o in offers} == {start}
    hold = Appointment.objects.get(pk=offers[0].appointment_id)
    assert hold.status == AppointmentStatus.HELD and {o.appointment_id for o in offers} == {hold.pk}
    assert hold.allocations.get().resource_id == staff.pk
    messages = OutboxMessage.objects.filter(kind=MessageKind.WAITLIST_OFFER)
    assert sorted(m.recipient for m in messages) == [
        "kunde0@example.com",
        "kunde1@example.com",
        "kunde2@example.com",
    ]
    assert all("/book/waitlist/" in m.text and m.subject for m in messages)
    # A second run finds nothing new: the time is held, the fourth customer waits for the next one.
    assert waitlist.offers_match() == []


def test_the_first_to_confirm_books_the_others_read_taken_and_stay(shop):
    service, _staff, start, booked = shop
    waiting(service, 3, day=start.date())
    lifecycle.appointment_cancel(actor=STAFF, appointment=booked)
    first, second, third = waitlist.offers_match()
    booking = waitlist.offer_accept(token=link_token(second))
    assert booking.status == AppointmentStatus.CONFIRMED and booking.start == start
    assert booking.customer_id == second.entry.customer_id and booking.manage_token
    assert waitlist.offer_accept(token=link_token(second)).pk == booking.pk  # a second click: same booking
    with pytest.raises(ConflictError) as taken:
        waitlist.offer_accept(token=link_token(first))
    assert taken.value.details["code"] == OfferStatus.TAKEN
    statuses = dict(Offer.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "taken", second.pk: "accepted", third.pk: "taken"}
    first.entry.refresh_from_db(), second.entry.refresh_from_db()
    assert first.entry.status == EntryStatus.WAITING and second.entry.status == EntryStatus.BOOKED
    # The booking confirms like any other (the lifecycle's event).
    assert OutboxMessage.objects.filter(appointment=booking, kind="confirmation").exists()


def _offered_to_the_first_of_two(shop):
    """Two customers wait, one is asked at a time (30 minutes to answer); the booking is cancelled and the
    first run offers the time to the first of them. Returns (start, the waiting entries, that offer)."""
    service, _staff, start, booked = shop
    offers_per_time(1, minutes=30)
    joined = waiting(service, 2, day=start.date())
    lifecycle.appointment_cancel(actor=STAFF, appointment=booked)
    (offer,) = waitlist.offers_match()
    return start, joined, offer


@pytest.mark.clock
def test_an_unanswered_offer_expires_and_the_time_goes_to_the_next(shop):
    start, joined, offer = _offered_to_the_first_of_two(shop)
    assert offer.entry_id == joined[0][0].pk
    assert offer.expires_at <= timeutils.shift(timeutils.now(), minutes=30)
    with time_machine.travel(timeutils.shift(offer.expires_at, seconds=1), tick=False):
        (next_offer,) = waitlist.offers_match()
        offer.refresh_from_db()
        assert offer.status == OfferStatus.EXPIRED
        assert next_offer.entry_id == joined[1][0].pk and next_offer.start == start
        with pytest.raises(ConflictError):
            waitlist.offer_accept(token=link_token(offer))
        # The first customer stays on the list but is never offered this time again.
        assert Offer.objects.filter(entry=joined[0][0], start=start).count() == 1


def test_an_offer_lapsing_while_a_run_looks_for_times_is_expired_by_that_run(shop):
    # Found by test_worker: a run began just before the first offer's answer time; by the time it asked
    # for free times the hold had lapsed, so it offered the time to the next customer, and the first offer
    # stayed open without a hold.
    start, joined, offer = _offered_to_the_first_of_two(shop)
    lapse = timeutils.shift(offer.expires_at, seconds=1)
    travel = time_machine.travel(timeutils.shift(offer.expires_at, seconds=-1), tick=False)
    traveller = travel.start()

    def clock_moves_on(execute, sql, params, many, context):
        if '"scheduling_service"' in sql and timeutils.now() < lapse:
            traveller.move_to(lapse)  # the run has expired what had lapsed and turns to the free times
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(clock_moves_on):
            (next_offer,) = waitlist.offers_match()
    finally:
        travel.stop()
    offer.refresh_from_db()
    assert next_offer.entry_id == joined[1][0].pk and next_offer.start == start
    assert offer.status == OfferStatus.EXPIRED and offer.decided_at == lapse
    assert list(Offer.objects.filter(status=OfferStatus.OPEN)) == [next_offer]


def test_declining_passes_the_time_on_at_once(shop):
    service, _staff, start, booked = shop
    offers_per_time(1)
    joined = waiting(service, 2, day=start.date())
    lifecycle.appointment_cancel(actor=STAFF, appointment=booked)
    (offer,) = waitlist.offers_match()
    waitlist.offer_decline(token=link_token(offer))
    assert not Appointment.objects.filter(pk=offer.appointment_id).exists()  # the hold is released
    (next_offer,) = waitlist.offers_match()
    assert next_offer.entry_id == joined[1][0].pk
    assert Entry_status(joined[0][0]) == EntryStatus.WAITING


def Entry_status(entry) -> str:
    entry.refresh_from_db()
    return entry.status


def test_wishes_decide_who_is_asked(shop):
    service, staff, start, booked = shop
    offers_per_time(3)
    other_day = customer("A", "Anderer", "anders@example.com")
    waitlist.entry_join(
        customer=other_day,
        wish=waitlist.Wish(service_id=service.pk, date_from=start.date() + timedelta(days=1)),
    )
    afternoon = customer("N", "Nachmittag", "nachmittag@example.com")
    waitlist.entry_join(
        customer=afternoon, wish=waitlist.Wish(service_id=service.pk, day_parts=("afternoon",))
    )
    tuesdays = customer("D", "Dienstag", "dienstag@example.com")
    waitlist.entry_join(customer=tuesdays, wish=waitlist.Wish(service_id=service.pk, weekdays=(1,)))
    mondays = customer("M", "Montag", "montag@example.com")
    waitlist.entry_join(
        customer=mondays,
        wish=waitlist.Wish(
            service_id=service.pk, weekdays=(0,), day_parts=("morning",), resource_id=staff.pk
        ),
    )
    lifecycle.appointment_cancel(actor=STAFF, appointment=booked)
    offers = [o for o in waitlist.offers_match() if o.start == start]
    assert [o.entry.customer_id for o in offers] == [mondays.pk]


def test_customers_without_a_channel_are_not_offered_anything(shop):
    service, _staff, start, booked = shop
    silent = customer("S", "Still", phone="+4917012345678", sms=False)  # a phone without SMS consent
    silent.email = ""
    silent.save()
    waitlist.entry_join(customer=silent, wish=waitlist.Wish(service_id=service.pk, date_from=start.date()))
    lifecycle.appointment_cancel(actor=STAFF, appointment=booked)
    assert waitlist.offers_match() == []


@pytest.mark.clock
def test_an_sms_offer_waits_for_the_quiet_hours_and_so_does_its_deadline(shop):
    service, _staff, start, booked = shop
    texter = customer("T", "Text", phone="+4917012345678", sms=True)
    waitlist.entry_join(customer=texter, wish=waitlist.Wish(service_id=service.pk, date_from=start.date()))
    lifecycle.appointment_cancel(actor=STAFF, appointment=booked)
    (offer,) = waitlist.offers_match()
    sms = OutboxMessage.objects.get(kind=MessageKind.WAITLIST_OFFER, channel="sms")
    local = timeutils.localtime(sms.due_at, BERLIN)
    assert not (local.hour >= 21 or local.hour < 8)  # never in the quiet hours
    # Two hours from when the SMS goes out (the clock ticks between the two reads), at the latest the start.
    deadline = min(timeutils.shift(sms.due_at, minutes=120), start)
    assert abs(offer.expires_at - deadline) < timedelta(seconds=5)


def test_joining_again_changes_the_wish_and_keeps_the_place(shop):
    service, _staff, _start, _booked = shop
    person = customer("W", "Wieder", "wieder@example.com")
    first, _ = waitlist.entry_join(customer=person, wish=waitlist.Wish(service_id=service.pk))
    again, _ = waitlist.entry_join(customer=person, wish=waitlist.Wish(service_id=service.pk, weekdays=(0,)))
    assert again.pk == first.pk and again.weekdays == [0] and again.created_at == first.created_at


def test_bad_wishes_are_refused(shop):
    service, _staff, start, _booked = shop
    person = customer("B", "Böse", "boese@example.com")
    yesterday = timeutils.today(BERLIN) - timedelta(days=1)
    for wish in (
        waitlist.Wish(service_id=999999),
        waitlist.Wish(service_id=service.pk, date_to=yesterday),
        waitlist.Wish(
            service_id=service.pk, date_from=start.date(), date_to=start.date() - timedelta(days=1)
        ),
        waitlist.Wish(service_id=service.pk, weekdays=(7,)),
        waitlist.Wish(service_id=service.pk, day_parts=("night",)),
    ):
        with pytest.raises(InvalidRequest):
            waitlist.entry_join(customer=person, wish=wish)


def test_staff_offer_a_free_time_by_hand(shop, business_a):
    from tests.tenants.backoffice.helpers import make_user

    service, _staff, start, booked = shop
    ((entry, _token),) = waiting(service, 1)
    lifecycle.appointment_cancel(actor=STAFF, appointment=booked, notify=False)
    manager = make_user(business_a, "manager")
    offer = waitlist.offer_by_hand(entry=entry, start=start, resource_id=None, user=manager)
    assert offer.offered_by == manager and offer.status == OfferStatus.OPEN
    with pytest.raises(InvalidRequest):  # one open offer at a time
        waitlist.offer_by_hand(entry=entry, start=start, resource_id=None, user=manager)
    waitlist.offer_decline(token=link_token(offer))
    with pytest.raises(InvalidRequest):  # never the same time twice
        waitlist.offer_by_hand(entry=entry, start=start, resource_id=None, user=manager)
    later = next_monday(time(15))
    with pytest.raises(ConflictError):  # closed then: not free
        waitlist.offer_by_hand(entry=entry, start=later, resource_id=None, user=manager)


def test_leaving_declines_the_open_offer(shop):
    service, _staff, start, booked = shop
    offers_per_time(1)
    ((entry, token), (second, _)) = waiting(service, 2, day=start.date())
    lifecycle.appointment_cancel(actor=STAFF, appointment=booked)
    (offer,) = waitlist.offers_match()
    waitlist.entry_leave(token=token)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED and Entry_status(entry) == EntryStatus.LEFT
    (next_offer,) = waitlist.offers_match()
    assert next_offer.entry_id == second.pk


def test_merging_two_waiting_customers_keeps_both_places_and_asks_once(shop):
    from termino.tenants.crm.services import customer_merge

    service, _staff, start, booked = shop
    ((first, _), (second, _)) = waiting(service, 2, day=start.date())
    kept = customer_merge(keep_id=second.customer_id, duplicate_id=first.customer_id)
    assert Entry_count(kept) == 2
    lifecycle.appointment_cancel(actor=STAFF, appointment=booked)
    (offer,) = waitlist.offers_match()
    assert offer.entry_id == first.pk  # the earlier place


def Entry_count(customer) -> int:
    return customer.waitlist_entries.filter(status=EntryStatus.WAITING).count()
