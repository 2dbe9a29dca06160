"""The business list (search, filters, activity counts) and a business's page."""

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.billing import services as billing_services
from termino.platform.billing.models import BillingAccount, Plan
from termino.platform.staffadmin import selectors
from termino.platform.tenancy.models import Tenant
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling.models import Appointment, Service
from tests.tenants.backoffice.helpers import make_user

from .conftest import forget_routing_cache

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)


def listed(client, **params) -> dict[str, object]:
    response = client.get("/staff/", params)
    assert response.status_code == 200
    return {tenant.slug: activity for tenant, activity, _url in response.context["rows"]}


def add_appointments(business, count: int, *, status: str = "confirmed", created_at=None) -> None:
    with schema_context(business.schema):
        service = Service.objects.create(name=f"Cut {next(_keys)}", duration_minutes=30)
        start = timezone.now() + timedelta(days=3)
        for i in range(count):
            appointment = Appointment.objects.create(
                service=service,
                start=start + timedelta(hours=i),
                end=start + timedelta(hours=i, minutes=30),
                status=status,
                hold_expires_at=start if status == "held" else None,
            )
            if created_at:
                Appointment.objects.filter(pk=appointment.pk).update(created_at=created_at)


def add_messages(business, count: int, *, status: str = "sent", channel: str = "sms", sent_at=None) -> None:
    with schema_context(business.schema):
        for _ in range(count):
            OutboxMessage.objects.create(
                channel=channel,
                kind="reminder",
                recipient="+491701234567",
                due_at=timezone.now(),
                status=status,
                sent_at=sent_at or (timezone.now() if status in ("sent", "delivered") else None),
                idempotency_key=f"staffadmin-test:{next(_keys)}",
            )


def counts(business) -> tuple[int, int]:
    activity = selectors.business_activity([Tenant.objects.get(pk=business.tenant.pk)])[business.tenant.pk]
    return activity.appointments_this_month, activity.sms_this_month


def test_lists_businesses_with_plan_status_and_links(staffed, business_a, business_b):
    _staff, client = staffed
    response = client.get("/staff/")
    html = response.content.decode()
    slugs = [tenant.slug for tenant, _activity, _url in response.context["rows"]]
    assert business_a.tenant.slug in slugs and business_b.tenant.slug in slugs
    assert None not in slugs  # neither the platform's own row nor spare schemas
    assert "Alpha Salon" in html and "Beta Praxis" in html and "Starter" in html and "Trial" in html
    assert f'href="http://{business_a.host}:8000/"' in html
    assert f'href="/staff/businesses/{business_a.tenant.pk}/"' in html


def test_counts_appointments_sms_and_last_login_of_this_month(staffed, business_a, business_b):
    _staff, client = staffed
    before_a, before_b = listed(client)[business_a.tenant.slug], listed(client)[business_b.tenant.slug]
    add_appointments(business_a, 3)
    add_appointments(business_a, 1, status="held")  # someone still filling in the form
    add_appointments(business_a, 2, created_at=timezone.now() - timedelta(days=40))  # booked last month
    add_messages(business_a, 2, status="sent")
    add_messages(business_a, 1, status="delivered")
    add_messages(business_a, 1, status="queued")
    add_messages(business_a, 1, status="failed")
    add_messages(business_a, 1, channel="email")
    add_messages(business_a, 1, sent_at=timezone.now() - timedelta(days=40))
    login_at = timezone.now().replace(microsecond=0)
    with schema_context(business_a.schema):
        get_user_model().objects.filter(username=business_a.owner_username).update(last_login=login_at)

    forget_routing_cache()  # the counts are kept for a minute; start afresh
    rows = listed(client)
    a, b = rows[business_a.tenant.slug], rows[business_b.tenant.slug]
    assert a.appointments_this_month == before_a.appointments_this_month + 3
    assert a.sms_this_month == before_a.sms_this_month + 3
    assert a.last_login == login_at
    assert (b.appointments_this_month, b.sms_this_month) == (
        before_b.appointments_this_month,
        before_b.sms_this_month,
    )


