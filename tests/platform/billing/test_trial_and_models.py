"""The trial every business starts with, trial extensions, the beat entry, and the database's rules."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from termino.platform.billing import services
from termino.platform.billing.models import BillingAccount, Plan, StatusChange, StripeEvent
from termino.platform.tenancy.models import Tenant, TenantStatus
from termino.shared.errors import InvalidRequest

from .conftest import account_of, status_of

pytestmark = pytest.mark.django_db


def test_signup_opens_a_14_day_trial_on_starter_without_a_card(business_a, business_b):
    for business in (business_a, business_b):
        account = account_of(business)
        assert account.plan.code == "starter"
        assert account.trial_ends_at == business.tenant.activated_at + timedelta(days=14)
        assert account.stripe_customer_id == "" and account.stripe_subscription_id == ""
        assert status_of(business) == TenantStatus.TRIAL


def test_opening_an_account_twice_keeps_the_first(business_a):
    first = account_of(business_a)
    assert services.billing_account_open(tenant=business_a.tenant) == first
    assert BillingAccount.objects.filter(tenant=business_a.tenant).count() == 1


def test_the_trial_opens_when_provisioning_saves_the_business_as_trial(business_a):
    BillingAccount.objects.filter(tenant=business_a.tenant).delete()
    tenant = Tenant.objects.get(pk=business_a.tenant.pk)
    tenant.save()  # what tenant_provision does when it claims a spare
    assert account_of(business_a).plan.code == "starter"


def test_extending_a_trial_reopens_a_business_suspended_for_its_end(business_a):
    BillingAccount.objects.filter(tenant=business_a.tenant).update(
        trial_ends_at=timezone.now() - timedelta(days=1)
    )
    services.billing_overdue_suspend()
    assert status_of(business_a) == TenantStatus.SUSPENDED
    services.billing_trial_extend(tenant=business_a.tenant, days=7, reason="asked nicely")
    assert status_of(business_a) == TenantStatus.TRIAL
    assert abs(account_of(business_a).trial_ends_at - (timezone.now() + timedelta(days=7))) < timedelta(
        minutes=1
    )
    with pytest.raises(InvalidRequest):
        services.billing_trial_extend(tenant=business_a.tenant, days=0, reason="x")


def test_suspension_is_checked_by_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["billing-suspend-overdue"]
    assert entry["task"] == "billing.suspend_overdue" and entry["schedule"] <= 3600


def _violates(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Plan.objects.create(**fields)


def test_plans_are_checked_by_the_database():
    base = {
        "code": "extra",
        "name": "Extra",
        "price_monthly_cents": 100,
        "price_yearly_cents": 1000,
        "max_staff": 1,
        "sms_per_month": 0,
    }
    _violates(**{**base, "price_monthly_cents": 0})
    _violates(**{**base, "max_staff": 0})
    _violates(**{**base, "code": "Bad Code"})
    _violates(**{**base, "name": ""})
    _violates(**{**base, "code": "starter"})
    Plan.objects.filter(code="starter").update(stripe_price_monthly="price_1")
    _violates(**{**base, "stripe_price_monthly": "price_1"})
    Plan.objects.create(**base)  # two plans without Stripe prices are fine
    Plan.objects.create(**{**base, "code": "extra-2"})


def test_billing_accounts_are_checked_by_the_database(business_a, business_b):
    BillingAccount.objects.filter(tenant=business_a.tenant).update(stripe_customer_id="cus_1")
    for fields in (
        {"stripe_customer_id": "cus_1"},  # one Stripe customer per business
        {"stripe_subscription_id": "sub_1"},  # a subscription needs a customer
        {"subscription_status": "active"},  # a status needs a subscription
        {"interval": "week"},
        {"extra_sms_credits": -1},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            BillingAccount.objects.filter(tenant=business_b.tenant).update(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingAccount.objects.create(
            tenant=business_a.tenant, plan=Plan.objects.first(), trial_ends_at=timezone.now()
        )


def test_events_and_status_changes_are_checked_by_the_database(business_a):
    event = {"event_id": "evt_1", "type": "x", "created": timezone.now(), "payload": {}}
    StripeEvent.objects.create(**event)
    for fields in ({}, {"event_id": "not_an_event"}, {"event_id": "evt_2", "type": ""}):
        with pytest.raises(IntegrityError), transaction.atomic():
            StripeEvent.objects.create(**{**event, **fields})
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusChange.objects.create(
            tenant=business_a.tenant, old_status="trial", new_status="trial", reason="x"
        )
