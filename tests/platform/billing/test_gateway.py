"""The Stripe gateway against the fake server: what is sent, how Stripe's answers and errors come back."""

import pytest
from django_tenants.utils import schema_context

from termino.platform.billing import services, stripe_gateway
from termino.platform.billing.models import Plan
from termino.platform.tenancy.models import Domain
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as

from .conftest import account_of

pytestmark = pytest.mark.django_db


def _checkout_params(fake):
    return [r for r in fake.requests if r["path"] == "/v1/checkout/sessions"][-1]["params"]


def test_requests_carry_the_secret_key_as_bearer(business_a, fake_stripe):
    services.billing_customer_ensure(tenant=business_a.tenant)
    (request,) = fake_stripe.requests
    assert request["method"] == "POST" and request["path"] == "/v1/customers"
    assert request["headers"]["Authorization"] == "Bearer sk_test_termino_fake_key_0001"
    assert request["params"]["metadata"]["tenant_id"] == str(business_a.tenant.pk)
    assert request["params"]["email"] == business_a.tenant.email


def test_a_customer_is_created_once(business_a, fake_stripe):
    first = services.billing_customer_ensure(tenant=business_a.tenant)
    assert services.billing_customer_ensure(tenant=business_a.tenant) == first
    assert len(fake_stripe.customers) == 1
    assert account_of(business_a).stripe_customer_id == first


def test_checkout_session_for_a_subscription(business_a, fake_stripe):
    plan = Plan.objects.get(code="professional")
    page = services.billing_checkout_start(tenant=business_a.tenant, plan=plan, interval="month")
    params = _checkout_params(fake_stripe)
    tenant_id = str(business_a.tenant.pk)
    assert params["mode"] == "subscription"
    assert params["customer"] == account_of(business_a).stripe_customer_id
    assert params["client_reference_id"] == tenant_id
    assert params["metadata"] == {
        "tenant_id": tenant_id,
        "kind": "subscription",
        "plan": "professional",
        "interval": "month",
    }
    assert params["subscription_data"]["metadata"] == params["metadata"]
    price = params["line_items"][0]["price_data"]
    assert (price["currency"], price["unit_amount"], price["recurring"]) == (
        "eur",
        "3900",
        {"interval": "month"},
    )
    assert params["success_url"] == "http://alpha-salon.localhost:8000/billing/?checkout=success"
    assert params["cancel_url"] == "http://alpha-salon.localhost:8000/billing/?checkout=cancelled"
    assert params["locale"] == "de"
    assert page.url == fake_stripe.sessions[page.id]["object"]["url"]


def test_return_urls_come_from_the_primary_domain_not_the_host_header(business_a, fake_stripe):
    Domain.objects.create(domain="termine.alpha-salon.example", tenant=business_a.tenant, is_primary=False)
    client = client_for("termine.alpha-salon.example", "en")
    client.cookies = log_in_as(business_a).cookies  # same schema, same session store
    response = client.post("/billing/checkout/", {"plan": "starter", "interval": "month"})
    assert response.status_code == 303
    params = _checkout_params(fake_stripe)
    assert params["success_url"].startswith("http://alpha-salon.localhost:8000/billing/")
    assert "termine.alpha-salon.example" not in str(params)


def test_portal_session(business_a, fake_stripe):
    customer = services.billing_customer_ensure(tenant=business_a.tenant)
    page = services.billing_portal_start(tenant=business_a.tenant)
    portal = fake_stripe.portal_sessions[page.id]
    assert portal["customer"] == customer
    assert portal["return_url"] == "http://alpha-salon.localhost:8000/billing/"
    assert page.url == portal["url"]


def test_retrieve_subscription_returns_stripes_shape(business_a, fake_stripe):
    from .conftest import subscribe

    sub_id = subscribe(fake_stripe, business_a)
    sub = stripe_gateway.subscription_retrieve(sub_id)
    assert sub["object"] == "subscription" and sub["id"] == sub_id
    assert sub["items"]["data"][0]["current_period_end"] > sub["created"]


def test_missing_subscription_is_a_provider_error(fake_stripe):
    with pytest.raises(stripe_gateway.PaymentProviderError):
        stripe_gateway.subscription_retrieve("sub_missing")
    assert stripe_gateway.subscription_cancel("sub_missing") is None  # gone already: nothing to end


def test_a_wrong_api_key_gets_stripes_401_and_a_readable_error(business_a, fake_stripe, settings, caplog):
    settings.STRIPE_SECRET_KEY = "sk_test_wrong"
    with pytest.raises(stripe_gateway.PaymentProviderError) as exc:
        services.billing_customer_ensure(tenant=business_a.tenant)
    assert "Payment is unavailable right now" in exc.value.message
    assert "rejected our API key" in caplog.text
    assert fake_stripe.customers == {}
    assert account_of(business_a).stripe_customer_id == ""


def test_fake_answers_unauthenticated_requests_with_stripes_error_shape(fake_stripe):
    import json
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(f"{fake_stripe.base_url}/v1/subscriptions/sub_1")  # noqa: S310
    assert exc.value.code == 401
    error = json.loads(exc.value.read())["error"]
    assert error["type"] == "invalid_request_error" and "API key" in error["message"]


def test_not_configured_means_no_payment(business_a, settings):
    settings.STRIPE_SECRET_KEY = ""
    assert not stripe_gateway.configured()
    with pytest.raises(stripe_gateway.PaymentProviderError, match="not set up"):
        services.billing_customer_ensure(tenant=business_a.tenant)


def test_usage_is_counted_in_the_business_schema(business_a):
    from termino.platform.billing import selectors

    with schema_context(business_a.schema):
        assert selectors.staff_count(business_a.tenant) == 1
    assert selectors.staff_count(business_a.tenant) == 1  # the same from the public schema