def test_counts_are_one_query_per_schema_and_then_cached(staffed, business_a):
    _staff, client = staffed
    forget_routing_cache()
    shown = Tenant.objects.exclude(status__in=("preparing", "spare")).exclude(schema_name="public").count()
    with CaptureQueriesContext(connection) as first:
        client.get("/staff/")
    activity_queries = [q for q in first.captured_queries if "scheduling_appointment" in q["sql"]]
    assert len(activity_queries) == min(shown, 50)

    add_appointments(business_a, 1)
    with CaptureQueriesContext(connection) as second:
        client.get("/staff/")
    assert not [q for q in second.captured_queries if "scheduling_appointment" in q["sql"]]


@pytest.mark.parametrize(
    ("query", "expect_a", "expect_b"),
    [
        ("alpha sal", True, False),  # company
        ("beta-pra", False, True),  # subdomain
        ("owner@alpha-salon.example", True, False),  # owner's e-mail
        ("030 12345678", True, True),  # phone as people type it (both have this number)
        ("+49 30 1234 5678", True, True),
        ("0171 9999999", False, False),
        ("no such business", False, False),
    ],
)
def test_search(staffed, business_a, business_b, query, expect_a, expect_b):
    _staff, client = staffed
    rows = listed(client, q=query)
    assert (business_a.tenant.slug in rows) is expect_a
    assert (business_b.tenant.slug in rows) is expect_b


def test_filter_by_status_and_plan(staffed, business_a, business_b):
    _staff, client = staffed
    billing_services.billing_staff_suspend(tenant=business_b.tenant, reason="test")
    BillingAccount.objects.filter(tenant=business_a.tenant).update(plan=Plan.objects.get(code="professional"))

    rows = listed(client, status="suspended")
    assert business_b.tenant.slug in rows and business_a.tenant.slug not in rows
    rows = listed(client, status="trial")
    assert business_a.tenant.slug in rows and business_b.tenant.slug not in rows
    rows = listed(client, plan="professional")
    assert business_a.tenant.slug in rows and business_b.tenant.slug not in rows
    rows = listed(client, plan="professional", status="suspended")
    assert business_a.tenant.slug not in rows and business_b.tenant.slug not in rows


def test_unknown_filter_values_show_everything_and_a_friendly_empty_state(staffed, business_a):
    _staff, client = staffed
    response = client.get("/staff/", {"status": "spare", "plan": "gold"})
    assert response.status_code == 200
    assert business_a.tenant.slug in [t.slug for t, _a, _u in response.context["rows"]]
    response = client.get("/staff/", {"q": "nothing matches this"})
    assert "No business matches this search." in response.content.decode()


def test_pages_of_fifty(staffed, business_a):
    _staff, client = staffed
    response = client.get("/staff/", {"page": "999"})
    assert response.status_code == 200  # the last page, not an error


def test_detail_page(staffed, business_a):
    _staff, client = staffed
    manager = make_user(business_a, "manager")
    billing_services.billing_staff_suspend(tenant=business_a.tenant, reason="card fraud")
    billing_services.billing_staff_reactivate(tenant=business_a.tenant, reason="cleared")
    forget_routing_cache()

    response = client.get(f"/staff/businesses/{business_a.tenant.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alpha Salon" in html and "Erika Mustermann" in html
    assert business_a.owner_username in html and manager.username in html  # users with their roles
    assert "Owner" in html and "Manager" in html
    assert "platform staff: card fraud" in html and "platform staff: cleared" in html  # status trail
    assert "Billing account" in html and "Starter" in html
    assert f"{business_a.tenant.slug}.localhost" in html  # domains
    for form in ("suspend_form", "trial_form", "sms_lock_form", "impersonate_form"):
        assert f'id="{form}"' in html
    assert 'id="reactivate_form"' not in html  # not suspended


def test_detail_page_in_german(staff, business_a):
    from .conftest import sign_in, staff_client

    client = sign_in(staff, staff_client("de"))
    response = client.get(f"/staff/businesses/{business_a.tenant.pk}/")
    assert response.status_code == 200 and '<html lang="de">' in response.content.decode()


def test_unknown_business_is_404(staffed):
    _staff, client = staffed
    public = Tenant.objects.get(schema_name="public")
    assert client.get(f"/staff/businesses/{public.pk}/").status_code == 404
    spare = Tenant.objects.filter(status="spare").first()
    if spare:
        assert client.get(f"/staff/businesses/{spare.pk}/").status_code == 404
    assert client.get("/staff/businesses/999999/").status_code == 404
