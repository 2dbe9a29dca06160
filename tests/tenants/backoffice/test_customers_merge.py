"""Merging two entries of one person: choose, see what will happen, confirm."""

import pytest
from django_tenants.utils import schema_context

from termino.tenants.crm.models import Customer, CustomerNote
from termino.tenants.scheduling.models import Appointment
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.crm.factories import appointment, customer, note

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(business_a):
    with schema_context(business_a.schema):
        keep = customer("Müller", "Anna", email="anna@example.com", tags=["vip"])
        dup = customer("Mueller", "anna", phone="+491712345678", tags=["farbe"])
        appointment(dup, days=-3, status="no_show")
        note(dup, "Kommt mit Hund.")
    return keep, dup


def test_choose_confirm_and_merge(business_a, pair):
    keep, dup = pair
    client = log_in_as(business_a, "manager")
    start = client.get("/customers/merge/", {"keep": keep.pk}).content.decode()
    assert "Likely duplicates" in start and f"duplicate={dup.pk}" in start
    found = client.get("/customers/merge/", {"keep": keep.pk, "q": "0171 234"}).content.decode()
    assert f"keep={keep.pk}&amp;duplicate={dup.pk}" in found
    assert "Choose" in client.get("/customers/merge/", {"q": "mül"}).content.decode()

    preview = client.get("/customers/merge/", {"keep": keep.pk, "duplicate": dup.pk})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "Moves over: Appointments (1)" in html and "Moves over: Notes (1)" in html
    assert "Phone is filled in: 0171 2345678" in html and "Tags afterwards:" in html
    assert f"?keep={dup.pk}&amp;duplicate={keep.pk}" in html  # swap
    with schema_context(business_a.schema):
        assert Customer.objects.count() == 2  # looking changes nothing

    response = client.post("/customers/merge/", {"keep": keep.pk, "duplicate": dup.pk})
    assert response.status_code == 302 and response["Location"] == f"/customers/{keep.pk}/"
    with schema_context(business_a.schema):
        kept = Customer.objects.get()
        assert kept.pk == keep.pk and kept.phone == "+491712345678" and kept.tags == ["vip", "farbe"]
        assert Appointment.objects.get().customer_id == keep.pk
        assert CustomerNote.objects.filter(customer=kept).count() == 2


def test_bad_merge_requests(business_a, business_b, pair):
    keep, dup = pair
    client = log_in_as(business_a, "owner")
    assert client.get("/customers/merge/", {"keep": keep.pk, "duplicate": keep.pk}).status_code == 400
    assert client.get("/customers/merge/", {"keep": keep.pk, "duplicate": 999999}).status_code == 404
    assert client.get("/customers/merge/", {"keep": "abc"}).status_code == 404
    for data in (
        {"keep": keep.pk, "duplicate": keep.pk},
        {"keep": keep.pk},
        {"keep": keep.pk, "duplicate": 999999},
        {},
    ):
        assert client.post("/customers/merge/", data).status_code == 400, data
    with schema_context(business_a.schema):
        assert Customer.objects.count() == 2
    # A's ids at B's host: not B's customers, so nothing is found or merged.
    client_b = log_in_as(business_b, "owner")
    assert client_b.get("/customers/merge/", {"keep": keep.pk, "duplicate": dup.pk}).status_code == 404
    assert client_b.post("/customers/merge/", {"keep": keep.pk, "duplicate": dup.pk}).status_code == 400
    with schema_context(business_a.schema):
        assert Customer.objects.count() == 2
