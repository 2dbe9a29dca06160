"""The business's own rights on the Account page: all its data as a ZIP, and closing the account."""

import csv
import io
import json
import zipfile
from datetime import time, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.billing.models import BillingAccount, StatusChange
from termino.platform.tenancy.models import Tenant
from termino.tenants.business.models import BusinessSettings
from termino.tenants.privacy.exports import business_tables
from termino.tenants.privacy.models import PersonalDataEvent
from termino.tenants.scheduling.models import Closure, WeeklyHours
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as, make_user
from tests.tenants.privacy.factories import full_customer

pytestmark = pytest.mark.django_db

# Every table the issue names, by its name in the archive.
LISTED = [
    "crm_customer",
    "crm_customernote",
    "crm_consent",
    "scheduling_service",
    "scheduling_resource",
    "scheduling_resource_services",
    "scheduling_weeklyhours",
    "scheduling_closure",
    "scheduling_appointment",
    "scheduling_allocation",
    "notifications_outboxmessage",
    "notifications_messagetemplate",
    "accounts_user",
    "accounts_invitation",
    "business_businesssettings",
    "privacy_personaldataevent",
    "privacy_privacyrequest",
]


def test_account_page_offers_export_and_closing(business_a):
    html = log_in_as(business_a).get("/account/").content.decode()
    assert "/privacy/business/export.zip" in html and "/privacy/business/close/" in html


def test_business_export_contains_every_table_as_json_and_csv_without_secrets(business_a):
    make_user(business_a, "staff", staff_name="Jana")
    with schema_context(business_a.schema):
        anna = full_customer()
        WeeklyHours.objects.create(weekday=0, start=time(9), end=time(18))
        Closure.objects.create(start=timezone.now(), end=timezone.now() + timedelta(days=1), reason="Urlaub")
        BusinessSettings.current()
        tables = {m._meta.db_table for m in business_tables()}
    assert set(LISTED) <= tables
    assert "booking_idempotentrequest" not in tables and "django_session" not in tables

    response = log_in_as(business_a).get("/privacy/business/export.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="alpha-salon-')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    for table in LISTED:
        assert f"json/{table}.json" in names and f"csv/{table}.csv" in names, table
    assert {"manifest.json", "README.txt"} <= names

    customers = json.loads(archive.read("json/crm_customer.json"))
    assert [c["email"] for c in customers] == ["anna@example.com"] and customers[0]["tags"] == [
        "vip",
        "farbe",
    ]
    allocations = json.loads(archive.read("json/scheduling_allocation.json"))
    assert allocations[0]["period"]["bounds"] == "[)"
    users = json.loads(archive.read("json/accounts_user.json"))
    assert {u["role"] for u in users} == {"owner", "staff"}
    assert all("password" not in u for u in users)
    rows = list(
        csv.DictReader(
            io.StringIO(archive.read("csv/accounts_user.csv").decode().lstrip("\ufeff")), delimiter=";"
        )
    )
    assert len(rows) == 2 and "password" not in rows[0]
    appointments = json.loads(archive.read("json/scheduling_appointment.json"))
    assert all("manage_token" not in a for a in appointments) and len(appointments) == 2
    everything = b"".join(archive.read(n) for n in names)
    assert b"argon2" not in everything and b"pbkdf2" not in everything
    assert anna.last_name.encode() in archive.read("csv/crm_customer.csv")
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["tables"]["crm_customer"] == 1 and manifest["business"]["name"] == "Alpha Salon"
    with schema_context(business_a.schema):
        event = PersonalDataEvent.objects.get(action="export")
    assert event.details["scope"] == "business" and event.customer_id is None


def test_business_export_is_the_owners(business_a, business_b):
    assert log_in_as(business_a, "manager").get("/privacy/business/export.zip").status_code == 403
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b).cookies
    response = stolen.get("/privacy/business/export.zip")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- Closing -------------------------------------------------------------------------------------------


def status_of(business) -> str:
    return Tenant.objects.get(pk=business.tenant.pk).status


def test_close_page_explains_and_offers_the_export(business_a):
    html = log_in_as(business_a).get("/privacy/business/close/").content.decode()
    assert "is deleted for good after" in html
    assert "/privacy/business/export.zip" in html and 'type="password"' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"password": "wrong-password-1", "understood": "on"}, "The password is not correct."),
        ({"password": "", "understood": "on"}, "Please enter your password."),
        ({"password": "Kalender-Blau-2026"}, "Please confirm that you understand what happens."),
    ],
)
def test_closing_needs_the_password_and_the_confirmation(business_a, data, message):
    before = status_of(business_a)
    response = log_in_as(business_a).post("/privacy/business/close/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert status_of(business_a) == before
    assert not StatusChange.objects.filter(tenant_id=business_a.tenant.pk, reason="closed by owner").exists()


def test_closing_cancels_the_business(business_a):
    response = log_in_as(business_a).post(
        "/privacy/business/close/", {"password": "Kalender-Blau-2026", "understood": "on"}
    )
    assert response.status_code == 302 and response["Location"] == "/billing/"
    assert status_of(business_a) == "cancelled"
    change = StatusChange.objects.filter(tenant_id=business_a.tenant.pk).latest("id")
    assert (change.new_status, change.reason) == ("cancelled", "closed by owner")
    # The retention period starts now: the retention worker deletes the business when it is over.
    from termino.platform.billing.models import BillingAccount

    assert BillingAccount.objects.get(tenant_id=business_a.tenant.pk).cancelled_at is not None


def test_a_running_subscription_must_be_cancelled_first(business_a):
    BillingAccount.objects.filter(tenant_id=business_a.tenant.pk).update(
        subscription_status="active", stripe_customer_id="cus_test", stripe_subscription_id="sub_test"
    )
    client = log_in_as(business_a)
    assert "Your subscription is still running" in client.get("/privacy/business/close/").content.decode()
    response = client.post("/privacy/business/close/", {"password": "Kalender-Blau-2026", "understood": "on"})
    assert response.status_code == 400 and status_of(business_a) != "cancelled"
