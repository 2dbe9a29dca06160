"""Actions on a business: each a POST with a reason, each leaving an audit entry; the log is append-only."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from termino.platform.billing.models import BillingAccount, StatusChange
from termino.platform.staffadmin import selectors
from termino.platform.staffadmin.models import AppendOnlyError, SmsLock, StaffAction
from termino.platform.tenancy.models import Tenant
from tests.conftest import client_for

from .conftest import forget_routing_cache, make_staff, sign_in

pytestmark = pytest.mark.django_db


def url(business, action: str) -> str:
    return f"/staff/businesses/{business.tenant.pk}/{action}/"


def status_of(business) -> str:
    return Tenant.objects.values_list("status", flat=True).get(pk=business.tenant.pk)


def account_of(business) -> BillingAccount:
    return BillingAccount.objects.get(tenant_id=business.tenant.pk)


def entries(business, action: str):
    return StaffAction.objects.filter(tenant_id=business.tenant.pk, action=action)


def test_suspend(staffed, business_a):
    staff, client = staffed
    response = client.post(url(business_a, "suspend"), {"reason": "Fraud report #4711"})
    assert (
        response.status_code == 302 and response["Location"] == f"/staff/businesses/{business_a.tenant.pk}/"
    )
    assert status_of(business_a) == "suspended" and account_of(business_a).held_by_staff
    entry = entries(business_a, "suspend").get()
    assert entry.staff == staff and entry.staff_username == staff.username
    assert entry.reason == "Fraud report #4711" and entry.ip == "127.0.0.1"
    assert entry.details == {"old_status": "trial", "new_status": "suspended"}
    assert entry.tenant_label == f"Alpha Salon ({business_a.tenant.slug})"
    assert StatusChange.objects.filter(
        tenant=business_a.tenant, new_status="suspended", reason="platform staff: Fraud report #4711"
    ).exists()
    # The business's host now shows the closed page.
    forget_routing_cache()
    assert client_for(business_a.host).get("/book/").status_code == 403
    # Suspending twice is refused, nothing more written.
    response = client.post(url(business_a, "suspend"), {"reason": "again"})
    assert response.status_code == 400 and "already suspended" in response.content.decode()
    assert entries(business_a, "suspend").count() == 1


def test_reactivate(staffed, business_a):
    _staff, client = staffed
    client.post(url(business_a, "suspend"), {"reason": "Fraud report #4711"})
    response = client.post(url(business_a, "reactivate"), {"reason": "Cleared by the bank"})
    assert response.status_code == 302
    assert status_of(business_a) == "trial" and not account_of(business_a).held_by_staff
    entry = entries(business_a, "reactivate").get()
    assert entry.reason == "Cleared by the bank"
    assert entry.details["old_status"] == "suspended" and entry.details["new_status"] == "trial"


def test_reactivate_when_not_suspended_is_refused(staffed, business_a):
    _staff, client = staffed
    response = client.post(url(business_a, "reactivate"), {"reason": "why not"})
    assert response.status_code == 400 and "not suspended" in response.content.decode()
    assert not entries(business_a, "reactivate").exists()


def test_reactivating_a_business_whose_trial_is_over_keeps_it_suspended(staffed, business_a):
    _staff, client = staffed
    BillingAccount.objects.filter(tenant=business_a.tenant).update(
        trial_ends_at=timezone.now() - timedelta(days=1)
    )
    client.post(url(business_a, "suspend"), {"reason": "abuse"})
    response = client.post(url(business_a, "reactivate"), {"reason": "resolved"}, follow=True)
    assert "stays suspended" in response.content.decode()
    assert status_of(business_a) == "suspended" and not account_of(business_a).held_by_staff


def test_extend_trial(staffed, business_a):
    _staff, client = staffed
    before = account_of(business_a).trial_ends_at
    response = client.post(url(business_a, "extend-trial"), {"days": "10", "reason": "Trade fair lead"})
    assert response.status_code == 302
    after = account_of(business_a).trial_ends_at
    assert after - before == timedelta(days=10)
    entry = entries(business_a, "trial_extend").get()
    assert entry.reason == "Trade fair lead" and entry.details["days"] == 10
    assert entry.details["trial_ends"] == after.isoformat()


def test_extending_reopens_a_business_suspended_for_its_trial(staffed, business_a):
    from termino.platform.billing import services as billing_services

    _staff, client = staffed
    BillingAccount.objects.filter(tenant=business_a.tenant).update(
        trial_ends_at=timezone.now() - timedelta(days=1)
    )
    billing_services.billing_overdue_suspend()
    assert status_of(business_a) == "suspended"
    client.post(url(business_a, "extend-trial"), {"days": "7", "reason": "Asked for more time"})
    assert status_of(business_a) == "trial"
    assert entries(business_a, "trial_extend").get().details["new_status"] == "trial"


@pytest.mark.parametrize("days", ["0", "366", "-3", "ten", ""])
def test_extend_trial_with_invalid_days_changes_nothing(staffed, business_a, days):
    _staff, client = staffed
    before = account_of(business_a).trial_ends_at
    response = client.post(url(business_a, "extend-trial"), {"days": days, "reason": "test"})
    assert response.status_code == 400
    assert account_of(business_a).trial_ends_at == before
    assert not entries(business_a, "trial_extend").exists()


def test_lock_and_unlock_sms(staffed, business_a, business_b):
    staff, client = staffed
    assert selectors.sms_locked(business_a.tenant) is False
    response = client.post(url(business_a, "sms-lock"), {"reason": "Spam complaints from recipients"})
    assert response.status_code == 302
    assert selectors.sms_locked(business_a.tenant) is True
    assert selectors.sms_locked(business_b.tenant) is False
    lock = SmsLock.objects.get(tenant=business_a.tenant)
    assert lock.locked_by == staff and lock.reason == "Spam complaints from recipients"
    assert entries(business_a, "sms_lock").get().reason == "Spam complaints from recipients"
    page = client.get(f"/staff/businesses/{business_a.tenant.pk}/").content.decode()
    assert "SMS locked" in page and 'id="sms_unlock_form"' in page

    assert client.post(url(business_a, "sms-lock"), {"reason": "twice"}).status_code == 400
    assert entries(business_a, "sms_lock").count() == 1

    response = client.post(url(business_a, "sms-unlock"), {"reason": "Customer explained, list cleaned"})
    assert response.status_code == 302
    assert selectors.sms_locked(business_a.tenant) is False
    entry = entries(business_a, "sms_unlock").get()
    assert entry.details["lock_reason"] == "Spam complaints from recipients"
    assert client.post(url(business_a, "sms-unlock"), {"reason": "twice"}).status_code == 400


def test_sms_locked_works_from_the_business_schema(business_a):
    """The outbox asks from inside the business's schema; the lock lives in public."""
    from django_tenants.utils import schema_context

    staff = make_staff()
    SmsLock.objects.create(tenant=business_a.tenant, reason="abuse", locked_by=staff)
    with schema_context(business_a.schema):
        assert selectors.sms_locked(business_a.tenant) is True


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("suspend", {}),
        ("suspend", {"reason": "   "}),
        ("reactivate", {"reason": ""}),
        ("extend-trial", {"days": "5", "reason": ""}),
        ("sms-lock", {"reason": ""}),
        ("sms-unlock", {}),
        ("impersonate", {"user": "1"}),
    ],
)
def test_a_reason_is_required(staffed, business_a, action, data):
    _staff, client = staffed
    before_status, before_trial = status_of(business_a), account_of(business_a).trial_ends_at
    count = StaffAction.objects.count()
    response = client.post(url(business_a, action), data)
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert "Nothing was changed." in response.content.decode()
    assert status_of(business_a) == before_status and account_of(business_a).trial_ends_at == before_trial
    assert not SmsLock.objects.filter(tenant=business_a.tenant).exists()
    assert StaffAction.objects.count() == count


