from datetime import timedelta

import icalendar
import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.tenants.booking.models import BookingSettings
from termino.tenants.scheduling.models import Appointment
from tests.conftest import client_for
from tests.tenants.scheduling.factories import next_monday, salon

from .public_helpers import booking_body, public_post

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def shop(business_a):
    with schema_context(business_a.schema):
        service, staff, _room = salon(staff_count=1)
    return business_a, service, staff[0]


def hold(business, service, start):
    return public_post(business.host, "holds/", {"service": service.pk, "start": start.isoformat()})


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
        BookingSettings.objects.update_or_create(
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
        BookingSettings.objects.update_or_create(
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
        rules = BookingSettings.current()
        rules.logo.save("logo.png", ContentFile(png.getvalue()))
        url = rules.logo.url
    try:
        assert url.startswith(f"/media/{business.schema}/branding/")
        assert client_for(business.host).get(url).status_code == 200
        assert client_for(business_b.host).get(url).status_code == 404
    finally:
        with schema_context(business.schema):
            rules.logo.delete(save=False)
