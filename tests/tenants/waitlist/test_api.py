"""The staff API of the waitlist (`/api/v1/waitlist/`) and its backoffice page: the list, matches, offering by
hand, taking someone off, the rules; who may do what."""

import pytest
from django_tenants.utils import schema_context

from termino.tenants.scheduling import lifecycle
from termino.tenants.waitlist.models import Entry, EntryStatus, Offer, WaitlistSettings
from tests.tenants.backoffice.helpers import log_in_as, make_user

from .helpers import STAFF, tight_day, waiting

pytestmark = pytest.mark.django_db


@pytest.fixture
def freed(business_a):
    """Two customers waiting for the Monday's one time, which has just been cancelled (quietly)."""
    with schema_context(business_a.schema):
        service, staff, start, booked = tight_day()
        joined = waiting(service, 2, day=start.date())
        lifecycle.appointment_cancel(actor=STAFF, appointment=booked, notify=False)
    return service, staff, start, [entry for entry, _token in joined]


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def test_the_list_its_matches_and_an_offer_by_hand(business_a, freed):
    service, staff, start, (first, second) = freed
    owner = log_in_as(business_a)
    listed = owner.get(f"/api/v1/waitlist/entries/?service={service.pk}").json()
    assert [e["id"] for e in listed["results"]] == [first.pk, second.pk]
    matches = owner.get(f"/api/v1/waitlist/entries/{second.pk}/matches/").json()
    assert [m["start"] for m in matches] == [start.isoformat()]
    offered = post(owner, f"/api/v1/waitlist/entries/{second.pk}/offer/", {"start": start.isoformat()})
    assert offered.status_code == 201, offered.content
    assert offered.json()["status"] == "open" and offered.json()["resource"] == staff.pk
    again = post(owner, f"/api/v1/waitlist/entries/{second.pk}/offer/", {"start": start.isoformat()})
    assert again.status_code == 400 and again.json()["detail"]
    taken = post(owner, f"/api/v1/waitlist/entries/{first.pk}/offer/", {"start": start.isoformat()})
    assert taken.status_code == 409  # held for the second customer now
    offers = owner.get(f"/api/v1/waitlist/offers/?entry={second.pk}").json()["results"]
    assert [o["id"] for o in offers] == [offered.json()["id"]]
    assert owner.get("/api/v1/waitlist/offers/?entry=abc").status_code == 400


def test_bad_input_is_a_400_with_words(business_a, freed):
    _service, _staff, _start, (first, _second) = freed
    owner = log_in_as(business_a)
    for body in (
        {},
        {"start": "tomorrow"},
        {"start": "1899-01-01T10:00:00Z"},
    ):
        response = post(owner, f"/api/v1/waitlist/entries/{first.pk}/offer/", body)
        assert response.status_code == 400, (body, response.content)
    assert owner.get("/api/v1/waitlist/entries/?status=nonsense").status_code == 400
    assert (
        owner.put(
            "/api/v1/waitlist/settings/", {"offer_count": 0}, content_type="application/json"
        ).status_code
        == 400
    )


def test_removing_keeps_the_entry_as_removed(business_a, freed):
    _service, _staff, _start, (first, _second) = freed
    owner = log_in_as(business_a)
    assert owner.delete(f"/api/v1/waitlist/entries/{first.pk}/").status_code == 204
    with schema_context(business_a.schema):
        assert Entry.objects.get(pk=first.pk).status == EntryStatus.LEFT
    assert first.pk not in [e["id"] for e in owner.get("/api/v1/waitlist/entries/").json()["results"]]


def test_only_managers_change_the_rules_and_staff_offer_only_in_their_column(business_a, freed):
    _service, _staff, start, (first, _second) = freed
    member = make_user(business_a, "staff", staff_name="Kollegin")
    staff_client = log_in_as(business_a, user=member)
    rules = {"offer_count": 2, "offer_minutes": 45}
    assert (
        staff_client.put("/api/v1/waitlist/settings/", rules, content_type="application/json").status_code
        == 403
    )
    refused = post(staff_client, f"/api/v1/waitlist/entries/{first.pk}/offer/", {"start": start.isoformat()})
    assert refused.status_code in {403, 409}  # not their column (or not free in it)
    manager = log_in_as(business_a, "manager")
    assert manager.put("/api/v1/waitlist/settings/", rules, content_type="application/json").json() == rules
    with schema_context(business_a.schema):
        assert (WaitlistSettings.current().offer_count, WaitlistSettings.current().offer_minutes) == (2, 45)


def test_the_backoffice_page_lists_and_offers(business_a, freed):
    service, _staff, start, (first, second) = freed
    owner = log_in_as(business_a)
    page = owner.get("/waitlist/")
    body = page.content.decode()
    assert page.status_code == 200 and service.name in body and str(first.customer) in body
    assert start.isoformat() in body  # the freed time, offered by a click
    response = owner.post(f"/waitlist/{first.pk}/offer/", {"start": start.isoformat()})
    assert response.status_code == 302
    with schema_context(business_a.schema):
        assert Offer.objects.get(entry=first).start == start
    response = owner.post(f"/waitlist/{second.pk}/offer/", {"start": "garbage"}, follow=True)
    assert "Please choose one of the free times shown." in response.content.decode()
    owner.post(f"/waitlist/{second.pk}/remove/")
    with schema_context(business_a.schema):
        assert Entry.objects.get(pk=second.pk).status == EntryStatus.LEFT
    assert owner.post("/waitlist/settings/", {"offer_count": "x", "offer_minutes": "5"}).status_code == 302
