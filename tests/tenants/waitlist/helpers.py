"""A business day with exactly one time that can free up, and waiting customers who want it."""

from datetime import time, timedelta

from termino.shared import timeutils
from termino.tenants.crm.models import Consent, ConsentKind, Customer
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import Closure
from termino.tenants.waitlist import services as waitlist
from termino.tenants.waitlist.models import WaitlistSettings
from tests.tenants.scheduling.factories import BERLIN, next_monday, salon

STAFF = Actor(source="backoffice")


def tight_day(**service_fields):
    """A salon with one staff member whose Monday is closed except 10:00–10:30, booked by a customer:
    cancelling that booking frees the one time of the day. Returns (service, staff, monday 10:00, booking)."""
    service, staff, _room = salon(staff_count=1, **service_fields)
    start = next_monday(time(10))
    day = start.date()
    Closure.objects.create(start=timeutils.local_at(day, time(0), BERLIN), end=start, reason="Morgens zu")
    Closure.objects.create(
        start=timeutils.shift(start, minutes=30),
        end=timeutils.local_midnight(day + timedelta(days=1), BERLIN),
        reason="Nachmittags zu",
    )
    booked = lifecycle.appointment_book(
        actor=STAFF,
        booking=scheduling.Booking(service=service, start=start, staff=staff[0]),
        customer=customer("Bea", "Bucht", "bea@example.com"),
    )
    return service, staff[0], start, booked


def customer(first: str, last: str, email: str = "", phone: str = "", sms: bool = False) -> Customer:
    person = Customer.objects.create(first_name=first, last_name=last, email=email, phone=phone)
    Consent.objects.create(customer=person, kind=ConsentKind.PRIVACY, granted=True, policy_version="1")
    if phone:
        Consent.objects.create(
            customer=person, kind=ConsentKind.SMS_REMINDERS, granted=sms, policy_version="1"
        )
    return person


def waiting(service, n: int, *, day=None, prefix: str = "kunde"):
    """`n` customers on the waitlist for `service` (on `day` only, if given), in this order."""
    joined = []
    for i in range(n):
        person = customer(f"K{i}", f"Warte{i}", f"{prefix}{i}@example.com")
        entry, token = waitlist.entry_join(
            customer=person, wish=waitlist.Wish(service_id=service.pk, date_from=day, date_to=day)
        )
        joined.append((entry, token))
    return joined


def offers_per_time(count: int, minutes: int = 120) -> None:
    rules = WaitlistSettings.current()
    rules.offer_count, rules.offer_minutes = count, minutes
    rules.save()


def link_token(offer) -> str:
    """The secret of the offer's link, read from the message the customer got."""
    import re

    from termino.tenants.notifications.models import OutboxMessage

    message = OutboxMessage.objects.filter(idempotency_key__startswith=f"waitlist-offer:{offer.pk}:").first()
    return re.search(r"/book/waitlist/offer/([\w-]+)/", message.text)[1]
