"""Likely duplicates from online bookings: listed for owners and managers, merged in one click or kept
apart, hinted on the customer's page; merging or erasing a customer removes its pairs."""

import pytest
from django_tenants.utils import schema_context

from termino.tenants.crm import services as crm
from termino.tenants.crm.models import Customer, DuplicateSuspicion
from termino.tenants.privacy.models import PersonalDataEvent
from termino.tenants.privacy.services import customer_erase
from termino.tenants.scheduling.models import Appointment
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.crm.factories import appointment, customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(business_a):
    """Vera's entry (made by the team) and a newer one an online booking made with her phone number."""
    with schema_context(business_a.schema):
        vera = customer("Opfermann", "Vera", phone="+491701234567")
        newer = customer("Angreifer", "Mallory", email="mallory@example.com", phone="+491701234567")
        appointment(newer, days=2)
        crm.duplicate_suspicions_record(customer=newer, others=[(vera, "phone")])
        suspicion = DuplicateSuspicion.objects.get()
    return vera, newer, suspicion


def test_managers_see_the_pairs_with_what_a_merge_would_fill_in(business_a, pair):
    vera, newer, suspicion = pair
    client = log_in_as(business_a, "manager")
    listing = client.get("/customers/").content.decode()
    assert 'href="/customers/duplicates/"' in listing and "Likely duplicates (1)" in listing
    page = client.get("/customers/duplicates/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Same phone number" in html and "Opfermann" in html and "Angreifer" in html
    assert "Older entry" in html and "Newer entry" in html
    assert "Merging into the older entry fills in there:" in html and "mallory@example.com" in html
    assert f'action="/customers/duplicates/{suspicion.pk}/merge/"' in html
    assert f'action="/customers/duplicates/{suspicion.pk}/dismiss/"' in html
    assert f"/customers/merge/?keep={vera.pk}&amp;duplicate={newer.pk}" in html


def test_staff_members_cannot_see_or_decide(business_a, pair):
    _vera, _newer, suspicion = pair
    client = log_in_as(business_a, "staff")
    assert client.get("/customers/duplicates/").status_code == 403
    assert client.post(f"/customers/duplicates/{suspicion.pk}/dismiss/").status_code == 403
    assert (
        client.post(f"/customers/duplicates/{suspicion.pk}/merge/", {"keep": pair[0].pk}).status_code == 403
    )
    assert "Likely duplicates" not in client.get("/customers/").content.decode()
    detail = client.get(f"/customers/{pair[1].pk}/").content.decode()
    assert "This may be the same person" not in detail
    with schema_context(business_a.schema):
        assert DuplicateSuspicion.objects.get().dismissed_at is None and Customer.objects.count() == 2


def test_one_click_merge_keeps_the_chosen_entry_and_removes_the_pair(business_a, pair):
    vera, newer, suspicion = pair
    client = log_in_as(business_a, "manager")
    response = client.post(f"/customers/duplicates/{suspicion.pk}/merge/", {"keep": vera.pk})
    assert response.status_code == 302 and response["Location"] == "/customers/duplicates/"
    with schema_context(business_a.schema):
        (kept,) = Customer.objects.all()
        assert kept.pk == vera.pk and kept.email == "mallory@example.com"  # the team's decision
        assert Appointment.objects.get().customer_id == vera.pk
        assert not DuplicateSuspicion.objects.exists()
        merged = PersonalDataEvent.objects.filter(action="change").order_by("id")
        assert [(e.customer_id, e.details) for e in merged] == [
            (vera.pk, {"merged_from": newer.pk}),
            (newer.pk, {"merged_into": vera.pk}),
        ]
    assert "No likely duplicates" in client.get("/customers/duplicates/").content.decode()
    # The pair is gone: a second click (another tab) finds nothing.
    assert client.post(f"/customers/duplicates/{suspicion.pk}/merge/", {"keep": vera.pk}).status_code == 404


def test_merge_may_keep_the_newer_entry_but_no_third(business_a, pair):
    _vera, newer, suspicion = pair
    with schema_context(business_a.schema):
        third = customer("Dritte", "Dora")
    client = log_in_as(business_a, "owner")
    for keep in (third.pk, "", "abc"):
        response = client.post(f"/customers/duplicates/{suspicion.pk}/merge/", {"keep": keep})
        assert response.status_code == 400
        assert "Please choose one of the two customers to keep." in response.content.decode()
    with schema_context(business_a.schema):
        assert Customer.objects.count() == 3 and DuplicateSuspicion.objects.exists()
    client.post(f"/customers/duplicates/{suspicion.pk}/merge/", {"keep": newer.pk})
    with schema_context(business_a.schema):
        assert set(Customer.objects.values_list("pk", flat=True)) == {newer.pk, third.pk}


def test_not_the_same_person_keeps_them_apart_for_good(business_a, pair):
    vera, newer, suspicion = pair
    client = log_in_as(business_a, "manager")
    response = client.post(f"/customers/duplicates/{suspicion.pk}/dismiss/")
    assert response.status_code == 302 and response["Location"] == "/customers/duplicates/"
    with schema_context(business_a.schema):
        row = DuplicateSuspicion.objects.get()
        assert row.dismissed_at is not None and row.dismissed_by.role == "manager"
        assert Customer.objects.count() == 2
        crm.duplicate_suspicions_record(customer=newer, others=[(vera, "phone")])  # the next booking
        assert DuplicateSuspicion.objects.get().dismissed_at == row.dismissed_at
    assert "No likely duplicates" in client.get("/customers/duplicates/").content.decode()
    assert "Likely duplicates (" not in client.get("/customers/").content.decode()
    assert "This may be the same person" not in client.get(f"/customers/{vera.pk}/").content.decode()
    assert client.post(f"/customers/duplicates/{suspicion.pk}/dismiss/").status_code == 404


def test_the_customer_page_hints_at_the_pair(business_a, pair):
    vera, newer, suspicion = pair
    client = log_in_as(business_a, "manager")
    html = client.get(f"/customers/{newer.pk}/").content.decode()
    assert "This may be the same person as another customer entry." in html
    assert f'href="/customers/{vera.pk}/"' in html and "Same phone number" in html
    assert f"/customers/merge/?keep={vera.pk}&amp;duplicate={newer.pk}" in html
    response = client.post(
        f"/customers/duplicates/{suspicion.pk}/dismiss/", {"next": f"/customers/{newer.pk}/"}
    )
    assert response["Location"] == f"/customers/{newer.pk}/"
    assert "This may be the same person" not in client.get(f"/customers/{newer.pk}/").content.decode()


def test_dismiss_goes_back_only_to_a_page_of_this_business(business_a, pair):
    _vera, _newer, suspicion = pair
    client = log_in_as(business_a, "manager")
    response = client.post(
        f"/customers/duplicates/{suspicion.pk}/dismiss/", {"next": "https://evil.example/phish"}
    )
    assert response["Location"] == "/customers/duplicates/"


def test_the_ordinary_merge_and_erasure_remove_the_pairs(business_a, pair):
    vera, newer, _suspicion = pair
    with schema_context(business_a.schema):
        other = customer("Opfermann", "Vera", email="vera@example.com")
        crm.duplicate_suspicions_record(customer=other, others=[(vera, "name")])
        crm.duplicate_suspicions_record(customer=other, others=[(newer, "name")])
    client = log_in_as(business_a, "owner")
    client.post("/customers/merge/", {"keep": vera.pk, "duplicate": newer.pk})
    with schema_context(business_a.schema):
        # Vera's pair with the merged entry went with it; her pair with the third entry is still open.
        assert set(DuplicateSuspicion.objects.values_list("customer_a_id", "customer_b_id")) == {
            (vera.pk, other.pk)
        }
        customer_erase(customer=Customer.objects.get(pk=other.pk))
        assert not DuplicateSuspicion.objects.exists()


def test_restricted_customers_pairs_are_for_the_owner_only(business_a, pair):
    vera, _newer, suspicion = pair
    with schema_context(business_a.schema):
        Customer.objects.filter(pk=vera.pk).update(processing_restricted=True)
    manager = log_in_as(business_a, "manager")
    assert "Opfermann" not in manager.get("/customers/duplicates/").content.decode()
    assert manager.post(f"/customers/duplicates/{suspicion.pk}/dismiss/").status_code == 404
    assert manager.post(f"/customers/duplicates/{suspicion.pk}/merge/", {"keep": vera.pk}).status_code == 404
    owner = log_in_as(business_a, "owner")
    assert "Opfermann" in owner.get("/customers/duplicates/").content.decode()


def test_another_business_cannot_see_or_decide_on_the_pairs(business_a, business_b, pair):
    vera, _newer, suspicion = pair
    client = log_in_as(business_b, "owner")
    assert "Opfermann" not in client.get("/customers/duplicates/").content.decode()
    assert client.post(f"/customers/duplicates/{suspicion.pk}/dismiss/").status_code == 404
    assert client.post(f"/customers/duplicates/{suspicion.pk}/merge/", {"keep": vera.pk}).status_code == 404
    with schema_context(business_a.schema):
        assert DuplicateSuspicion.objects.get().dismissed_at is None and Customer.objects.count() == 2


def test_german_texts(business_a, pair):
    _vera, newer, _suspicion = pair
    client = log_in_as(business_a, "manager", language="de")
    html = client.get("/customers/duplicates/").content.decode()
    assert "Wahrscheinliche Duplikate" in html and "Gleiche Telefonnummer" in html
    assert "In den älteren Eintrag zusammenführen" in html and "Nicht dieselbe Person" in html
    detail = client.get(f"/customers/{newer.pk}/").content.decode()
    assert "Dies ist möglicherweise dieselbe Person wie ein anderer Kundeneintrag." in detail
    assert "Wahrscheinliche Duplikate (1)" in client.get("/customers/").content.decode()
