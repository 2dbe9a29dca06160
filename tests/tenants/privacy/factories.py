"""A customer with something in every place personal data lives, inside the caller's schema."""

from datetime import timedelta

from django.utils import timezone

from termino.tenants.booking.models import IdempotentRequest
from termino.tenants.crm.models import Customer
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling.models import Allocation, Appointment, Resource, Service
from tests.tenants.crm.factories import consent, note


def full_customer(last_name="Müller", first_name="Anna", email="anna@example.com", phone="+491712345678"):
    """Anna with tags, a notes field, two notes, three consents, a past and a future appointment (with
    notes, a manage link and a stored API answer), a sent and a queued message."""
    customer = Customer.objects.create(
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        notes="Allergisch gegen Ammoniak.",
        tags=["vip", "farbe"],
    )
    note(customer, "Mag es kurz.")
    note(customer, "Kommt immer zu spät.")
    consent(customer, "privacy", True)
    consent(customer, "sms_reminders", True)
    consent(customer, "marketing", True)
    service = Service.objects.create(name="Farbe & Schnitt", duration_minutes=90, price="89.50")
    staff = Resource.objects.create(kind="staff", name="Jana")
    now = timezone.now().replace(microsecond=0)
    past = Appointment.objects.create(
        service=service,
        customer=customer,
        start=now - timedelta(days=30),
        end=now - timedelta(days=30) + timedelta(minutes=90),
        status="completed",
        price="89.50",
        notes="Wünscht Strähnchen.",
    )
    future = Appointment.objects.create(
        service=service,
        customer=customer,
        start=now + timedelta(days=3),
        end=now + timedelta(days=3, minutes=90),
        status="confirmed",
        price="79.00",
        notes="Bitte Tee.",
        source="widget",
        manage_token=f"tok-{customer.pk}-{now.timestamp()}",
    )
    for appointment in (past, future):
        Allocation.objects.create(
            appointment=appointment, resource=staff, period=(appointment.start, appointment.end)
        )
    IdempotentRequest.objects.create(
        key=f"idem-{future.pk}", fingerprint="0" * 64, status_code=201, body={"id": future.pk}
    )
    OutboxMessage.objects.create(
        channel="sms",
        kind="confirmation",
        recipient=phone,
        text=f"Hallo {first_name}, Ihr Termin ist gebucht.",
        customer=customer,
        appointment=past,
        due_at=now - timedelta(days=31),
        status="sent",
        idempotency_key=f"confirmation:{past.pk}:sms",
    )
    OutboxMessage.objects.create(
        channel="email",
        kind="reminder",
        recipient=email,
        customer=customer,
        appointment=future,
        due_at=now + timedelta(days=2),
        status="queued",
        idempotency_key=f"reminder:{future.pk}:email:24",
    )
    return customer
