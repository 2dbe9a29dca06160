"""Customers with appointments, notes, consents and messages, inside the caller's schema."""

from datetime import timedelta

from django.utils import timezone

from termino.tenants.crm.models import Consent, Customer, CustomerNote
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling.models import Appointment, Service


def customer(last_name="Müller", first_name="Anna", **fields) -> Customer:
    return Customer.objects.create(first_name=first_name, last_name=last_name, **fields)


def service(name="Haarschnitt") -> Service:
    return Service.objects.create(name=name, duration_minutes=30)


def appointment(customer, *, days=1, status="confirmed", service_=None) -> Appointment:
    start = timezone.now().replace(microsecond=0) + timedelta(days=days)
    return Appointment.objects.create(
        service=service_ or Service.objects.first() or service(),
        customer=customer,
        start=start,
        end=start + timedelta(minutes=30),
        status=status,
    )


def message(customer, *, kind="confirmation", status="sent", key=None) -> OutboxMessage:
    return OutboxMessage.objects.create(
        channel="sms",
        kind=kind,
        recipient=customer.phone or "+4917100000000",
        text="Ihr Termin ist gebucht.",
        customer=customer,
        due_at=timezone.now(),
        status=status,
        idempotency_key=key or f"test:{customer.pk}:{kind}:{OutboxMessage.objects.count()}",
    )


def consent(customer, kind="sms_reminders", granted=True) -> Consent:
    return Consent.objects.create(customer=customer, kind=kind, granted=granted, source="widget")


def note(customer, text="Mag es kurz.", author=None) -> CustomerNote:
    return CustomerNote.objects.create(customer=customer, text=text, author=author)
