"""The words of each message, in the business's language and time zone, with the time zone stated."""

from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format


def render(message, *, tenant) -> tuple[str, str]:
    """(subject, body) of an outbox message; the subject is empty for SMS."""
    appointment = message.appointment
    zone = ZoneInfo(tenant.time_zone)
    language = (tenant.language or "de")[:2]
    with translation.override(language):
        start = appointment.start.astimezone(zone) if appointment else None
        context = {
            "tenant": tenant,
            "appointment": appointment,
            "customer": message.customer,
            "date": date_format(start, "l, j. F Y" if language == "de" else "l, j F Y") if start else "",
            "time": start.strftime("%H:%M") if start else "",
            "zone": tenant.time_zone,
        }
        body = render_to_string(f"notifications/{message.kind}.{message.channel}.txt", context).strip()
        subject = ""
        if message.channel == "email":
            subject = render_to_string(f"notifications/{message.kind}.subject.txt", context).strip()
    return subject, body
