"""Every status a business can go through, driven by Stripe's events through the webhook endpoint."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from termino.platform.billing import services, tasks
from termino.platform.billing.models import StatusChange
from termino.platform.tenancy.models import TenantStatus

from .conftest import account_of, deliver, status_of, subscribe

pytestmark = pytest.mark.django_db


def test_trial_to_active_when_a_subscription_is_paid(business_a, fake_stripe):
    assert status_of(business_a) == TenantStatus.TRIAL
    sub_id = subscribe(fake_stripe, business_a, plan="professional", interval="year")
    account = account_of(business_a)
    assert status_of(business_a) == TenantStatus.ACTIVE
    assert account.plan.code == "professional" and account.interval == "year"
    assert account.stripe_subscription_id == sub_id and account.subscription_status == "active"
    assert account.stripe_customer_id in fake_stripe.customers
    assert account.current_period_end > timezone.now() + timedelta(days=360)
    change = StatusChange.objects.filter(tenant=business_a.tenant).first()
    assert (change.old_status, change.new_status) == ("trial", "active")


def test_active_to_past_due_with_a_grace_period_then_back_to_active(business_a, fake_stripe):
    sub_id = subscribe(fake_stripe, business_a)
    deliver(fake_stripe, *fake_stripe.fail_renewal(sub_id))
    account = account_of(business_a)
    assert status_of(business_a) == TenantStatus.PAST_DUE
    assert account.subscription_status == "past_due"
    expected = timezone.now() + timedelta(days=7)
    assert abs(account.grace_until - expected) < timedelta(minutes=1)

    deliver(fake_stripe, *fake_stripe.pay_open_invoice(sub_id))
    account = account_of(business_a)
    assert status_of(business_a) == TenantStatus.ACTIVE
    assert account.grace_until is None and account.subscription_status == "active"


def test_grace_period_runs_from_the_first_failure(business_a, fake_stripe, settings):
    settings.BILLING_GRACE_DAYS = 3
    sub_id = subscribe(fake_stripe, business_a)
    deliver(fake_stripe, *fake_stripe.fail_renewal(sub_id))
    first = account_of(business_a).grace_until
    deliver(fake_stripe, *fake_stripe.fail_renewal(sub_id))  # the retry fails too
    assert account_of(business_a).grace_until == first
    assert abs(first - (timezone.now() + timedelta(days=3))) < timedelta(minutes=1)


def test_past_due_to_suspended_once_the_grace_period_is_over(business_a, fake_stripe):
    sub_id = subscribe(fake_stripe, business_a)
    deliver(fake_stripe, *fake_stripe.fail_renewal(sub_id))
    grace_until = account_of(business_a).grace_until

    assert services.billing_overdue_suspend(now=grace_until - timedelta(seconds=1)) == 0
    assert status_of(business_a) == TenantStatus.PAST_DUE
    assert services.billing_overdue_suspend(now=grace_until + timedelta(seconds=1)) == 1
    assert status_of(business_a) == TenantStatus.SUSPENDED
    assert StatusChange.objects.filter(
        tenant=business_a.tenant, new_status="suspended", reason="grace period over without payment"
    ).exists()


def test_suspended_back_to_active_when_the_invoice_is_paid(business_a, fake_stripe):
    sub_id = subscribe(fake_stripe, business_a)
    deliver(fake_stripe, *fake_stripe.fail_renewal(sub_id))
    services.billing_overdue_suspend(now=account_of(business_a).grace_until + timedelta(seconds=1))
    assert status_of(business_a) == TenantStatus.SUSPENDED

    invoice_paid, subscription_updated = fake_stripe.pay_open_invoice(sub_id)
    deliver(fake_stripe, invoice_paid)
    assert status_of(business_a) == TenantStatus.ACTIVE
    deliver(fake_stripe, subscription_updated)
    assert status_of(business_a) == TenantStatus.ACTIVE
    assert account_of(business_a).grace_until is None


def test_a_failed_retry_keeps_a_suspended_business_suspended(business_a, fake_stripe):
    sub_id = subscribe(fake_stripe, business_a)
    deliver(fake_stripe, *fake_stripe.fail_renewal(sub_id))
    services.billing_overdue_suspend(now=account_of(business_a).grace_until + timedelta(seconds=1))
    deliver(fake_stripe, *fake_stripe.fail_renewal(sub_id))
    assert status_of(business_a) == TenantStatus.SUSPENDED


def test_stripe_giving_up_suspends(business_a, fake_stripe):
    sub_id = subscribe(fake_stripe, business_a)
    deliver(fake_stripe, *fake_stripe.fail_renewal(sub_id))
    deliver(fake_stripe, *fake_stripe.give_up(sub_id))
    assert status_of(business_a) == TenantStatus.SUSPENDED
    assert account_of(business_a).subscription_status == "unpaid"


def test_trial_expiry_without_subscription_suspends(business_a):
    account = account_of(business_a)
    assert services.billing_overdue_suspend(now=account.trial_ends_at - timedelta(minutes=1)) == 0
    assert status_of(business_a) == TenantStatus.TRIAL
    account.trial_ends_at = timezone.now() - timedelta(seconds=1)
    account.save()
    assert tasks.suspend_overdue() == 1  # the beat task, run inline
    assert status_of(business_a) == TenantStatus.SUSPENDED
    assert StatusChange.objects.get(tenant=business_a.tenant).reason == "trial ended without a subscription"


def test_a_suspended_trial_can_subscribe_and_becomes_active(business_a, fake_stripe):
    services.billing_overdue_suspend(now=account_of(business_a).trial_ends_at + timedelta(seconds=1))
    assert status_of(business_a) == TenantStatus.SUSPENDED
    subscribe(fake_stripe, business_a, plan="starter")
    assert status_of(business_a) == TenantStatus.ACTIVE


def test_subscription_deleted_cancels_and_keeps_the_data(business_a, fake_stripe):
    from django_tenants.utils import schema_exists

    sub_id = subscribe(fake_stripe, business_a)
    deliver(fake_stripe, *fake_stripe.schedule_cancel(sub_id))
    account = account_of(business_a)
    assert status_of(business_a) == TenantStatus.ACTIVE and account.cancel_at_period_end

    deliver(fake_stripe, *fake_stripe.end_subscription(sub_id))
    account = account_of(business_a)
    assert status_of(business_a) == TenantStatus.CANCELLED
    assert account.subscription_status == "canceled"
    assert abs(account.cancelled_at - timezone.now()) < timedelta(minutes=1)
    assert schema_exists(business_a.schema)  # deleted only after the retention period, by issue 8's worker


def test_cancelled_business_appears_for_the_retention_worker_after_the_period(
    business_a, fake_stripe, settings
):
    from termino.platform.billing import selectors

    settings.BILLING_RETENTION_DAYS = 90
    sub_id = subscribe(fake_stripe, business_a)
    deliver(fake_stripe, *fake_stripe.end_subscription(sub_id))
    cancelled_at = account_of(business_a).cancelled_at
    assert not selectors.accounts_past_retention(now=cancelled_at + timedelta(days=89)).exists()
    assert list(selectors.accounts_past_retention(now=cancelled_at + timedelta(days=90))) == [
        account_of(business_a)
    ]


def test_cancelled_business_may_subscribe_again(business_a, fake_stripe):
    sub_id = subscribe(fake_stripe, business_a)
    deliver(fake_stripe, *fake_stripe.end_subscription(sub_id))
    new_sub = subscribe(fake_stripe, business_a, plan="business")
    account = account_of(business_a)
    assert status_of(business_a) == TenantStatus.ACTIVE
    assert account.stripe_subscription_id == new_sub and account.plan.code == "business"
    assert account.cancelled_at is None


def test_changing_plan_replaces_the_subscription_and_ends_the_old_one(business_a, fake_stripe):
    old = subscribe(fake_stripe, business_a, plan="starter")
    new = subscribe(fake_stripe, business_a, plan="business", interval="year")
    account = account_of(business_a)
    assert account.stripe_subscription_id == new
    assert (account.plan.code, account.interval) == ("business", "year")
    assert fake_stripe.subscriptions[old]["status"] == "canceled"
    assert status_of(business_a) == TenantStatus.ACTIVE
    # The old subscription's deletion, arriving afterwards, does not cancel the business.
    deliver(fake_stripe, fake_stripe.event("customer.subscription.deleted", fake_stripe.subscriptions[old]))
    assert status_of(business_a) == TenantStatus.ACTIVE


def test_configured_stripe_prices_name_the_plan(business_a, fake_stripe):
    from termino.platform.billing.models import Plan

    Plan.objects.filter(code="business").update(
        stripe_price_monthly="price_business_m", stripe_price_yearly="price_business_y"
    )
    subscribe(fake_stripe, business_a, plan="business", interval="year")
    checkout = [r for r in fake_stripe.requests if r["path"] == "/v1/checkout/sessions"][-1]
    assert checkout["params"]["line_items"] == [{"price": "price_business_y", "quantity": "1"}]
    account = account_of(business_a)
    assert (account.plan.code, account.interval) == ("business", "year")


def test_only_allowed_changes_happen(business_a):
    services.tenant_status_set(tenant=business_a.tenant, status=TenantStatus.ACTIVE, reason="test")
    services.tenant_status_set(tenant=business_a.tenant, status=TenantStatus.CANCELLED, reason="test")
    with pytest.raises(services.StatusChangeNotAllowed):
        services.tenant_status_set(tenant=business_a.tenant, status=TenantStatus.PAST_DUE, reason="test")
    assert status_of(business_a) == TenantStatus.CANCELLED
    # Setting the status it has is no change and leaves no trail.
    assert (
        services.tenant_status_set(tenant=business_a.tenant, status=TenantStatus.CANCELLED, reason="x")
        is False
    )
    assert StatusChange.objects.filter(tenant=business_a.tenant).count() == 2


def test_a_status_change_reaches_routing_once_committed(business_a, django_capture_on_commit_callbacks):
    from tests.conftest import client_for

    assert client_for(business_a.host).get("/book/").status_code == 200  # cached as open
    with django_capture_on_commit_callbacks(execute=True):
        services.tenant_status_set(tenant=business_a.tenant, status=TenantStatus.SUSPENDED, reason="test")
    response = client_for(business_a.host, "en").get("/book/")
    assert response.status_code == 403
    assert b"Online booking is currently not available" in response.content


def test_a_staff_suspension_holds_whatever_stripe_reports(business_a, fake_stripe):
    from termino.platform.billing import selectors

    sub_id = subscribe(fake_stripe, business_a)
    services.billing_staff_suspend(tenant=business_a.tenant, reason="abuse report 17")
    assert status_of(business_a) == TenantStatus.SUSPENDED
    deliver(fake_stripe, *fake_stripe.fail_renewal(sub_id))
    deliver(fake_stripe, *fake_stripe.pay_open_invoice(sub_id))
    assert status_of(business_a) == TenantStatus.SUSPENDED  # paying does not lift it
    assert account_of(business_a).subscription_status == "active"  # the mirror still follows Stripe
    with translation.override("en"):  # the webhook requests above leave German active
        assert "contact Termino support" in selectors.billing_state(business_a.tenant).banner

    assert (
        services.billing_staff_reactivate(tenant=business_a.tenant, reason="resolved") == TenantStatus.ACTIVE
    )
    assert status_of(business_a) == TenantStatus.ACTIVE
    reasons = list(StatusChange.objects.filter(tenant=business_a.tenant).values_list("reason", flat=True))
    assert "platform staff: abuse report 17" in reasons and "platform staff: resolved" in reasons


@pytest.mark.parametrize(("trial_days", "expected"), [(5, TenantStatus.TRIAL), (-1, TenantStatus.SUSPENDED)])
def test_lifting_a_staff_suspension_of_a_trial_returns_to_what_the_trial_allows(
    business_a, trial_days, expected
):
    from termino.platform.billing.models import BillingAccount

    BillingAccount.objects.filter(tenant=business_a.tenant).update(
        trial_ends_at=timezone.now() + timedelta(days=trial_days)
    )
    services.billing_staff_suspend(tenant=business_a.tenant, reason="check")
    services.billing_trial_extend(tenant=business_a.tenant, days=3, reason="no effect while held")
    assert status_of(business_a) == TenantStatus.SUSPENDED
    BillingAccount.objects.filter(tenant=business_a.tenant).update(
        trial_ends_at=timezone.now() + timedelta(days=trial_days)
    )
    assert services.billing_staff_reactivate(tenant=business_a.tenant, reason="ok") == expected
    assert status_of(business_a) == expected
