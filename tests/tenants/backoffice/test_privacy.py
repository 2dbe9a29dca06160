"""A customer's rights in the backoffice: the privacy card, exports, restriction, objection, erasure, the
audit trail, and who may do what."""

import io
import json
import zipfile

import pytest
from django_tenants.utils import schema_context

from termino.tenants.crm.models import Consent, Customer
from termino.tenants.privacy.models import PersonalDataEvent
from termino.tenants.scheduling.models import Appointment
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.crm.factories import customer
from tests.tenants.privacy.factories import full_customer

pytestmark = pytest.mark.django_db


def in_a(business, fn, *args, **kwargs):
    with schema_context(business.schema):
        return fn(*args, **kwargs)


def page(response) -> str:
    return response.content.decode()


def events(business, **filters) -> list[tuple]:
    with schema_context(business.schema):
        return list(
            PersonalDataEvent.objects.filter(**filters)
            .order_by("id")
            .values_list("action", "customer_id", "actor_label")
        )


@pytest.fixture
def anna(business_a):
    return in_a(business_a, full_customer)


# --- The card and the audit of viewing -----------------------------------------------------------------


def test_detail_shows_the_privacy_card_and_records_the_view(business_a, anna):
    client = log_in_as(business_a, "manager")
    html = page(client.get(f"/customers/{anna.pk}/"))
    assert 'id="privacy"' in html
    for url in ("export.json", "export-csv.zip", "restrict/", "object/", "erase/"):
        assert f"/privacy/customers/{anna.pk}/{url}" in html
    assert events(business_a) == [("view", anna.pk, events(business_a)[0][2])]
    assert "Manager" in events(business_a)[0][2]


def test_staff_see_no_privacy_card_and_may_not_use_it(business_a, anna):
    client = log_in_as(business_a, "staff")
    assert 'id="privacy"' not in page(client.get(f"/customers/{anna.pk}/"))
    for path in ("export.json", "export-csv.zip", "erase/"):
        assert client.get(f"/privacy/customers/{anna.pk}/{path}").status_code == 403
    for path in ("restrict/", "unrestrict/", "object/", "erase/"):
        assert (
            client.post(f"/privacy/customers/{anna.pk}/{path}", {"confirm_name": "Anna Müller"}).status_code
            == 403
        )
    for path in (
        "/privacy/log/",
        "/privacy/requests/",
        "/privacy/business/export.zip",
        "/privacy/business/close/",
    ):
        assert client.get(path).status_code == 403
    assert in_a(business_a, Customer.objects.filter(pk=anna.pk).exists)
    assert [e[0] for e in events(business_a)] == ["view"]  # only the staff member's look at the page


def test_managers_may_not_export_the_business_or_close_it(business_a):
    client = log_in_as(business_a, "manager")
    assert client.get("/privacy/business/export.zip").status_code == 403
    assert client.post("/privacy/business/close/", {"password": "x", "understood": "on"}).status_code == 403


# --- Exports -------------------------------------------------------------------------------------------


def test_export_json_and_csv_downloads_are_complete_and_recorded(business_a, anna):
    client = log_in_as(business_a, "manager")
    response = client.get(f"/privacy/customers/{anna.pk}/export.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"] and response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["customer"]["email"] == "anna@example.com"
    assert len(data["appointments"]) == 2 and len(data["notes"]) == 2 and len(data["messages"]) == 2
    response = client.get(f"/privacy/customers/{anna.pk}/export-csv.zip")
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert set(names) == {
        "customer.csv",
        "notes.csv",
        "consents.csv",
        "appointments.csv",
        "messages.csv",
        "privacy_requests.csv",
        "processing_log.csv",
        "waitlist.csv",
        "waitlist_offers.csv",
        "payments.csv",
    }
    with schema_context(business_a.schema):
        exports = list(
            PersonalDataEvent.objects.filter(action="export").order_by("id").values_list("details", flat=True)
        )
    assert exports == [{"format": "json"}, {"format": "csv"}]


def test_the_list_export_is_recorded(business_a, anna):
    client = log_in_as(business_a, "manager")
    response = client.get("/customers/export.csv")
    assert "Müller" in b"".join(response.streaming_content).decode()
    assert events(business_a, action="export")[0][:2] == ("export", None)


# --- Restriction ---------------------------------------------------------------------------------------


