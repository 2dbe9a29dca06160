"""Fixtures for payments: the fake Stripe server with Connect, a business whose account is enabled, a
service that asks for a deposit, and delivery of connected-account events to the platform's endpoint."""

import pytest
from django.conf import settings
from django.utils import translation
from django_tenants.utils import schema_context

from termino.platform.billing import connect
from termino.platform.billing.models import ConnectAccount
from termino.tenants.payments.models import ServicePaymentRule
from tests.conftest import client_for
from tests.platform.billing.fake_stripe import FakeStripe
from tests.tenants.scheduling.factories import salon

API_KEY = "sk_test_termino_payments"
WEBHOOK_SECRET = "whsec_termino_billing"
CONNECT_SECRET = "whsec_termino_connect"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def fake_stripe(settings):
    fake = FakeStripe(
        api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, connect_webhook_secret=CONNECT_SECRET
    ).start()
    settings.STRIPE_API_BASE = fake.base_url
    settings.STRIPE_SECRET_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    settings.PAYMENTS_PLATFORM_FEE_BPS = 250
    settings.PAYMENTS_PLATFORM_FEE_FIXED_CENTS = 10
    yield fake
    fake.stop()


def deliver(fake: FakeStripe, *events: dict, expect: int = 200):
    """POST each event to the Connect webhook at the platform's host, signed; the last response."""
    response = None
    language = translation.get_language()
    for event in events:
        body, signature = fake.signed(event, secret=CONNECT_SECRET)
        response = client_for(settings.BASE_DOMAIN).post(
            "/billing/connect/webhook/",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
        )
        assert response.status_code == expect, response.content
    translation.activate(language)  # the platform's request leaves its own language active in the thread
    return response


def connect_business(fake: FakeStripe, business) -> str:
    """The business onboards at (fake) Stripe; returns its account id, enabled."""
    url = connect.onboarding_start(tenant=business.tenant)
    assert url.startswith(f"{fake.base_url}/connect/onboard/")
    account_id = ConnectAccount.objects.get(tenant_id=business.tenant.pk).stripe_account_id
    deliver(fake, *fake.complete_onboarding(account_id))
    return account_id


def deposit_service(kind: str = "deposit_fixed", amount_cents: int = 2000, percent: int = 0, price="48.00"):
    """A service (price 48 €) that asks for a payment; call inside the business's schema."""
    service, staff, _room = salon(price=price)
    ServicePaymentRule.objects.create(service=service, kind=kind, amount_cents=amount_cents, percent=percent)
    return service, staff


@pytest.fixture
def shop_a(business_a, fake_stripe):
    """Business A with its Stripe account enabled and a service with a 20 € deposit."""
    account = connect_business(fake_stripe, business_a)
    with schema_context(business_a.schema):
        service, staff = deposit_service()
    return business_a, account, service, staff
