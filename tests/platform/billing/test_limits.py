"""Plan limits and usage: team members, SMS per month (bought credits on top), custom domain."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.billing import selectors, services
from termino.platform.billing.models import BillingAccount, Plan
from termino.platform.tenancy.models import TenantStatus
from termino.shared.errors import InvalidRequest
from termino.tenants.accounts.models import Invitation
from termino.tenants.notifications.models import OutboxMessage
from tests.tenants.backoffice.helpers import make_user

from .conftest import account_of

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)


def sms(business, *, status="sent", sent_at=None, channel="sms", count=1):
    with schema_context(business.schema):
        for _ in range(count):
            OutboxMessage.objects.create(
                channel=channel,
                kind="reminder",
                recipient="+491701234567",
                due_at=timezone.now(),
                status=status,
                sent_at=sent_at or timezone.now(),
                idempotency_key=f"test:{next(_keys)}",
            )


def use_plan(business, code):
    BillingAccount.objects.filter(tenant=business.tenant).update(plan=Plan.objects.get(code=code))


def test_limits_follow_the_plan(business_a):
    assert selectors.limits(business_a.tenant) == selectors.Limits(
        plan_name="Starter", max_staff=2, sms_per_month=100, extra_sms_credits=0, custom_domain=False
    )
    use_plan(business_a, "business")
    BillingAccount.objects.filter(tenant=business_a.tenant).update(extra_sms_credits=250)
    limits = selectors.limits(business_a.tenant)
    assert (limits.max_staff, limits.sms_per_month, limits.custom_domain) == (20, 1500, True)
    assert limits.sms_total == 1750


def test_plans_grow_in_price_and_limits():
    starter, professional, business = selectors.plan_list()
    assert [p.code for p in (starter, professional, business)] == ["starter", "professional", "business"]
    for smaller, bigger in ((starter, professional), (professional, business)):
        assert smaller.price_monthly_cents < bigger.price_monthly_cents
        assert smaller.max_staff < bigger.max_staff and smaller.sms_per_month < bigger.sms_per_month
        assert smaller.price_yearly_cents < 12 * smaller.price_monthly_cents  # yearly is cheaper


def test_sms_this_month_counts_only_sent_sms_of_this_month(business_a, business_b):
    sms(business_a, count=3)
    sms(business_a, status="delivered")
    sms(business_a, status="failed")
    sms(business_a, status="queued")
    sms(business_a, channel="email")
    sms(business_a, sent_at=timezone.now() - timedelta(days=40))
    sms(business_b, count=5)  # another business's SMS are not ours
    assert selectors.sms_sent_this_month(business_a.tenant) == 4
    assert selectors.sms_quota_left(business_a.tenant) == 96


def test_quota_left_adds_bought_credits_and_never_goes_negative(business_a):
    sms(business_a, count=101)
    assert selectors.sms_quota_left(business_a.tenant) == 0
    BillingAccount.objects.filter(tenant=business_a.tenant).update(extra_sms_credits=30)
    assert selectors.sms_quota_left(business_a.tenant) == 30


def test_taking_quota_uses_the_allowance_then_credits_then_refuses(business_a):
    sms(business_a, count=99)
    BillingAccount.objects.filter(tenant=business_a.tenant).update(extra_sms_credits=1)
    assert services.sms_quota_take(tenant=business_a.tenant) is True  # the 100th of the allowance
    assert account_of(business_a).extra_sms_credits == 1
    sms(business_a)
    assert services.sms_quota_take(tenant=business_a.tenant) is True  # a bought credit
    assert account_of(business_a).extra_sms_credits == 0
    sms(business_a)
    assert services.sms_quota_take(tenant=business_a.tenant) is False


def test_staff_seats_count_logins_and_open_invitations(business_a):
    assert selectors.staff_count(business_a.tenant) == 1  # the owner
    assert selectors.staff_seats_left(business_a.tenant) == 1
    owner = make_user(business_a, "manager")
    assert selectors.staff_seats_left(business_a.tenant) == 0
    with schema_context(business_a.schema):
        Invitation.objects.create(
            email="new@example.com",
            name="New",
            role="staff",
            token_hash="a" * 64,
            invited_by=owner,
            expires_at=timezone.now() + timedelta(days=7),
        )
    use_plan(business_a, "professional")
    assert selectors.staff_seats_left(business_a.tenant) == 6 - 2 - 1
    with schema_context(business_a.schema):
        owner.is_active = False
        owner.save()
    assert selectors.staff_count(business_a.tenant) == 1


def test_a_smaller_plan_is_refused_while_the_team_is_bigger(business_a, fake_stripe):
    for _ in range(2):
        make_user(business_a, "staff")
    with pytest.raises(InvalidRequest, match="3 members"):
        services.billing_checkout_start(
            tenant=business_a.tenant, plan=Plan.objects.get(code="starter"), interval="month"
        )
    assert fake_stripe.requests == []  # nothing reached Stripe
    services.billing_checkout_start(
        tenant=business_a.tenant, plan=Plan.objects.get(code="professional"), interval="month"
    )


def test_billing_state_during_the_trial(business_a):
    state = selectors.billing_state(business_a.tenant)
    assert state.status == TenantStatus.TRIAL and state.plan.code == "starter"
    assert state.trial_days_left in (13, 14)
    assert state.banner is None and not state.locked and not state.subscribed and not state.can_manage


def test_the_last_trial_days_show_a_reminder(business_a):
    BillingAccount.objects.filter(tenant=business_a.tenant).update(
        trial_ends_at=timezone.now() + timedelta(days=2, hours=1)
    )
    state = selectors.billing_state(business_a.tenant)
    assert state.trial_days_left == 3
    assert state.banner_level == "warn" and "trial ends on" in state.banner


def test_closed_businesses_are_locked_with_a_reason(business_a):
    BillingAccount.objects.filter(tenant=business_a.tenant).update(
        trial_ends_at=timezone.now() - timedelta(days=1)
    )
    services.tenant_status_set(tenant=business_a.tenant, status=TenantStatus.SUSPENDED, reason="test")
    state = selectors.billing_state(business_a.tenant)
    assert state.locked and state.banner_level == "err"
    assert "trial has ended" in state.banner
    services.tenant_status_set(tenant=business_a.tenant, status=TenantStatus.CANCELLED, reason="test")
    assert "will be deleted on" in selectors.billing_state(business_a.tenant).banner


def test_a_business_without_an_account_gets_the_careful_defaults(business_a):
    BillingAccount.objects.filter(tenant=business_a.tenant).delete()
    assert selectors.limits(business_a.tenant).max_staff == 2  # the trial plan's
    state = selectors.billing_state(business_a.tenant)
    assert state.banner is None and state.plan.code == "starter"
    assert services.sms_quota_take(tenant=business_a.tenant) is True
