"""Calendar sync pages: a staff member sees her own feed address and CalDAV state (never another's),
owners and managers manage the business's feed and privacy choice; bad input is a 400 with a sentence."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from termino.tenants.calendars.models import CalDavConnection, CalendarSettings, FeedToken
from tests.tenants.calendars.helpers import team

from .helpers import log_in_as

pytestmark = pytest.mark.django_db


def test_staff_member_makes_her_feed_and_connects_a_calendar(business_a):
    _service, anna, _ben, (anna_user, ben_user) = team(business_a)
    client = log_in_as(business_a, "staff", user=anna_user)
    page = client.get("/account/calendar/")
    assert page.status_code == 200 and "Create subscription address" in page.content.decode()
    assert client.post("/account/calendar/feed/").status_code == 302
    page = client.get("/account/calendar/").content.decode()
    assert f"http://{business_a.host}:8000/calendar/" in page and "webcal://" in page
    bad = client.post("/account/calendar/", {"url": "ftp://x", "username": "", "password": ""})
    assert bad.status_code == 400 and "Please check the marked fields" in bad.content.decode()
    saved = client.post(
        "/account/calendar/",
        {"url": "https://cal.example.com/dav/anna/", "username": "anna", "password": "geheim-123"},
    )
    assert saved.status_code == 302
    page = client.get("/account/calendar/").content.decode()
    assert 'data-state="pending"' in page and "geheim-123" not in page
    with schema_context(business_a.schema):
        conn = CalDavConnection.objects.get()
        assert conn.resource_id == anna.pk and "geheim-123" not in conn.password_encrypted
    connection.set_schema_to_public()
    # Ben sees none of it, and cannot reach the business page.
    other = log_in_as(business_a, "staff", user=ben_user)
    page = other.get("/account/calendar/").content.decode()
    assert "cal.example.com" not in page and ":8000/calendar/" not in page
    assert other.get("/account/calendar/business/").status_code == 403
    assert client.post("/account/calendar/caldav/disconnect/").status_code == 302
    with schema_context(business_a.schema):
        assert not CalDavConnection.objects.exists()


def test_owner_sets_privacy_and_the_business_feed(business_a):
    team(business_a)
    owner = log_in_as(business_a, "owner")
    page = owner.get("/account/calendar/business/")
    assert page.status_code == 200 and "Privacy in other calendars" in page.content.decode()
    assert owner.post("/account/calendar/business/", {"feed_detail": "nonsense"}).status_code == 400
    assert owner.post("/account/calendar/business/", {"feed_detail": "service"}).status_code == 302
    assert owner.post("/account/calendar/business/feed/").status_code == 302
    with schema_context(business_a.schema):
        assert CalendarSettings.objects.get().feed_detail == "service"
        assert FeedToken.objects.filter(resource__isnull=True, revoked_at__isnull=True).count() == 1
    connection.set_schema_to_public()
    assert owner.post("/account/calendar/business/feed/revoke/").status_code == 302
    with schema_context(business_a.schema):
        assert not FeedToken.objects.filter(revoked_at__isnull=True).exists()


def test_german_page(business_a):
    _service, _anna, _ben, (anna_user, _) = team(business_a)
    client = log_in_as(business_a, "staff", user=anna_user, language="de")
    page = client.get("/account/calendar/").content.decode()
    assert "Mein Kalender" in page and "Kalender verbinden" in page