def test_a_too_long_reason_is_refused(staffed, business_a):
    _staff, client = staffed
    response = client.post(url(business_a, "suspend"), {"reason": "x" * 501})
    assert response.status_code == 400 and status_of(business_a) == "trial"


def test_actions_are_posts_only(staffed, business_a):
    _staff, client = staffed
    for action in ("suspend", "reactivate", "extend-trial", "sms-lock", "sms-unlock", "impersonate"):
        assert client.get(url(business_a, action)).status_code == 405
    assert status_of(business_a) == "trial"


def test_actions_need_a_staff_session(business_a, business_b):
    from tests.tenants.backoffice.helpers import log_in_as

    anonymous = client_for(settings.BASE_DOMAIN)
    response = anonymous.post(url(business_a, "suspend"), {"reason": "x"})
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    # A business owner's session cookie means nothing on the platform host.
    stolen = client_for(settings.BASE_DOMAIN)
    stolen.cookies = log_in_as(business_b).cookies
    response = stolen.post(url(business_a, "suspend"), {"reason": "x"})
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    # Nor can a business host reach the actions.
    assert log_in_as(business_a).post(url(business_a, "suspend"), {"reason": "x"}).status_code == 404
    assert status_of(business_a) == "trial"
    assert not entries(business_a, "suspend").exists()