def test_restriction_hides_the_customer_from_managers_but_not_the_owner(business_a, anna):
    manager = log_in_as(business_a, "manager")
    response = manager.post(f"/privacy/customers/{anna.pk}/restrict/")
    assert response.status_code == 302 and response["Location"] == "/customers/"
    with schema_context(business_a.schema):
        assert Customer.objects.get(pk=anna.pk).processing_restricted
    # Managers: gone from the list, search, the calendar's search, exports, and the detail page.
    assert "Müller" not in page(manager.get("/customers/"))
    assert "Müller" not in page(manager.get("/customers/", {"q": "mül"}))
    assert manager.get("/customers/search.json", {"q": "mül"}).json()["results"] == []
    assert "Müller" not in b"".join(manager.get("/customers/export.csv").streaming_content).decode()
    assert manager.get(f"/customers/{anna.pk}/").status_code == 404
    assert manager.get(f"/customers/{anna.pk}/edit/").status_code == 404
    assert manager.get(f"/privacy/customers/{anna.pk}/export.json").status_code == 404
    assert manager.post(f"/privacy/customers/{anna.pk}/unrestrict/").status_code == 404
    # The owner: still listed (marked), searchable, exportable, and may lift the restriction.
    owner = log_in_as(business_a)
    listing = page(owner.get("/customers/"))
    assert "Müller" in listing and "Restricted" in listing
    assert owner.get("/customers/search.json", {"q": "mül"}).json()["results"][0]["id"] == anna.pk
    assert "Müller" in b"".join(owner.get("/customers/export.csv").streaming_content).decode()
    assert "Processing of this customer" in page(owner.get(f"/customers/{anna.pk}/"))
    assert owner.get(f"/privacy/customers/{anna.pk}/export.json").status_code == 200
    response = owner.post(f"/privacy/customers/{anna.pk}/unrestrict/")
    assert response["Location"] == f"/customers/{anna.pk}/#privacy"
    assert manager.get(f"/customers/{anna.pk}/").status_code == 200
    actions = [e[0] for e in events(business_a)]
    assert actions.count("restrict") == 1 and actions.count("unrestrict") == 1


def test_restrict_and_object_need_a_post(business_a, anna):
    client = log_in_as(business_a, "manager")
    assert client.get(f"/privacy/customers/{anna.pk}/restrict/").status_code == 405
    assert client.get(f"/privacy/customers/{anna.pk}/object/").status_code == 405


# --- Objection -----------------------------------------------------------------------------------------


def test_objection_is_recorded(business_a, anna):
    client = log_in_as(business_a, "manager")
    response = client.post(f"/privacy/customers/{anna.pk}/object/")
    assert response["Location"] == f"/customers/{anna.pk}/#privacy"
    with schema_context(business_a.schema):
        latest = Consent.objects.filter(customer=anna, kind="marketing").latest("recorded_at", "id")
    assert latest.granted is False
    assert "Objected" in page(client.get(f"/customers/{anna.pk}/"))
    assert ("object", anna.pk) in [e[:2] for e in events(business_a)]


# --- Erasure -------------------------------------------------------------------------------------------


def test_erase_page_says_what_goes_and_what_stays(business_a, anna):
    html = page(log_in_as(business_a, "manager").get(f"/privacy/customers/{anna.pk}/erase/"))
    assert "Notes by the team: 2" in html and "Consent records: 3" in html
    assert "Appointments: 2, with service" in html and "This cannot be undone." in html
    assert "Anna Müller" in html


def test_erase_needs_the_name_typed(business_a, anna):
    client = log_in_as(business_a, "manager")
    response = client.post(f"/privacy/customers/{anna.pk}/erase/", {"confirm_name": "Anna Meier"})
    assert response.status_code == 400 and "The name does not match" in page(response)
    response = client.post(f"/privacy/customers/{anna.pk}/erase/", {"confirm_name": ""})
    assert response.status_code == 400
    assert in_a(business_a, Customer.objects.filter(pk=anna.pk).exists)
    assert "erase" not in [e[0] for e in events(business_a)]


