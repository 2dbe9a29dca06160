"""The owner's billing page in the backoffice: /billing/ at the business's host."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.billing import services
from termino.platform.billing.models import BillingAccount
from termino.platform.tenancy.models import TenantStatus
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as

from .conftest import account_of, deliver, forget_routing_cache, subscribe

pytestmark = pytest.mark.django_db


def test_owner_sees_plan_status_limits_and_usage(business_a, fake_stripe):
    page = log_in_as(business_a).get("/billing/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Plan and billing" in html
    assert "Starter" in html and "Professional" in html and "Business" in html
    assert "Trial" in html and "Days left in your trial" in html
    assert "1 of 2" in html  # team members with a login
    assert "0 of 100" in html  # SMS this month
    assert 'action="/billing/checkout/"' in html and 'action="/billing/sms/"' in html
    assert "Manage payment, invoices, cancellation" not in html  # no Stripe customer yet


def test_page_renders_in_german(business_a, fake_stripe):
    response = log_in_as(business_a, language="de").get("/billing/")
    assert response.status_code == 200
    assert '<html lang="de">' in response.content.decode()


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_only_the_owner(business_a, role):
    assert log_in_as(business_a, role).get("/billing/").status_code == 403
    assert (
        log_in_as(business_a, role)
        .post("/billing/checkout/", {"plan": "starter", "interval": "month"})
        .status_code
        == 403
    )


def test_anonymous_is_sent_to_login(business_a):
    response = client_for(business_a.host).get("/billing/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client_for(business_a.host).post("/billing/portal/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_another_business_session_is_unknown_here(business_a, business_b, fake_stripe):
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b).cookies
    response = stolen.get("/billing/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = stolen.post("/billing/checkout/", {"plan": "starter", "interval": "month"})
    assert response.status_code == 302
    assert fake_stripe.requests == []


def test_each_owner_sees_their_own_business(business_a, business_b, fake_stripe):
    subscribe(fake_stripe, business_a, plan="business")
    html_b = log_in_as(business_b).get("/billing/").content.decode()
    assert "Days left in your trial" in html_b and "Manage payment" not in html_b


def test_choosing_a_plan_redirects_to_stripe_checkout(business_a, fake_stripe):
    response = log_in_as(business_a).post("/billing/checkout/", {"plan": "professional", "interval": "year"})
    assert response.status_code == 303
    (session_id,) = fake_stripe.sessions
    assert response["Location"] == f"{fake_stripe.base_url}/c/pay/{session_id}"
    assert fake_stripe.sessions[session_id]["params"]["metadata"]["interval"] == "year"


@pytest.mark.parametrize(
    "data",
    [
        {"plan": "platinum", "interval": "month"},
        {"plan": "starter", "interval": "weekly"},
        {"plan": "", "interval": "month"},
        {},
    ],
)
def test_invalid_choices_are_refused_and_nothing_reaches_stripe(business_a, fake_stripe, data):
    response = log_in_as(business_a).post("/billing/checkout/", data)
    assert response.status_code == 400
    assert 'class="error-box"' in response.content.decode()
    assert fake_stripe.requests == []


def test_the_current_plan_cannot_be_bought_twice(business_a, fake_stripe):
    subscribe(fake_stripe, business_a, plan="professional", interval="month")
    requests = len(fake_stripe.requests)
    response = log_in_as(business_a).post("/billing/checkout/", {"plan": "professional", "interval": "month"})
    assert response.status_code == 400 and "You already have this plan." in response.content.decode()
    assert len(fake_stripe.requests) == requests


def test_portal_redirects_once_there_is_a_customer(business_a, fake_stripe):
    client = log_in_as(business_a)
    response = client.post("/billing/portal/")
    assert response.status_code == 400 and "choose a plan first" in response.content.decode()
    subscribe(fake_stripe, business_a)
    assert "Manage payment, invoices, cancellation" in client.get("/billing/").content.decode()
    response = client.post("/billing/portal/")
    assert response.status_code == 303
    (portal_id,) = fake_stripe.portal_sessions
    assert response["Location"] == fake_stripe.portal_sessions[portal_id]["url"]


def test_buying_an_sms_pack_redirects_to_checkout(business_a, fake_stripe):
    client = log_in_as(business_a)
    response = client.post("/billing/sms/", {"pack": "sms-100"})
    assert response.status_code == 303
    assert response["Location"].startswith(f"{fake_stripe.base_url}/c/pay/")
    assert client.post("/billing/sms/", {"pack": "sms-1"}).status_code == 400
    assert len(fake_stripe.sessions) == 1


def test_stripe_failing_shows_a_readable_error(business_a, fake_stripe, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_wrong"
    response = log_in_as(business_a).post("/billing/checkout/", {"plan": "starter", "interval": "month"})
    assert response.status_code == 502
    assert "Payment is unavailable right now" in response.content.decode()


def test_without_stripe_the_buttons_are_off(business_a, settings):
    settings.STRIPE_SECRET_KEY = ""
    html = log_in_as(business_a).get("/billing/").content.decode()
    assert "Online payment is not set up on this installation yet." in html
    assert "disabled" in html


def test_post_only(business_a):
    client = log_in_as(business_a)
    for path in ("/billing/checkout/", "/billing/portal/", "/billing/sms/"):
        assert client.get(path).status_code == 405


def test_return_from_checkout_says_what_happens(business_a):
    client = log_in_as(business_a)
    assert "Stripe is confirming your payment" in client.get("/billing/?checkout=success").content.decode()
    assert "Nothing has been charged" in client.get("/billing/?checkout=cancelled").content.decode()


def test_past_due_shows_the_deadline_and_usage_counts_sms(business_a, fake_stripe):
    from termino.tenants.notifications.models import OutboxMessage

    sub_id = subscribe(fake_stripe, business_a)
    deliver(fake_stripe, *fake_stripe.fail_renewal(sub_id))
    with schema_context(business_a.schema):
        OutboxMessage.objects.create(
            channel="sms",
            kind="reminder",
            recipient="+491701234567",
            due_at=timezone.now(),
            status="sent",
            sent_at=timezone.now(),
            idempotency_key="page:1",
        )
    BillingAccount.objects.filter(tenant=business_a.tenant).update(extra_sms_credits=42)
    forget_routing_cache()
    html = log_in_as(business_a).get("/billing/").content.decode()
    assert "Your last payment did not go through" in html and "Please pay by" in html
    assert "1 of 400" in html and "Plus 42 bought SMS" in html


@pytest.mark.parametrize("status", [TenantStatus.SUSPENDED, TenantStatus.CANCELLED])
def test_a_closed_business_can_still_log_in_and_pay(business_a, fake_stripe, status):
    client = log_in_as(business_a)
    services.tenant_status_set(tenant=business_a.tenant, status=TenantStatus.ACTIVE, reason="test")
    services.tenant_status_set(tenant=business_a.tenant, status=status, reason="test")
    forget_routing_cache()
    assert client.get("/billing/").status_code == 200
    assert client.post("/billing/checkout/", {"plan": "starter", "interval": "month"}).status_code == 303
    # The rest of the backoffice is locked: the owner is sent to the billing page, the way back.
    assert client.get("/customers/")["Location"] == "/billing/"
    assert client_for(business_a.host).get("/book/").status_code == 403  # bookings are closed
    home = client.get("/")  # where the login lands: the billing page
    assert home.status_code == 302 and home["Location"] == "/billing/"
    assert client_for(business_a.host).get("/login/").status_code == 200


def test_billing_views_do_not_look_at_the_status(business_a, fake_stripe):
    """Whatever the routing lets through, the billing page itself works for a suspended business."""
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from termino.platform.tenancy.models import Tenant
    from termino.tenants.backoffice import billing_views

    services.tenant_status_set(tenant=business_a.tenant, status=TenantStatus.SUSPENDED, reason="test")
    with schema_context(business_a.schema):
        from django.contrib.auth import get_user_model

        owner = get_user_model().objects.get(role="owner")
        for method, view, data in (
            ("get", billing_views.billing_index, None),
            ("post", billing_views.billing_checkout, {"plan": "starter", "interval": "month"}),
        ):
            request = getattr(RequestFactory(), method)("/billing/", data or {})
            request.tenant = Tenant.objects.get(pk=business_a.tenant.pk)
            request.user = owner
            request.session = SessionStore()
            request._messages = FallbackStorage(request)
            response = view(request)
            assert response.status_code in (200, 303)
    assert account_of(business_a).stripe_customer_id  # the checkout went through


@pytest.mark.parametrize(
    ("path", "open_"),
    [
        ("/billing/", True),
        ("/billing/checkout/", True),
        ("/login/", True),
        ("/logout/", True),
        ("/i18n/setlang/", True),
        ("/", False),
        ("/book/", False),
        ("/api/public/v1/services/", False),
        ("/customers/", False),
        ("/billingx/", False),
    ],
)
def test_what_a_closed_business_keeps_open(path, open_):
    from termino.platform.billing.access import closed_tenant_may_open

    assert closed_tenant_may_open(path) is open_
