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
