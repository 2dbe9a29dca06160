"""Subscription feeds: what a staff member's and the business's feed carry (and do not), stable UIDs and
SEQUENCE across a move, ETag / Last-Modified answered with 304, revocation, limits, and isolation."""

from datetime import time, timedelta

import icalendar
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import schema_context

from termino.tenants.calendars import selectors
from termino.tenants.calendars import services as calendars
from termino.tenants.calendars.models import FeedDetail
from termino.tenants.scheduling import lifecycle
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import make_user

from .helpers import SYSTEM, book, team

pytestmark = pytest.mark.django_db


def _get(business, token, **headers):
    return client_for(business.host).get(f"/calendar/{token}.ics", **headers)


def _events(response):
    cal = icalendar.Calendar.from_ical(response.content)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_staff_feed_carries_only_her_column_with_first_names(business_a):
    service, anna, ben, (anna_user, _ben_user) = team(business_a)
    with schema_context(business_a.schema):
        mine = book(service, anna, time(10))
        book(service, ben, time(11), first="Max", last="Muster")
        token = calendars.feed_token_issue(resource=anna, user=anna_user)
    connection.set_schema_to_public()
    response = _get(business_a, token)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Cache-Control"] == "private, max-age=300"
    events = _events(response)
    uid = f"appointment-{mine.pk}@{business_a.schema}.termino"
    assert list(events) == [uid]
    assert str(events[uid]["SUMMARY"]) == "Haarschnitt – Lena"
    body = response.content.decode()
    assert "Fischer" not in body and "lena@example.com" not in body and "Max" not in body


