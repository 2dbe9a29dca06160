"""The calendar entry (ICS) of an appointment: the booking page offers it, confirmation e-mails attach it."""

from datetime import UTC

import icalendar
from django.utils import timezone


def appointment_ics(*, appointment, tenant, manage_url: str) -> bytes:
    """The appointment as a calendar entry (ICS) for the customer's own calendar; UTC times, a stable UID."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Termino//Booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"appointment-{appointment.pk}@{tenant.schema_name}.termino")
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", appointment.start.astimezone(UTC))
    event.add("dtend", appointment.end.astimezone(UTC))
    event.add("summary", f"{appointment.service.name} – {tenant.name}")
    address = ", ".join(p for p in (tenant.street, f"{tenant.postcode} {tenant.city}".strip()) if p)
    if address:
        event.add("location", address)
    event.add("description", f"{tenant.name}\n{tenant.phone}\n{manage_url}".strip())
    event.add("url", manage_url)
    event.add("status", "CONFIRMED" if appointment.status == "confirmed" else "TENTATIVE")
    calendar.add_component(event)
    return calendar.to_ical()
