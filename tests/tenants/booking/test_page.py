import pytest
from django_tenants.utils import schema_context

from termino.tenants.scheduling.models import Service
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_booking_page_shows_only_this_business_bookable_services(business_a, business_b):
    with schema_context(business_a.schema):
        Service.objects.create(name="Balayage", duration_minutes=120, price="95.00")
        Service.objects.create(name="Mitarbeiterschulung", duration_minutes=10, bookable_online=False)
    page_a = client_for(business_a.host, "de").get("/book/").content.decode()
    page_b = client_for(business_b.host, "de").get("/book/").content.decode()
    assert "Balayage" in page_a and "120 Minuten" in page_a and "95,00" in page_a
    assert "Mitarbeiterschulung" not in page_a
    assert "Balayage" not in page_b
    assert business_b.tenant.name in page_b


def test_booking_page_needs_no_login(business_a):
    assert client_for(business_a.host).get("/book/").status_code == 200
