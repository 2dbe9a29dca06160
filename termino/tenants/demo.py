"""Demo content for a business: services, two staff members, a room, hours, customers, this week's
appointments. Runs inside the business's schema."""

from datetime import date, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from termino.shared import timeutils
from termino.tenants.accounts.models import Role
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.lifecycle import appointment_book
from termino.tenants.scheduling.models import AppointmentSource, Resource, ResourceKind, Service, WeeklyHours
from termino.tenants.scheduling.services import Booking

CUSTOMERS = [
    ("Lena", "Fischer"),
    ("Paul", "Wagner"),
    ("Mia", "Becker"),
    ("Felix", "Hoffmann"),
    ("Emma", "Schulz"),
    ("Noah", "Koch"),
    ("Sophie", "Richter"),
    ("Leon", "Klein"),
    ("Hannah", "Wolf"),
    ("Elias", "Neumann"),
    ("Marie", "Schwarz"),
    ("Jonas", "Zimmermann"),
]
SERVICES = [
    ("Damenhaarschnitt", 45, "48.00", "#db2777", False),
    ("Herrenhaarschnitt", 30, "28.00", "#2563eb", False),
    ("Färben", 90, "79.00", "#9333ea", True),  # needs the colour room
    ("Beratung", 15, "0.00", "#16a34a", False),
]


def demo_business_fill(
    *, time_zone: str = "Europe/Berlin", staff_password: str, today: date | None = None
) -> dict:
    zone = ZoneInfo(time_zone)
    User = get_user_model()
    owner = User.objects.filter(role=Role.OWNER).first()
    jonas = User.objects.create_user(
        username="jonas@demo.example",
        email="jonas@demo.example",
        password=staff_password,
        first_name="Jonas",
        last_name="Weber",
        role=Role.STAFF,
    )
    anna_res = Resource.objects.create(kind=ResourceKind.STAFF, name="Anna", user=owner)
    jonas_res = Resource.objects.create(kind=ResourceKind.STAFF, name="Jonas", user=jonas)
    room = Resource.objects.create(kind=ResourceKind.ROOM, name="Farbraum")

    services = []
    for name, minutes, price, colour, needs_room in SERVICES:
        service = Service.objects.create(
            name=name,
            duration_minutes=minutes,
            price=Decimal(price),
            colour=colour,
            buffer_after_minutes=5,
            requires_room=needs_room,
        )
        service.resources.set([anna_res, jonas_res] + ([room] if needs_room else []))
        services.append(service)

    for weekday in range(6):
        closing = time(14) if weekday == 5 else time(18)
        WeeklyHours.objects.create(weekday=weekday, start=time(9), end=closing)
        for staff in (anna_res, jonas_res):
            if weekday == 5:
                WeeklyHours.objects.create(resource=staff, weekday=weekday, start=time(9), end=closing)
            else:  # lunch break
                WeeklyHours.objects.create(resource=staff, weekday=weekday, start=time(9), end=time(12, 30))
                WeeklyHours.objects.create(resource=staff, weekday=weekday, start=time(13), end=closing)
        WeeklyHours.objects.create(resource=room, weekday=weekday, start=time(9), end=closing)

    customers = [
        Customer.objects.create(
            first_name=first,
            last_name=last,
            email=f"{first}.{last}@example.com".lower(),
            phone=f"+491701234{n:03d}",
        )
        for n, (first, last) in enumerate(CUSTOMERS)
    ]

    today = today or timeutils.today(zone)
    monday = today - timedelta(days=today.weekday())
    plan = [(time(9), 0), (time(10, 30), 1), (time(14), 2), (time(15, 30), 3)]
    made = 0
    for day_offset in range(6):
        day = monday + timedelta(days=day_offset)
        for slot, (start_time, service_index) in enumerate(plan):
            if day_offset == 5 and start_time >= time(14):
                continue
            service = services[(service_index + day_offset) % len(services)]
            staff = (anna_res, jonas_res)[(slot + day_offset) % 2]
            start = timeutils.local_at(day, start_time, zone)
            appointment_book(
                actor=Actor(source=AppointmentSource.BACKOFFICE),
                booking=Booking(service=service, start=start, staff=staff),
                customer=customers[(day_offset * 4 + slot) % len(customers)],
            )
            made += 1
    return {
        "services": len(services),
        "staff": 2,
        "rooms": 1,
        "customers": len(customers),
        "appointments": made,
    }