@pytest.mark.clock
def test_a_move_updates_the_event_in_place_and_the_etag(business_a):
    service, anna, _ben, (anna_user, _) = team(business_a)
    with schema_context(business_a.schema):
        appointment = book(service, anna, time(10))
        token = calendars.feed_token_issue(resource=anna, user=anna_user)
    connection.set_schema_to_public()
    first = _get(business_a, token)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert _get(business_a, token, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert _get(business_a, token, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    ((uid, before),) = _events(first).items()
    with schema_context(business_a.schema):
        lifecycle.appointment_move(
            actor=SYSTEM, appointment=appointment, start=appointment.start + timedelta(hours=2)
        )
    connection.set_schema_to_public()
    second = _get(business_a, token, HTTP_IF_NONE_MATCH=etag)
    assert second.status_code == 200 and second["ETag"] != etag
    after = _events(second)[uid]
    assert after.decoded("DTSTART") == before.decoded("DTSTART") + timedelta(hours=2)
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    # Cancelled: it leaves the feed.
    with schema_context(business_a.schema):
        lifecycle.appointment_cancel(actor=SYSTEM, appointment=appointment)
    connection.set_schema_to_public()
    assert _events(_get(business_a, token)) == {}


def test_business_feed_and_privacy_choice(business_a):
    service, anna, ben, _users = team(business_a)
    with schema_context(business_a.schema):
        book(service, anna, time(10))
        book(service, ben, time(11), first="Max", last="Muster")
        token = calendars.feed_token_issue(resource=None, user=None)
    connection.set_schema_to_public()
    summaries = sorted(str(e["SUMMARY"]) for e in _events(_get(business_a, token)).values())
    assert summaries == ["Haarschnitt – Lena", "Haarschnitt – Max"]
    etag = _get(business_a, token)["ETag"]
    for detail, wanted in [
        (FeedDetail.BUSY, ["Termin", "Termin"]),
        (FeedDetail.SERVICE, ["Haarschnitt", "Haarschnitt"]),
        (FeedDetail.FULL_NAME, ["Haarschnitt – Lena Fischer", "Haarschnitt – Max Muster"]),
    ]:
        with schema_context(business_a.schema):
            calendars.calendar_settings_update(feed_detail=detail)
        connection.set_schema_to_public()
        response = _get(business_a, token, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200
        assert sorted(str(e["SUMMARY"]) for e in _events(response).values()) == wanted


def test_revoked_reissued_and_foreign_tokens_are_unknown(business_a, business_b):
    _service, anna, _ben, (anna_user, _) = team(business_a)
    with schema_context(business_a.schema):
        old = calendars.feed_token_issue(resource=anna, user=anna_user)
        new = calendars.feed_token_issue(resource=anna, user=anna_user)
    connection.set_schema_to_public()
    assert _get(business_a, old).status_code == 404
    assert _get(business_a, new).status_code == 200
    # Another business's host never knows it (digests are keyed with the schema).
    assert _get(business_b, new).status_code == 404
    assert _get(business_a, "x" * 43).status_code == 404
    with schema_context(business_a.schema):
        calendars.feed_token_revoke(resource=anna)
    connection.set_schema_to_public()
    assert _get(business_a, new).status_code == 404


def test_an_address_stops_when_its_person_or_its_maker_leaves(business_a):
    """Deactivating a staff member ends her feed address; the business's address made by a manager ends
    when the manager is deactivated, and the settings page then offers a new one instead of a dead one."""
    from termino.tenants.accounts import services as accounts

    _service, anna, ben, (anna_user, _ben_user) = team(business_a)
    with schema_context(business_a.schema):
        owner = get_user_model().objects.get(role="owner")
    manager = make_user(business_a, "manager")
    with schema_context(business_a.schema):
        anna_feed = calendars.feed_token_issue(resource=anna, user=anna_user)
        business_feed = calendars.feed_token_issue(resource=None, user=manager)
        ben.active = False
        ben.save(update_fields=["active"])  # a column without its login taken away: its address ends too
        ben_feed = calendars.feed_token_issue(resource=ben, user=owner)
    connection.set_schema_to_public()
    assert [_get(business_a, t).status_code for t in (anna_feed, business_feed, ben_feed)] == [200, 200, 404]
    with schema_context(business_a.schema):
        accounts.person_deactivate(acting_user=owner, member=anna_user)
        accounts.person_deactivate(acting_user=owner, member=manager)
        assert selectors.feed_token_live(resource=None) is None
    connection.set_schema_to_public()
    assert [_get(business_a, t).status_code for t in (anna_feed, business_feed)] == [404, 404]
    with schema_context(business_a.schema):
        fresh = calendars.feed_token_issue(resource=None, user=owner)
    connection.set_schema_to_public()
    assert _get(business_a, fresh).status_code == 200


def test_feed_requests_are_limited(business_a, settings):
    settings.CALENDAR_FEED_PER_MINUTE = 3
    _service, anna, _ben, (anna_user, _) = team(business_a)
    with schema_context(business_a.schema):
        token = calendars.feed_token_issue(resource=anna, user=anna_user)
    connection.set_schema_to_public()
    codes = [_get(business_a, token).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_the_etag_follows_what_is_shown_without_building_the_feed(business_a):
    service, anna, _ben, _users = team(business_a)
    with schema_context(business_a.schema):
        appointment = book(service, anna, time(10))
        token = calendars.feed_token_issue(resource=None, user=None)
    connection.set_schema_to_public()
    etag = _get(business_a, token)["ETag"]
    # A customer's name corrected, a staff member renamed: both are in the feed, so the ETag moves.
    with schema_context(business_a.schema):
        appointment.customer.first_name = "Lene"
        appointment.customer.save()
    connection.set_schema_to_public()
    renamed = _get(business_a, token, HTTP_IF_NONE_MATCH=etag)
    assert renamed.status_code == 200 and "Haarschnitt – Lene" in renamed.content.decode()
    with schema_context(business_a.schema):
        anna.name = "Anna B."
        anna.save()
    connection.set_schema_to_public()
    moved = _get(business_a, token, HTTP_IF_NONE_MATCH=renamed["ETag"])
    assert moved.status_code == 200 and "Anna B." in moved.content.decode()
    assert _get(business_a, token, HTTP_IF_NONE_MATCH=moved["ETag"]).status_code == 304
