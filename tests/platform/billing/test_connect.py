"""Connect at the platform: a business's Express account (onboarding link, status pending → enabled →
restricted with Stripe's reason), and the webhook of connected accounts: verified, stored by id, applied
once, in order."""

import pytest
from django.conf import settings
from django.utils import translation

from termino.platform.billing import connect
from termino.platform.billing.models import ConnectAccount, StripeEvent
from termino.platform.tenancy.routing import primary_url
from tests.conftest import client_for
from tests.tenants.payments.conftest import CONNECT_SECRET, deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(fake_stripe, settings):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    fake_stripe.connect_webhook_secret = CONNECT_SECRET
    return fake_stripe


def _account(business) -> ConnectAccount:
    return ConnectAccount.objects.get(tenant_id=business.tenant.pk)


def test_onboarding_creates_one_express_account_and_a_link(business_a, fake):
    first = connect.onboarding_start(tenant=business_a.tenant)
    second = connect.onboarding_start(tenant=business_a.tenant)
    assert first != second  # each link is single-use
    assert len(fake.accounts) == 1
    account = _account(business_a)
    assert (account.status, account.charges_enabled) == ("pending", False)
    created = next(r for r in fake.requests if r["path"] == "/v1/accounts")
    assert created["params"]["type"] == "express"
    assert created["params"]["metadata"]["tenant_id"] == str(business_a.tenant.pk)
    link = next(r for r in fake.requests if r["path"] == "/v1/account_links")["params"]
    assert link["return_url"] == primary_url(business_a.tenant, "/payments/connect/return/")
    assert link["refresh_url"] == primary_url(business_a.tenant, "/payments/connect/refresh/")
    with translation.override("en"):
        assert connect.reason_text(account) == "The onboarding at Stripe is not finished yet."


def test_account_updated_moves_the_status_and_shows_stripes_reason(business_a, fake):
    connect.onboarding_start(tenant=business_a.tenant)
    account_id = _account(business_a).stripe_account_id
    deliver(fake, *fake.complete_onboarding(account_id))
    assert _account(business_a).status == "enabled"
    assert connect.can_charge(business_a.tenant)
    deliver(fake, *fake.restrict_account(account_id, reason="requirements.past_due"))
    account = _account(business_a)
    assert (account.status, account.disabled_reason) == ("restricted", "requirements.past_due")
    assert account.currently_due == ["individual.verification.document"]
    with translation.override("en"):  # the webhook's request left the platform's language active
        assert connect.reason_text(account) == "Stripe needs more information from you (overdue)."
    assert not connect.can_charge(business_a.tenant)


def test_an_older_account_event_arriving_late_is_ignored(business_a, fake):
    connect.onboarding_start(tenant=business_a.tenant)
    account_id = _account(business_a).stripe_account_id
    enabled = fake.complete_onboarding(account_id)
    restricted = fake.restrict_account(account_id)
    deliver(fake, *restricted, *enabled)  # the newer first
    assert _account(business_a).status == "restricted"
    assert StripeEvent.objects.get(event_id=enabled[0]["id"]).result.startswith("ignored: older")


def test_events_of_the_same_second_are_settled_by_asking_stripe(business_a, fake):
    connect.onboarding_start(tenant=business_a.tenant)
    account_id = _account(business_a).stripe_account_id
    [enabled] = fake.complete_onboarding(account_id)
    [restricted] = fake.restrict_account(account_id)
    restricted["created"] = enabled["created"]
    fake.complete_onboarding(account_id)  # what Stripe has now: enabled
    deliver(fake, restricted, enabled)
    assert _account(business_a).status == "enabled"


def test_the_same_event_twice_is_stored_and_applied_once(business_a, fake):
    connect.onboarding_start(tenant=business_a.tenant)
    events = fake.complete_onboarding(_account(business_a).stripe_account_id)
    first = deliver(fake, *events)
    again = deliver(fake, *events)
    assert first.json()["result"].endswith("is enabled")
    assert again.json()["result"] == "duplicate: received before"
    assert StripeEvent.objects.filter(event_id=events[0]["id"]).count() == 1
    assert StripeEvent.objects.get(event_id=events[0]["id"]).tenant_id == business_a.tenant.pk


@pytest.mark.parametrize("case", ["unsigned", "wrong secret", "billing secret", "stale"])
def test_unverifiable_connect_webhooks_are_refused(business_a, fake, case):
    connect.onboarding_start(tenant=business_a.tenant)
    [event] = fake.complete_onboarding(_account(business_a).stripe_account_id)
    body, signature = {
        "unsigned": lambda: (fake.signed(event, secret=CONNECT_SECRET)[0], ""),
        "wrong secret": lambda: fake.signed(event, secret="whsec_other"),
        "billing secret": lambda: fake.signed(event, secret=fake.webhook_secret),
        "stale": lambda: fake.signed(event, secret=CONNECT_SECRET, timestamp=fake.clock - 3600),
    }[case]()
    response = client_for(settings.BASE_DOMAIN).post(
        "/billing/connect/webhook/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.filter(event_id=event["id"]).exists()
    assert _account(business_a).status == "pending"


def test_an_event_of_an_unknown_account_is_stored_and_ignored(fake):
    event = fake.event("account.updated", {"id": "acct_nobody", "object": "account"}, account="acct_nobody")
    assert deliver(fake, event).json()["result"] == "ignored: no business has this account"


def test_the_platform_fee_is_a_setting(settings):
    settings.PAYMENTS_PLATFORM_FEE_BPS, settings.PAYMENTS_PLATFORM_FEE_FIXED_CENTS = 100, 25
    assert connect.platform_fee(2000) == 45
    assert connect.platform_fee(10) == 10  # never more than the payment
    settings.PAYMENTS_PLATFORM_FEE_BPS, settings.PAYMENTS_PLATFORM_FEE_FIXED_CENTS = 0, 0
    assert connect.platform_fee(2000) == 0
