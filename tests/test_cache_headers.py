"""`Cache-Control: no-store` on every page and API answer that carries personal data (all of them, unless
an answer says how it may be cached itself); static files, uploads and the embed loader stay cacheable."""

import secrets
from datetime import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from termino.tenants.accounts.services import api_token_create
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import services as scheduling_services
from termino.tenants.scheduling.models import Appointment
from tests.conftest import PASSWORD, client_for
from tests.platform.staffadmin.conftest import make_staff, sign_in
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(business_a):
    """A's customer with an appointment (and its manage link), and an API token of A's owner."""
    with schema_context(business_a.schema):
        service, (staff,), _room = salon(staff_count=1)
        customer = Customer.objects.create(first_name="Kim", last_name="Privat", email="kim@example.com")
        appointment = scheduling_services.appointment_create(
            booking=scheduling_services.Booking(service=service, start=next_monday(time(10)), staff=staff),
            customer=customer,
        )
        manage_token = secrets.token_urlsafe(24)
        Appointment.objects.filter(pk=appointment.pk).update(manage_token=manage_token)
        key = api_token_create(user=get_user_model().objects.get(role="owner"), name="test").key
    return {"customer": customer, "appointment": appointment, "manage": manage_token, "key": key}


def assert_no_store(response, what):
    assert response.get("Cache-Control", "") and "no-store" in response["Cache-Control"], (
        what,
        response.status_code,
        response.get("Cache-Control"),
    )


BACKOFFICE = [
    "/",
    "/calendar/",
    "/customers/",
    "/customers/{customer}/",
    "/customers/export.csv",
    "/people/",
    "/settings/",
    "/settings/outbox/",
    "/account/",
    "/account/password/",
    "/account/tokens/",
    "/account/logins/",
    "/privacy/log/",
    "/privacy/requests/",
    "/privacy/customers/{customer}/export.json",
    "/billing/",
    "/customers/999999/",  # a 404 page of the backoffice
]


def test_backoffice_pages(business_a, world):
    client = log_in_as(business_a)
    for path in BACKOFFICE:
        path = path.format(customer=world["customer"].pk)
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        assert_no_store(response, path)


STAFF_API = [
    "/api/v1/services/",
    "/api/v1/resources/",
    "/api/v1/appointments/",
    "/api/v1/appointments/{appointment}/",
    "/api/v1/appointments/999999/",
]


def test_staff_api_with_a_token_and_with_the_session(business_a, world):
    token_client = client_for(business_a.host, "en")
    token_client.defaults["HTTP_AUTHORIZATION"] = f"Token {world['key']}"
    session_client = log_in_as(business_a)
    for path in STAFF_API:
        path = path.format(appointment=world["appointment"].pk)
        for client in (token_client, session_client):
            response = client.get(path)
            assert response.status_code in (200, 404), (path, response.status_code)
            assert_no_store(response, path)
    refused = client_for(business_a.host).get("/api/v1/appointments/")
    assert refused.status_code in (401, 403)
    assert_no_store(refused, "anonymous staff API")


def test_the_token_endpoint(business_a):
    client = client_for(business_a.host, "en")
    given = client.post("/api/v1/auth/token/", {"username": business_a.owner_username, "password": PASSWORD})
    assert given.status_code == 200
    assert_no_store(given, "a new token")
    wrong = client.post("/api/v1/auth/token/", {"username": business_a.owner_username, "password": "x" * 12})
    assert wrong.status_code == 400
    assert_no_store(wrong, "a wrong password")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/v1/auth/token/", {"username": business_a.owner_username, "password": "x" * 12})
    locked = client.post("/api/v1/auth/token/", {"username": business_a.owner_username, "password": PASSWORD})
    assert locked.status_code == 429
    assert_no_store(locked, "the lockout")


def test_customer_pages_and_their_api(business_a, world):
    client = client_for(business_a.host, "en")
    for path in [
        "/login/",
        "/book/",
        f"/book/manage/{world['manage']}/",
        f"/book/ics/{world['manage']}.ics",
        "/book/privacy/",
        f"/api/public/v1/bookings/{world['manage']}/",
        "/api/public/v1/services/",
        "/book/manage/no-such-link/",
    ]:
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        assert_no_store(response, path)


def test_staff_admin_and_platform_pages(business_a):
    client = client_for(settings.BASE_DOMAIN, "en")
    for path in ["/staff/login/", "/admin/login/", "/signup/"]:
        response = client.get(path)
        assert response.status_code in (200, 302), path  # Django's admin sends people to /staff/login/
        assert_no_store(response, path)
    staff_client = sign_in(make_staff())
    for path in ["/staff/", f"/staff/businesses/{business_a.tenant.pk}/", "/staff/audit/", "/staff/traffic/"]:
        response = staff_client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert_no_store(response, path)
    assert_no_store(client_for("nobody-here.localhost").get("/"), "the unknown-host page")


def test_what_is_meant_to_be_cached_keeps_its_own_header(business_a):
    client = client_for(business_a.host)
    embed = client.get("/embed.js")
    assert embed.status_code == 200 and embed["Cache-Control"] == "public, max-age=300"
    logo = Path(settings.MEDIA_ROOT) / business_a.schema / "cache-test" / "logo.txt"
    logo.parent.mkdir(parents=True, exist_ok=True)
    logo.write_text("logo")
    try:
        media = client.get(f"/media/{business_a.schema}/cache-test/logo.txt")
        assert media.status_code == 200 and "no-store" not in media.get("Cache-Control", "")
    finally:
        logo.unlink()
    static = client.get(f"{settings.STATIC_URL}backoffice/backoffice.css")
    assert "no-store" not in static.get("Cache-Control", "")
