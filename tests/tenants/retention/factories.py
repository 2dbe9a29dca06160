"""Data at chosen ages inside the caller's schema, for the retention rules' boundaries."""

import itertools
from datetime import datetime, timedelta

from termino.tenants.accounts.models import LoginEvent
from termino.tenants.crm.models import Consent, Customer, CustomerNote
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling.models import Appointment, Service

_serial = itertools.count(1)
SECOND = timedelta(seconds=1)


def customer(*, touched: datetime, **fields) -> Customer:
    fields.setdefault("last_name", f"Kundin {next(_serial)}")
    fields.setdefault("email", f"kundin{next(_serial)}@example.com")
    row = Customer.objects.create(**fields)
    Customer.objects.filter(pk=row.pk).update(created_at=touched, updated_at=touched)
    row.refresh_from_db()
    return row


def service() -> Service:
    return Service.objects.first() or Service.objects.create(name="Haarschnitt", duration_minutes=30)


def appointment(*, ended: datetime, customer=None, **fields) -> Appointment:
    fields.setdefault("notes", "Allergisch gegen Ammoniak")
    return Appointment.objects.create(
        service=service(),
        customer=customer,
        start=ended - timedelta(minutes=30),
        end=ended,
        status=fields.pop("status", "completed"),
        manage_token=fields.pop("manage_token", f"tok{next(_serial):020d}"),
        **fields,
    )


def message(*, due: datetime, customer=None, appointment=None, status="sent", **fields) -> OutboxMessage:
    return OutboxMessage.objects.create(
        channel=fields.pop("channel", "sms"),
        kind="reminder",
        recipient=fields.pop("recipient", "+4917012345678"),
        text=fields.pop("text", "Erinnerung: Ihr Termin morgen um 10:00."),
        customer=customer,
        appointment=appointment,
        due_at=due,
        status=status,
        idempotency_key=f"retention-test:{next(_serial)}",
        **fields,
    )


def note(customer, *, written: datetime) -> CustomerNote:
    row = CustomerNote.objects.create(customer=customer, text="Mag es kurz.")
    CustomerNote.objects.filter(pk=row.pk).update(created_at=written)
    return row


def consent(customer, *, recorded: datetime) -> Consent:
    row = Consent.objects.create(customer=customer, kind="privacy", granted=True, source="widget")
    Consent.objects.filter(pk=row.pk).update(recorded_at=recorded)
    return row


def login_event(*, at: datetime, ip: str = "203.0.113.77") -> LoginEvent:
    return LoginEvent.objects.create(
        username="anna@example.com", created_at=at, ip_address=ip, outcome="success"
    )
