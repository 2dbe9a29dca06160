import pytest

from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as

pytestmark = pytest.mark.django_db


def test_sections_follow_the_role(business_a):
    owner = log_in_as(business_a, "owner").get("/").content.decode()
    staff = log_in_as(business_a, "staff").get("/").content.decode()
    assert 'href="/calendar/"' in owner and 'href="/calendar/"' in staff
    assert 'href="/settings/"' in owner and 'href="/settings/"' not in staff
    assert 'href="/account/"' in owner and 'href="/account/"' not in staff


def test_session_of_another_business_is_unknown_here(business_a, business_b):
    client_b = log_in_as(business_b, "owner")
    stolen = client_for(business_a.host)
    stolen.cookies = client_b.cookies
    response = stolen.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_todays_list_of_a_staff_member_shows_only_their_own_appointments(business_a):
    from datetime import datetime, time

    from django_tenants.utils import schema_context

    from termino.tenants.crm.models import Customer
    from termino.tenants.scheduling import services as scheduling
    from termino.tenants.scheduling.models import Resource
    from tests.tenants.backoffice.helpers import make_user
    from tests.tenants.scheduling.factories import BERLIN, salon

    user = make_user(business_a, "staff")
    with schema_context(business_a.schema):
        service, staff, _room = salon()
        Resource.objects.filter(pk=staff[1].pk).update(user=user)
        today = datetime.now(BERLIN).date()
        for member, name in ((staff[0], "Fremdkundin"), (staff[1], "Eigenkundin")):
            scheduling.appointment_create(
                booking=scheduling.Booking(
                    service=service, start=datetime.combine(today, time(23), tzinfo=BERLIN), staff=member
                ),
                customer=Customer.objects.create(last_name=name),
            )
    mine = log_in_as(business_a, user=user).get("/").content.decode()
    everything = log_in_as(business_a).get("/").content.decode()
    assert "Eigenkundin" in mine and "Fremdkundin" not in mine
    assert "Eigenkundin" in everything and "Fremdkundin" in everything


def test_owner_sees_billing_and_a_banner_when_a_payment_failed(business_a):
    from datetime import timedelta

    from django.utils import timezone

    from termino.platform.billing.models import BillingAccount
    from termino.platform.tenancy.models import Tenant

    Tenant.objects.filter(pk=business_a.tenant.pk).update(status="past_due")
    BillingAccount.objects.filter(tenant_id=business_a.tenant.pk).update(
        grace_until=timezone.now() + timedelta(days=5)
    )
    owner = log_in_as(business_a, "owner").get("/calendar/").content.decode()
    manager = log_in_as(business_a, "manager").get("/calendar/").content.decode()
    assert 'href="/billing/"' in owner and "Your last payment did not go through" in owner
    assert 'href="/billing/"' not in manager and "Your last payment did not go through" in manager