def test_erase_deletes_the_customer_and_keeps_the_appointments(business_a, anna):
    client = log_in_as(business_a, "manager")
    response = client.post(f"/privacy/customers/{anna.pk}/erase/", {"confirm_name": "  anna   müller "})
    assert response.status_code == 302 and response["Location"] == "/customers/"
    with schema_context(business_a.schema):
        assert not Customer.objects.filter(pk=anna.pk).exists()
        assert Appointment.objects.filter(customer__isnull=True, service__name="Farbe & Schnitt").count() == 2
    assert "Appointments kept without a name: 2" in page(client.get("/customers/"))
    assert client.get(f"/customers/{anna.pk}/").status_code == 404
    assert (
        client.post(f"/privacy/customers/{anna.pk}/erase/", {"confirm_name": "Anna Müller"}).status_code
        == 404
    )
    log = page(client.get("/privacy/log/", {"customer": anna.pk}))
    assert f"Erased customer no. {anna.pk}" in log and "Anna" not in log.split("<main")[1]


def test_owner_may_erase_too(business_a, anna):
    client = log_in_as(business_a)
    assert (
        client.post(f"/privacy/customers/{anna.pk}/erase/", {"confirm_name": "Anna Müller"}).status_code
        == 302
    )


# --- Changes leave a trace -----------------------------------------------------------------------------


def test_changes_to_a_customer_are_recorded_by_field_name(business_a):
    emil = in_a(business_a, customer, "Weiß", "Emil")
    client = log_in_as(business_a, "staff")
    client.post(
        f"/customers/{emil.pk}/edit/",
        {
            "first_name": "Emil",
            "last_name": "Weiss",
            "email": "emil@example.com",
            "phone": "",
            "notes": "",
            "tags": "",
        },
    )
    client.post(f"/customers/{emil.pk}/notes/", {"text": "Neu"})
    client.post(f"/customers/{emil.pk}/tags/", {"tags": "stamm"})
    client.post(
        "/customers/new/",
        {"first_name": "Neu", "last_name": "Kundin", "email": "", "phone": "", "notes": "", "tags": ""},
    )
    with schema_context(business_a.schema):
        changes = list(
            PersonalDataEvent.objects.filter(action="change").order_by("id").values_list("details", flat=True)
        )
    assert changes[0] == {"fields": ["last_name", "email"]}
    assert (
        "note_added" in changes[1]
        and changes[2] == {"fields": ["tags"]}
        and changes[3] == {"operation": "create"}
    )
    # The trail names the fields, never the values.
    assert "emil@example.com" not in json.dumps(changes)


# --- The audit trail page ------------------------------------------------------------------------------


def test_log_lists_and_filters_events(business_a, anna):
    emil = in_a(business_a, customer, "Weiß", "Emil")
    client = log_in_as(business_a, "manager")
    client.get(f"/customers/{anna.pk}/")
    client.get(f"/customers/{emil.pk}/")
    client.get(f"/privacy/customers/{anna.pk}/export.json")
    html = page(client.get("/privacy/log/"))
    assert html.count("Viewed") >= 2 and "Exported" in html and "Format: JSON" in html and "127.0.0.1" in html
    only_anna = page(client.get("/privacy/log/", {"customer": anna.pk}))
    assert "Müller" in only_anna and "Weiß" not in only_anna
    only_exports = page(client.get("/privacy/log/", {"action": "export"}))
    assert "Exported" in only_exports and "Viewed</span>" not in only_exports
    response = client.get("/privacy/log/", {"customer": "abc", "action": "nonsense"})
    assert response.status_code == 200 and "error-box" in page(response)


# --- Other businesses ----------------------------------------------------------------------------------


def test_other_businesses_cannot_reach_a_customer(business_a, business_b, anna):
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b).cookies
    for path in (f"/privacy/customers/{anna.pk}/export.json", "/privacy/log/", "/privacy/requests/"):
        response = stolen.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = stolen.post(f"/privacy/customers/{anna.pk}/erase/", {"confirm_name": "Anna Müller"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    # B's own login at B's host with A's ids: not found.
    at_b = log_in_as(business_b)
    for path in ("export.json", "export-csv.zip", "erase/"):
        assert at_b.get(f"/privacy/customers/{anna.pk}/{path}").status_code == 404
    assert at_b.post(f"/privacy/customers/{anna.pk}/restrict/").status_code == 404
    assert (
        at_b.post(f"/privacy/customers/{anna.pk}/erase/", {"confirm_name": "Anna Müller"}).status_code == 404
    )
    assert in_a(business_a, Customer.objects.filter(pk=anna.pk, processing_restricted=False).exists)
    assert events(business_a) == []
