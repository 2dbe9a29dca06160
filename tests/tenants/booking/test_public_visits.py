"""Visits through the public API: cut + colour booked online as one, the stylist's processing gap given to
another customer, one confirmation, one manage link that cancels all of it, and another business kept out."""

from datetime import timedelta

import pytest
from django_tenants.utils import schema_context

from termino.tenants.notifications import rendering
from termino.tenants.notifications.models import MessageKind, OutboxMessage
from termino.tenants.scheduling.models import Allocation, Appointment, AppointmentStatus, Service
from tests.conftest import client_for
from tests.tenants.scheduling.factories import next_monday, salon

from .public_helpers import booking_body, public_post

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def stylist(business_a):
    """Anna alone, offering a cut (30 min) and a colour (15 apply, 30 processing, 15 rinse)."""
    with schema_context(business_a.schema):
        cut, (anna,), _room = salon(staff_count=1)
        colour = Service.objects.create(
            name="Farbe",
            duration_minutes=60,
            processing_after_minutes=15,
            processing_minutes=30,
            min_notice_minutes=0,
        )
        colour.resources.set([anna])
    return business_a, cut, colour, anna


def visit_body(start, parts, **overrides) -> dict:
    body = booking_body(parts[0][0], start, **overrides)
    body.pop("service")
    body["services"] = [{"service": s.pk, "resource": r.pk if r else None} for s, r in parts]
    return body


def availability(business, services, day, staff=None):
    query = f"services={','.join(str(s.pk) for s in services)}&start={day}&end={day}"
    if staff:
        query += f"&staff={staff}"
    return client_for(business.host, "en").get(f"/api/public/v1/visits/availability/?{query}")


def test_cut_and_colour_booked_online_while_the_processing_gap_is_booked_by_another(stylist):
    business, cut, colour, anna = stylist
    start = next_monday()  # 10:00: cut 10:00-10:30, colour 10:30-11:30 (Anna free 10:45-11:15)
    gap = start + timedelta(minutes=45)
    other = public_post(
        business.host,
        "bookings/",
        booking_body(cut, gap, email="max@example.com", phone="0171 7654321", last_name="Maier"),
    )
    assert other.status_code == 201, other.json()

    offered = availability(business, [cut, colour], start.date().isoformat(), staff=f"{anna.pk},{anna.pk}")
    assert offered.status_code == 200
    slot = next(s for s in offered.json()["slots"] if s["start"] == start.isoformat())
    assert [p["resources"] for p in slot["parts"]] == [[anna.pk], [anna.pk]]
    # Ten o'clock is offered; a quarter past would put the cut into Max's time.
    assert (start + timedelta(minutes=15)).isoformat() not in [s["start"] for s in offered.json()["slots"]]

    booked = public_post(business.host, "visits/", visit_body(start, [(cut, anna), (colour, None)]))
    assert booked.status_code == 201, booked.json()
    data = booked.json()
    assert [p["service_id"] for p in data["parts"]] == [cut.pk, colour.pk]
    assert data["start"] == start.isoformat() and data["manage_token"]
    with schema_context(business.schema):
        lead, colouring = Appointment.objects.filter(customer__last_name="Fischer").order_by("start")
        assert lead.visit_id == colouring.visit_id is not None
        assert lead.manage_token == data["manage_token"] and colouring.manage_token is None
        phases = sorted(
            (a.phase, a.period.lower, a.period.upper)
            for a in Allocation.objects.filter(appointment=colouring)
        )
        assert phases == [
            (1, start + timedelta(minutes=30), start + timedelta(minutes=45)),
            (2, start + timedelta(minutes=75), start + timedelta(minutes=90)),
        ]
        # One booking, one confirmation (per channel the customer agreed to: e-mail and SMS).
        confirmations = OutboxMessage.objects.filter(
            kind=MessageKind.CONFIRMATION, customer=lead.customer
        ).values_list("appointment_id", flat=True)
        assert sorted(set(confirmations)) == [lead.pk] and len(confirmations) == 2
        # It names the whole visit, not only its first service.
        for message in OutboxMessage.objects.filter(kind=MessageKind.CONFIRMATION, customer=lead.customer):
            _subject, text = rendering.render(message, tenant=business.tenant)
            assert "Haarschnitt + Farbe" in text


