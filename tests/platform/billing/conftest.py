"""Fixtures for billing: the fake Stripe server, webhook delivery, and a subscribed business."""

import pytest
from django.conf import settings
from django.core.cache import caches
from django.utils import translation

from termino.platform.billing import services
from termino.platform.billing.models import BillingAccount, Plan
from termino.platform.tenancy import routing
from termino.platform.tenancy.models import Tenant
from tests.conftest import client_for

from .fake_stripe import FakeStripe

API_KEY = "sk_test_termino_fake_key_0001"
WEBHOOK_SECRET = "whsec_termino_fake_secret"


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in English; the project's default language is German."""
    with translation.override("en"):
        yield


@pytest.fixture
def fake_stripe(settings):
    fake = FakeStripe(api_key=API_KEY, webhook_secret=WEBHOOK_SECRET).start()
    settings.STRIPE_API_BASE = fake.base_url
    settings.STRIPE_SECRET_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    yield fake
    fake.stop()


def deliver(fake: FakeStripe, *events: dict):
    """POST each event to the webhook at the platform's host, signed as Stripe signs; the last response."""
    response = None
    for event in events:
        body, signature = fake.signed(event)
        response = client_for(settings.BASE_DOMAIN).post(
            "/billing/webhook/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
        assert response.status_code == 200, response.content
    return response


def account_of(business) -> BillingAccount:
    return BillingAccount.objects.select_related("plan").get(tenant_id=business.tenant.pk)


def status_of(business) -> str:
    return Tenant.objects.values_list("status", flat=True).get(pk=business.tenant.pk)


def subscribe(fake: FakeStripe, business, plan: str = "professional", interval: str = "month") -> str:
    """Subscribe through Checkout and the webhook, as a paying customer would. Returns the subscription id."""
    page = services.billing_checkout_start(
        tenant=business.tenant, plan=Plan.objects.get(code=plan), interval=interval
    )
    deliver(fake, *fake.complete_checkout(page.id))
    return fake.sessions[page.id]["object"]["subscription"]


def forget_routing_cache() -> None:
    """Tests run in a transaction that never commits, so the on-commit cache invalidation never runs."""
    caches["platform"].clear()
    routing.forget_local_hosts()
