"""A closed business's host answers by reason and by who asks: the owner of an unpaid business goes to
billing, a suspension by platform staff says "contact support" (never "pay"), customers read that online
booking is not available (never "suspended")."""

import pytest

from termino.platform.billing import services
from termino.platform.tenancy.models import TenantStatus
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as

pytestmark = pytest.mark.django_db


def suspend_unpaid(business):
    services.tenant_status_set(tenant=business.tenant, status=TenantStatus.SUSPENDED, reason="trial over")


def suspend_by_staff(business):
    services.billing_staff_suspend(tenant=business.tenant, reason="fraud report")


@pytest.mark.parametrize("suspend", [suspend_unpaid, suspend_by_staff])
@pytest.mark.parametrize(
    ("language", "says", "never"),
    [
        ("en", "Online booking is currently not available", ("suspended", "pay")),
        ("de", "Online-Buchung ist derzeit nicht möglich", ("gesperrt", "bezahlen", "Zahlung")),
    ],
)
def test_customers_read_that_online_booking_is_not_available(business_a, suspend, language, says, never):
    suspend(business_a)
    for path in ("/book/", "/", "/book/manage/some-token/"):
        response = client_for(business_a.host, language).get(path)
        assert response.status_code == 403, path
        page = response.content.decode()
        assert says in page
        assert not [word for word in never if word in page.split("<body", 1)[1]], path


def test_the_owner_of_an_unpaid_business_is_sent_to_billing(business_a):
    suspend_unpaid(business_a)
    owner = log_in_as(business_a)
    for path in ("/", "/calendar/", "/customers/"):
        response = owner.get(path)
        assert (response.status_code, response["Location"]) == (302, "/billing/"), path
    assert owner.get("/billing/").status_code == 200


def test_the_team_of_an_unpaid_business_reads_that_a_payment_is_open(business_a):
    suspend_unpaid(business_a)
    response = log_in_as(business_a, "staff").get("/calendar/")
    assert response.status_code == 403
    assert "payment is open" in response.content.decode()


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_suspension_by_staff_says_contact_support_never_pay(business_a, language):
    suspend_by_staff(business_a)
    owner = log_in_as(business_a, language=language)
    for path in ("/", "/calendar/"):
        response = owner.get(path)
        assert response.status_code == 403, path
        page = response.content.decode()
        if language == "en":
            assert "contact Termino support" in page and "Paying does not lift it" in page
            assert "log in to pay" not in page.lower()
        else:
            assert "wenden Sie sich an den Termino-Support" in page
            assert "Bezahlen hebt sie nicht auf" in page
    billing = owner.get("/billing/").content.decode()
    if language == "en":
        assert "Paying does not lift this suspension" in billing


def test_a_cancelled_business_sends_its_owner_to_billing(business_a):
    services.tenant_status_set(tenant=business_a.tenant, status=TenantStatus.CANCELLED, reason="test")
    assert client_for(business_a.host).get("/book/").status_code == 403
    owner = log_in_as(business_a)
    assert owner.get("/calendar/")["Location"] == "/billing/"


def test_another_business_stays_open(business_a, business_b):
    suspend_by_staff(business_a)
    assert client_for(business_a.host).get("/book/").status_code == 403
    assert client_for(business_b.host).get("/book/").status_code == 200
    assert log_in_as(business_b).get("/calendar/").status_code == 200
