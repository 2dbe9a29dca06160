"""The staff API of calendar sync: own feed and CalDAV calendar for everyone with a column, the business
feed and privacy choice for owners and managers; passwords never come back; clear 4xx for bad input."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from termino.tenants.calendars.models import CalDavConnection
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as

from .helpers import team

pytestmark = pytest.mark.django_db


def test_own_feed_and_caldav_through_the_api(business_a):
    _service, anna, _ben, (anna_user, _) = team(business_a)
    api = log_in_as(business_a, "staff", user=anna_user)
    assert api.get("/api/v1/calendar/feed/").json() == {"url": None}
    made = api.post("/api/v1/calendar/feed/")
    assert made.status_code == 201
    url = made.json()["url"]
    assert url.startswith(f"http://{business_a.host}:8000/calendar/") and url.endswith(".ics")
    assert client_for(business_a.host).get(url.split(":8000", 1)[1]).status_code == 200
    assert api.delete("/api/v1/calendar/feed/").status_code == 204
    assert client_for(business_a.host).get(url.split(":8000", 1)[1]).status_code == 404

    assert api.get("/api/v1/calendar/caldav/").status_code == 404
    bad = api.put("/api/v1/calendar/caldav/", {"url": "nope"}, content_type="application/json")
    assert bad.status_code == 400 and set(bad.json()) == {"url", "username", "password"}
    body = {"url": "https://cal.example.com/anna/", "username": "anna", "password": "geheim-123"}
    saved = api.put("/api/v1/calendar/caldav/", body, content_type="application/json")
    assert saved.status_code == 200 and saved.json()["state"] == "pending"
    assert "geheim-123" not in saved.content.decode()
    assert "password" not in api.get("/api/v1/calendar/caldav/").json()
    assert api.post("/api/v1/calendar/caldav/sync/").status_code == 202
    assert api.delete("/api/v1/calendar/caldav/").status_code == 204
    with schema_context(business_a.schema):
        assert not CalDavConnection.objects.filter(resource=anna).exists()


def test_business_feed_and_settings_are_for_managers(business_a):
    _service, _anna, _ben, (anna_user, _) = team(business_a)
    staff = log_in_as(business_a, "staff", user=anna_user)
    assert staff.get("/api/v1/calendar/business-feed/").status_code == 403
    assert (
        staff.put(
            "/api/v1/calendar/settings/", {"feed_detail": "busy"}, content_type="application/json"
        ).status_code
        == 403
    )
    owner = log_in_as(business_a, "owner")
    assert owner.post("/api/v1/calendar/business-feed/").status_code == 201
    bad = owner.put("/api/v1/calendar/settings/", {"feed_detail": "all"}, content_type="application/json")
    assert bad.status_code == 400 and "feed_detail" in bad.json()
    ok = owner.put("/api/v1/calendar/settings/", {"feed_detail": "busy"}, content_type="application/json")
    assert ok.json() == {"feed_detail": "busy"}
    # The owner has no column of her own: her own feed is a clear 404.
    assert owner.get("/api/v1/calendar/feed/").json()["detail"] == "You have no calendar column of your own."


def test_another_business_sees_no_feed_or_credentials(business_a, business_b):
    _service, _anna, _ben, (anna_user, _) = team(business_a)
    api = log_in_as(business_a, "staff", user=anna_user)
    url = api.post("/api/v1/calendar/feed/").json()["url"]
    api.put(
        "/api/v1/calendar/caldav/",
        {"url": "https://cal.example.com/secret-a/", "username": "anna-a", "password": "pw-a"},
        content_type="application/json",
    )
    path = url.split(":8000", 1)[1]
    assert client_for(business_b.host).get(path).status_code == 404
    # B's owner: her session is unknown at A, and at B she finds nothing of A's.
    other = log_in_as(business_b, "owner")
    assert "secret-a" not in other.get("/account/calendar/business/").content.decode()
    assert other.get("/api/v1/calendar/business-feed/").json() == {"url": None}
    stolen = client_for(business_a.host)
    stolen.cookies = other.cookies
    assert stolen.get("/api/v1/calendar/caldav/").status_code in (401, 403)
    with schema_context(business_b.schema):
        assert not CalDavConnection.objects.exists()
    connection.set_schema_to_public()
