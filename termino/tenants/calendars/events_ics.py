"""An appointment as a calendar event for the team's calendars (feeds and CalDAV alike).

The UID is the appointment's and stays; SEQUENCE counts the changes in its history, so a move replaces the
event in place; DTSTAMP is the appointment's last change, so the same appointment gives the same bytes (and
a feed the same ETag) until something changes. What is shown of the customer is the business's choice.
"""

from datetime import UTC

import icalendar
from django.utils.translation import gettext as _

from termino.tenants.scheduling.models import AppointmentStatus

from .models import FeedDetail


def uid_suffix(schema: str) -> str:
    return f"@{schema}.termino"


def appointment_uid(appointment_id: int, schema: str) -> str:
    # The same UID as the customer's calendar entry (scheduling/ics.py): one appointment, one identity.
    return f"appointment-{appointment_id}{uid_suffix(schema)}"


def summary(appointment, detail: str) -> str:
    if detail == FeedDetail.BUSY:
        return _("Appointment")
    parts = [appointment.service.name]
    customer = appointment.customer
    if customer is not None and detail == FeedDetail.FIRST_NAME:
        parts.append(customer.first_name or customer.last_name)
    elif customer is not None and detail == FeedDetail.FULL_NAME:
        parts.append(f"{customer.first_name} {customer.last_name}".strip())
    return " – ".join(p for p in parts if p)


def appointment_event(appointment, *, detail: str, schema: str, sequence: int, staff: str = ""):
    event = icalendar.Event()
    event.add("uid", appointment_uid(appointment.pk, schema))
    event.add("dtstamp", appointment.updated_at.astimezone(UTC))
    event.add("last-modified", appointment.updated_at.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("dtstart", appointment.start.astimezone(UTC))
    event.add("dtend", appointment.end.astimezone(UTC))
    event.add("summary", summary(appointment, detail))
    if staff:
        event.add("description", staff)
    event.add("status", "TENTATIVE" if appointment.status == AppointmentStatus.REQUESTED else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("class", "PRIVATE")
    return event


def calendar(name: str) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Termino//Team calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    return cal