def test_password_only_session_cannot_act(business_a):
    staff = make_staff()
    client = client_for(settings.BASE_DOMAIN)
    client.force_login(staff)  # no TOTP step
    response = client.post(url(business_a, "suspend"), {"reason": "x"})
    assert response.status_code == 302 and status_of(business_a) == "trial"


def test_csrf_is_enforced_on_actions(staffed, business_a):
    _staff, signed_in = staffed
    client = Client(enforce_csrf_checks=True, HTTP_HOST=settings.BASE_DOMAIN)
    client.cookies[settings.SESSION_COOKIE_NAME] = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    response = client.post(url(business_a, "suspend"), {"reason": "No token"})
    assert response.status_code == 403
    assert status_of(business_a) == "trial" and not entries(business_a, "suspend").exists()

    page = client.get(f"/staff/businesses/{business_a.tenant.pk}/")
    token = page.context["csrf_token"]
    response = client.post(
        url(business_a, "suspend"), {"reason": "With token", "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 302 and status_of(business_a) == "suspended"


def test_audit_log_page_lists_and_filters(staffed, business_a, business_b):
    _staff, client = staffed
    client.post(url(business_a, "sms-lock"), {"reason": "Spam wave"})
    client.post(url(business_b, "extend-trial"), {"days": "3", "reason": "Onboarding call"})
    page = client.get("/staff/audit/")
    html = page.content.decode()
    assert page.status_code == 200 and "Spam wave" in html and "Onboarding call" in html
    assert "Entries cannot be changed or deleted." in html
    html = client.get("/staff/audit/", {"action": "sms_lock"}).content.decode()
    assert "Spam wave" in html and "Onboarding call" not in html
    html = client.get("/staff/audit/", {"q": "Beta"}).content.decode()
    assert "Onboarding call" in html and "Spam wave" not in html


def test_the_audit_log_cannot_be_edited_through_the_views(staffed, business_a):
    _staff, client = staffed
    client.post(url(business_a, "suspend"), {"reason": "Original reason"})
    entry = entries(business_a, "suspend").get()
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)("/staff/audit/", {"reason": "changed"}).status_code == 405
    assert client.get(f"/staff/audit/{entry.pk}/").status_code == 404
    assert client.post(f"/staff/audit/{entry.pk}/delete/").status_code == 404
    # Django's admin shows entries but neither changes nor deletes them (even for a superuser).
    admin_client = sign_in(make_staff(superuser=True))
    change = f"/admin/staffadmin/staffaction/{entry.pk}/change/"
    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"reason": "changed"}).status_code == 403
    assert (
        admin_client.post(f"/admin/staffadmin/staffaction/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    entry.refresh_from_db()
    assert entry.reason == "Original reason"


def test_the_audit_log_is_append_only_in_code_and_database(staffed, business_a):
    _staff, client = staffed
    client.post(url(business_a, "suspend"), {"reason": "Original reason"})
    entry = entries(business_a, "suspend").get()
    entry.reason = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        StaffAction.objects.filter(pk=entry.pk).update(reason="changed")
    with pytest.raises(AppendOnlyError):
        StaffAction.objects.filter(pk=entry.pk).delete()
    # Raw SQL is stopped by the trigger.
    for sql in (
        "UPDATE staffadmin_staffaction SET reason = 'changed' WHERE id = %s",
        "DELETE FROM staffadmin_staffaction WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert StaffAction.objects.get(pk=entry.pk).reason == "Original reason"


def test_business_actions_without_a_reason_are_refused_by_the_database(business_a):
    from django.db import IntegrityError

    staff = make_staff()
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffAction.objects.create(
            staff=staff, staff_username=staff.username, action="suspend", tenant=business_a.tenant
        )
