from datetime import datetime, time, timedelta

import icalendar
import pytest
import time_machine
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.tenants.booking.models import HoldOwner
from termino.tenants.booking.services import HOLD_MINUTES
from termino.tenants.business.models import BusinessSettings
from termino.tenants.scheduling.models import Appointment
from tests.conftest import client_for
from tests.tenants.scheduling.factories import next_monday, salon

from .public_helpers import aged_form_token, booking_body, public_post

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def shop(business_a):
    with schema_context(business_a.schema):
        service, staff, _room = salon(staff_count=1)
    return business_a, service, staff[0]


def hold(business, service, start, REMOTE_ADDR="203.0.113.1", **extra):
    body = {"service": service.pk, "start": start.isoformat(), "form_token": aged_form_token()}
    return public_post(business.host, "holds/", {**body, **extra}, REMOTE_ADDR=REMOTE_ADDR)


def test_a_hold_keeps_the_slot_and_becomes_the_booking(shop):
    business, service, _ = shop
    start = next_monday()
    held = hold(business, service, start)
    assert held.status_code == 201, held.json()
    token = held.json()["hold"]
    # Someone else cannot take it meanwhile, and it no longer shows as free.
    assert hold(business, service, start).status_code == 409
    other = public_post(business.host, "bookings/", booking_body(service, start, email="b@x.example"))
    assert other.status_code == 409
    day = start.date().isoformat()
    free = client_for(business.host).get(
        f"/api/public/v1/availability/?service={service.pk}&start={day}&end={day}"
    )
    assert start.isoformat() not in [s["start"] for s in free.json()["slots"]]
    booked = public_post(business.host, "bookings/", booking_body(service, start, hold=token))
    assert booked.status_code == 201 and booked.json()["status"] == "confirmed"
    with schema_context(business.schema):
        assert Appointment.objects.count() == 1
        assert Appointment.objects.get().hold_expires_at is None


def test_released_or_lapsed_holds_free_the_slot(shop):
    business, service, _ = shop
    start = next_monday()
    token = hold(business, service, start).json()["hold"]
    assert client_for(business.host).delete(f"/api/public/v1/holds/{token}/").status_code == 204
    token = hold(business, service, start).json()["hold"]
    with schema_context(business.schema):
        Appointment.objects.filter(manage_token=token).update(
            hold_expires_at=timezone.now() - timedelta(seconds=1)
        )
    booked = public_post(business.host, "bookings/", booking_body(service, start, email="c@x.example"))
    assert booked.status_code == 201
    with schema_context(business.schema):
        assert list(Appointment.objects.values_list("status", flat=True)) == ["confirmed"]


def test_a_hold_token_is_no_manage_link(shop):
    business, service, _ = shop
    token = hold(business, service, next_monday()).json()["hold"]
    assert client_for(business.host).get(f"/api/public/v1/bookings/{token}/").status_code == 404
    assert client_for(business.host).get(f"/book/manage/{token}/").status_code == 404


