"""The calendar entry (ICS) of an appointment: the booking page offers it, confirmation e-mails attach it."""

from datetime import UTC

import icalendar
from django.utils import timezone

from .series_selectors import series_occurrences


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


def series_ics(*, series, tenant) -> bytes:
    """Every occurrence of a series in one calendar file: booked ones confirmed, cancelled ones marked
    cancelled under the same UID, so a calendar that imported an earlier file drops them."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Termino//Booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    address = ", ".join(p for p in (tenant.street, f"{tenant.postcode} {tenant.city}".strip()) if p)
    stamp = timezone.now().astimezone(UTC)
    for appointment in series_occurrences(series=series):
        event = icalendar.Event()
        event.add("uid", f"appointment-{appointment.pk}@{tenant.schema_name}.termino")
        event.add("dtstamp", stamp)
        event.add("dtstart", appointment.start.astimezone(UTC))
        event.add("dtend", appointment.end.astimezone(UTC))
        event.add("summary", f"{appointment.service.name} – {tenant.name}")
        if address:
            event.add("location", address)
        event.add("description", f"{tenant.name}\n{tenant.phone}".strip())
        event.add("status", _ICS_STATUS.get(appointment.status, "TENTATIVE"))
        calendar.add_component(event)
    return calendar.to_ical()


_ICS_STATUS = {"confirmed": "CONFIRMED", "cancelled": "CANCELLED", "completed": "CONFIRMED"}
