"""Staff, customers and appointments for the calendar tests (inside the business's schema)."""

from datetime import time

from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import lifecycle, services
from termino.tenants.scheduling.events import Actor
from tests.tenants.backoffice.helpers import make_user
from tests.tenants.scheduling.factories import next_monday, salon

SYSTEM = Actor(source="backoffice")


def team(business):
    """A salon with two staff members who log in (Anna and Ben); returns (service, anna, ben, users)."""
    anna_user = make_user(business, "staff")
    ben_user = make_user(business, "staff")
    from django_tenants.utils import schema_context

    with schema_context(business.schema):
        service, (anna, ben), _room = salon(staff_count=2)
        anna.name, anna.user = "Anna", anna_user
        anna.save()
        ben.name, ben.user = "Ben", ben_user
        ben.save()
    return service, anna, ben, (anna_user, ben_user)


def book(service, staff, at: time = time(10), *, first="Lena", last="Fischer", days=0):
    customer = Customer.objects.create(first_name=first, last_name=last, email=f"{first.lower()}@example.com")
    start = next_monday(at)
    if days:
        from datetime import timedelta

        start = start + timedelta(days=days)
    return lifecycle.appointment_book(
        actor=SYSTEM, booking=services.Booking(service=service, start=start, staff=staff), customer=customer
    )