def test_the_gap_of_a_booked_colour_is_offered_and_sold_to_another_customer(stylist):
    business, cut, colour, _anna = stylist
    start = next_monday()
    booked = public_post(business.host, "visits/", visit_body(start, [(cut, None), (colour, None)]))
    assert booked.status_code == 201, booked.json()
    day = start.date().isoformat()
    slots = client_for(business.host).get(
        f"/api/public/v1/availability/?service={cut.pk}&start={day}&end={day}"
    )
    starts = [s["start"] for s in slots.json()["slots"]]
    gap = start + timedelta(minutes=45)
    assert gap.isoformat() in starts
    assert (start + timedelta(minutes=30)).isoformat() not in starts  # Anna applies the colour then
    other = public_post(
        business.host,
        "bookings/",
        booking_body(cut, gap, email="max@example.com", phone="", sms_consent=False),
    )
    assert other.status_code == 201, other.json()
    # Neither a minute earlier nor later: the rinse follows.
    late = public_post(
        business.host,
        "bookings/",
        booking_body(
            cut,
            gap + timedelta(minutes=15),
            email="eva@example.com",
            phone="",
            sms_consent=False,
            last_name="Roth",
        ),
    )
    assert late.status_code == 409


def test_a_visit_whose_time_was_taken_gets_a_409_with_other_starts_and_nothing_stored(stylist):
    business, cut, colour, _anna = stylist
    start = next_monday()
    first = public_post(business.host, "bookings/", booking_body(cut, start + timedelta(minutes=30)))
    assert first.status_code == 201
    refused = public_post(
        business.host,
        "visits/",
        visit_body(
            start,
            [(cut, None), (colour, None)],
            email="max@example.com",
            phone="",
            sms_consent=False,
            last_name="Maier",
        ),
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] and refused.json()["nearest"]
    with schema_context(business.schema):
        assert not Appointment.objects.filter(customer__last_name="Maier").exists()
        assert not Appointment.objects.filter(visit__isnull=False).exists()


def test_the_manage_link_cancels_the_whole_visit_and_cannot_move_it(stylist):
    business, cut, colour, _anna = stylist
    start = next_monday()
    token = public_post(business.host, "visits/", visit_body(start, [(cut, None), (colour, None)])).json()[
        "manage_token"
    ]
    moved = public_post(business.host, f"bookings/{token}/reschedule/", {"start": start.isoformat()})
    assert moved.status_code == 400 and "visit" in moved.json()["detail"]
    cancelled = public_post(business.host, f"bookings/{token}/cancel/")
    assert cancelled.status_code == 200, cancelled.json()
    with schema_context(business.schema):
        assert set(Appointment.objects.values_list("status", flat=True)) == {AppointmentStatus.CANCELLED}
        assert not Allocation.objects.filter(active=True).exists()
        cancellations = OutboxMessage.objects.filter(kind=MessageKind.CANCELLATION)
        assert len({m.appointment_id for m in cancellations}) == 1


def test_bad_visit_questions_get_a_clear_400(stylist):
    business, cut, colour, _anna = stylist
    day = next_monday().date().isoformat()
    assert availability(business, [cut, colour], day, staff="1").status_code == 400  # one choice per service
    bad = client_for(business.host).get(
        f"/api/public/v1/visits/availability/?services=a,b&start={day}&end={day}"
    )
    assert bad.status_code == 400 and "services" in bad.json()
    with schema_context(business.schema):
        hidden = Service.objects.create(name="Intern", duration_minutes=10, bookable_online=False)
    refused = availability(business, [cut, hidden], day)
    assert refused.status_code == 400 and "online" in refused.json()["services"][0]
    alone = public_post(business.host, "visits/", visit_body(next_monday(), [(cut, None)]))
    assert alone.status_code == 400 and "services" in alone.json()


def test_another_business_neither_sees_nor_cancels_the_visit(stylist, business_b):
    business, cut, colour, _anna = stylist
    start = next_monday()
    token = public_post(business.host, "visits/", visit_body(start, [(cut, None), (colour, None)])).json()[
        "manage_token"
    ]
    day = start.date().isoformat()
    assert availability(business_b, [cut, colour], day).status_code == 400  # A's services are unknown at B
    assert client_for(business_b.host).get(f"/api/public/v1/bookings/{token}/").status_code == 404
    assert public_post(business_b.host, f"bookings/{token}/cancel/").status_code == 404
    with schema_context(business.schema):
        assert set(Appointment.objects.values_list("status", flat=True)) == {AppointmentStatus.CONFIRMED}
