from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.models import Allocation, Appointment, Resource, Service
from tests.conftest import client_for
from tests.tenants.accounts.test_login import log_in

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def book_today(schema: str, customer_name: str) -> None:
    with schema_context(schema):
        service = Service.objects.create(name="Haarschnitt", duration_minutes=30)
        staff = Resource.objects.create(kind="staff", name="Jonas")
        customer = Customer.objects.create(first_name="Lena", last_name=customer_name)
        berlin = ZoneInfo("Europe/Berlin")
        start = datetime.combine(datetime.now(berlin).date(), time(12), tzinfo=berlin)
        appointment = Appointment.objects.create(
            service=service, customer=customer, start=start, end=start + timedelta(minutes=30)
        )
        Allocation.objects.create(appointment=appointment, resource=staff, period=(start, appointment.end))


def test_dashboard_lists_only_this_business_data(business_a, business_b):
    book_today(business_a.schema, "Alphakundin")
    client_a, _ = log_in(business_a)
    client_b, _ = log_in(business_b)
    page_a = client_a.get("/").content.decode()
    page_b = client_b.get("/").content.decode()
    assert "Alphakundin" in page_a
    assert "Alphakundin" not in page_b


def test_anonymous_visitor_sees_no_data(business_a):
    book_today(business_a.schema, "Geheim")
    response = client_for(business_a.host).get("/", follow=True)
    assert "Geheim" not in response.content.decode()


def test_a_colour_with_processing_time_names_its_stylist_once(business_a):
    with schema_context(business_a.schema):
        colour = Service.objects.create(
            name="Farbe", duration_minutes=60, processing_after_minutes=15, processing_minutes=30
        )
        anna = Resource.objects.create(kind="staff", name="Anna Stylistin")
        colour.resources.set([anna])
        berlin = ZoneInfo("Europe/Berlin")
        start = datetime.combine(timeutils.today(berlin), time(15), tzinfo=berlin)
        scheduling.appointment_create(booking=scheduling.Booking(service=colour, start=start, staff=anna))
        assert Allocation.objects.filter(resource=anna).count() == 2  # before and after the processing
    client, _ = log_in(business_a)
    assert client.get("/").content.decode().count("Anna Stylistin") == 1