def test_ics_download(shop):
    business, service, _ = shop
    start = next_monday()
    token = public_post(business.host, "bookings/", booking_body(service, start)).json()["manage_token"]
    response = client_for(business.host).get(f"/book/ics/{token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    event = icalendar.Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == start
    assert "Haarschnitt" in str(event["summary"]) and token in str(event["url"])
    assert client_for(business.host).get("/book/ics/nope.ics").status_code == 404


def test_booking_page_may_be_framed_only_by_listed_origins(shop):
    business, *_ = shop
    with schema_context(business.schema):
        BusinessSettings.objects.update_or_create(
            id=1, defaults={"allowed_origins": "https://www.salon.example\n"}
        )
    page = client_for(business.host).get("/book/?embed=1")
    assert page.status_code == 200
    assert "frame-ancestors 'self' https://www.salon.example;" in page["Content-Security-Policy"] + ";"
    assert "X-Frame-Options" not in page
    assert client_for(business.host).get("/login/")["X-Frame-Options"] == "DENY"


def test_cors_only_for_listed_origins(shop):
    business, *_ = shop
    with schema_context(business.schema):
        BusinessSettings.objects.update_or_create(
            id=1, defaults={"allowed_origins": "https://www.salon.example"}
        )
    client = client_for(business.host)
    ok = client.options(
        "/api/public/v1/bookings/",
        HTTP_ORIGIN="https://www.salon.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert ok.status_code == 204 and ok["Access-Control-Allow-Origin"] == "https://www.salon.example"
    assert "Idempotency-Key" in ok["Access-Control-Allow-Headers"]
    denied = client.options(
        "/api/public/v1/bookings/",
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert denied.status_code == 403 and "Access-Control-Allow-Origin" not in denied
    read = client.get("/api/public/v1/services/", HTTP_ORIGIN="https://www.salon.example")
    assert read["Access-Control-Allow-Origin"] == "https://www.salon.example"


def test_embed_loader_points_at_the_business(shop):
    business, *_ = shop
    response = client_for(business.host).get("/embed.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")
    assert f"http://{business.host}:8000/book/?embed=1" in response.content.decode()


def test_logo_is_served_on_its_own_host_only(shop, business_b):
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    business, *_ = shop
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "#1d4ed8").save(png, format="PNG")
    with schema_context(business.schema):
        rules = BusinessSettings.current()
        rules.logo.save("logo.png", ContentFile(png.getvalue()))
        url = rules.logo.url
    try:
        assert url.startswith(f"/media/{business.schema}/branding/")
        assert client_for(business.host).get(url).status_code == 200
        assert client_for(business_b.host).get(url).status_code == 404
    finally:
        with schema_context(business.schema):
            rules.logo.delete(save=False)


# --- One visitor holds only a few slots ----------------------------------------------------------------


def free_starts(business, service, day) -> list[str]:
    response = client_for(business.host).get(
        f"/api/public/v1/availability/?service={service.pk}&start={day}&end={day}"
    )
    return [s["start"] for s in response.json()["slots"]]


def test_one_visitor_cannot_block_more_than_two_slots_of_a_day(shop):
    business, service, _ = shop
    day = next_monday().date().isoformat()
    free_before = [datetime.fromisoformat(start) for start in free_starts(business, service, day)]
    starts = free_before[::2][:15]  # 09:00, 09:30, … 16:00: fifteen half-hour appointments
    # New form tokens each time, as a script fetching the page again would get.
    answers = [hold(business, service, start) for start in starts]
    assert [a.status_code for a in answers] == [201, 201] + [429] * 13
    refused = answers[2].json()
    assert refused["code"] == "hold_limit" and "already holding 2 times" in refused["detail"]
    assert 0 < int(answers[2]["Retry-After"]) <= HOLD_MINUTES * 60
    # Only what the two holds cover is taken; before, 15 holds in a row took 15 half hours.
    held = starts[:2]
    length = timedelta(minutes=service.duration_minutes)
    covered = {s for s in free_before if any(abs(s - h) < length for h in held)}
    free_after = {datetime.fromisoformat(start) for start in free_starts(business, service, day)}
    assert free_after == set(free_before) - covered
    # Someone else is not affected; the visitor holds again once a hold has lapsed.
    assert hold(business, service, starts[5], REMOTE_ADDR="198.51.100.2").status_code == 201
    with time_machine.travel(timezone.now() + timedelta(minutes=HOLD_MINUTES, seconds=1)):
        assert hold(business, service, starts[6]).status_code == 201


def test_a_new_hold_of_the_same_form_releases_the_earlier_one(shop):
    business, service, _ = shop
    first, second = next_monday(), next_monday(time(11))
    token = aged_form_token()
    assert hold(business, service, first, form_token=token).status_code == 201
    assert hold(business, service, second, form_token=token).status_code == 201
    with schema_context(business.schema):
        assert list(Appointment.objects.filter(status="held").values_list("start", flat=True)) == [second]
    assert hold(business, service, first).status_code == 201  # free again for anyone


def test_a_booking_releases_the_other_holds_of_its_form(shop):
    business, service, _ = shop
    token = aged_form_token()
    assert hold(business, service, next_monday(), form_token=token).status_code == 201
    booked = public_post(
        business.host, "bookings/", booking_body(service, next_monday(time(11)), form_token=token)
    )
    assert booked.status_code == 201
    with schema_context(business.schema):
        assert not Appointment.objects.filter(status="held").exists()
        assert not HoldOwner.objects.exists()


def test_a_booking_from_its_hold_leaves_no_hold_owner_behind(shop):
    business, service, _ = shop
    token = aged_form_token()
    held = hold(business, service, next_monday(), form_token=token).json()["hold"]
    body = booking_body(service, next_monday(), hold=held, form_token=token)
    assert public_post(business.host, "bookings/", body).status_code == 201
    with schema_context(business.schema):
        assert Appointment.objects.get().status == "confirmed" and not HoldOwner.objects.exists()


@pytest.mark.parametrize("token", ["", "forged", "1700000000.000-abc:nosignature"])
def test_a_hold_needs_the_form_token_of_the_page(shop, token):
    business, service, _ = shop
    response = hold(business, service, next_monday(), form_token=token)
    assert response.status_code == 400 and "form_token" in response.json()


def test_a_forms_own_hold_does_not_block_its_booking_without_the_hold_token(shop):
    """The page lost its hold (a reload, a click while the hold was placed): the time is still its own."""
    business, service, _ = shop
    token = aged_form_token()
    assert hold(business, service, next_monday(), form_token=token).status_code == 201
    assert public_post(business.host, "bookings/", booking_body(service, next_monday())).status_code == 409
    booked = public_post(business.host, "bookings/", booking_body(service, next_monday(), form_token=token))
    assert booked.status_code == 201
    with schema_context(business.schema):
        assert list(Appointment.objects.values_list("status", flat=True)) == ["confirmed"]
