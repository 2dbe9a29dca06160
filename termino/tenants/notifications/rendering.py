"""The words of each message, in the business's language and time zone, with the time zone stated.

A text is the business's own (`MessageTemplate`) or the default for its language and form of address
(`texts.py`). Texts hold a fixed set of placeholders such as `{service}`, replaced by plain string
substitution from a dict of strings: a business never writes template code, and a value (a customer's
name, say) is never read as a placeholder itself.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from termino.platform.tenancy.routing import primary_url
from termino.shared import phones, timeutils
from termino.tenants.business.models import BusinessSettings
from termino.tenants.scheduling.models import Appointment
from termino.tenants.scheduling.series_selectors import series_occurrences

from . import texts
from .models import Channel, MessageTemplate

# The placeholders a text may use, in the order the settings page lists them.
PLACEHOLDERS = {
    "customer": _("the customer's full name"),
    "first_name": _("the customer's first name (the full name if none is known)"),
    "service": _("the booked service"),
    "date": _("the day, e.g. Monday, 7 December 2026"),
    "time": _("the start time, e.g. 10:00"),
    "time_zone": _("the time zone of the time, e.g. Europe/Berlin"),
    "business": _("your company name"),
    "phone": _("your phone number"),
    "address": _("your address"),
    "manage_link": _("the link to reschedule or cancel (online bookings only)"),
    "reason": _("your reason, when you decline a request or cancel"),
    "dates": _("every date of an appointment series, with its time"),
    "payment": _("what the customer paid online and what it means if they cancel (only when they paid)"),
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class ValueSource:
    """A placeholder whose value another app knows (tenants/payments: `{payment}`), in the business's
    language: `value(appointment, channel)`, and `sample()` for the settings page's preview."""

    value: Callable[..., str]
    sample: Callable[[], str]


_SOURCES: dict[str, ValueSource] = {}


def value_register(name: str, source: ValueSource) -> None:
    """Called by the app that knows a placeholder's value (in its AppConfig.ready)."""
    if name not in PLACEHOLDERS:
        raise ValueError(f"{name} is not a placeholder")
    _SOURCES[name] = source


_SAMPLE_TOKEN = "k3Jd9QbX2mZr7TfW1yLp0sVaHc4NeGu8"  # noqa: S105 - made up, as long as a real manage token


def unknown_placeholders(text: str) -> list[str]:
    """Names in braces that are not placeholders, e.g. ["kunde"] for "Hallo {kunde}"."""
    return sorted({name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})


def has_stray_braces(text: str) -> bool:
    """A brace that does not belong to a `{name}` pair, e.g. "{service" or "}"."""
    return "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text)


def used_placeholders(text: str) -> set[str]:
    return {name for name in _PLACEHOLDER.findall(text) if name in PLACEHOLDERS}


def substitute(text: str, values: dict[str, str]) -> str:
    """Replace the placeholders line by line; a line whose placeholders are all empty is left out."""
    lines = []
    for line in text.splitlines():
        names = [name for name in _PLACEHOLDER.findall(line) if name in values]
        if names and not any(values[name] for name in names):
            continue
        lines.append(_PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), line))
    # Dropped lines must not leave gaps of several blank lines behind.
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _language(tenant) -> str:
    return "en" if (tenant.language or "de")[:2] == "en" else "de"


def _moment(start: datetime, *, tenant) -> dict[str, str]:
    local = start.astimezone(ZoneInfo(tenant.time_zone))
    language = _language(tenant)
    with translation.override(language):
        day = date_format(local, "l, j. F Y" if language == "de" else "l, j F Y")
    return {"date": day, "time": local.strftime("%H:%M"), "time_zone": tenant.time_zone}


def _business(tenant) -> dict[str, str]:
    address = ", ".join(p for p in (tenant.street, f"{tenant.postcode} {tenant.city}".strip()) if p)
    return {"business": tenant.name, "phone": phones.international(tenant.phone), "address": address}


def placeholder_values(
    *, tenant, appointment, customer, channel: str = Channel.EMAIL, used: set[str] | None = None
) -> dict[str, str]:
    """The value of every placeholder for one message (empty where not known); those other apps know
    only when `used` (None: all) names them, since each costs them a query."""
    values = dict.fromkeys(PLACEHOLDERS, "")
    values.update(_business(tenant))
    if customer is not None:
        values["customer"] = str(customer)
        values["first_name"] = customer.first_name or str(customer)
    if appointment is not None:
        values["service"] = _service_names(appointment)
        values.update(_moment(appointment.start, tenant=tenant))
        if appointment.manage_token:
            values["manage_link"] = primary_url(tenant, f"/book/manage/{appointment.manage_token}/")
        values["reason"] = appointment.cancel_reason
        if appointment.series_id:
            values["dates"] = _series_dates(appointment, tenant=tenant, sms=channel == Channel.SMS)
        with translation.override(_language(tenant)):
            for name, source in _SOURCES.items():
                if used is None or name in used:
                    values[name] = source.value(appointment, channel=channel)
    return values


def _service_names(appointment) -> str:
    """The service; for a visit (whose lead speaks for all of it) every service in order: "Cut + Colour"."""
    if appointment.visit_id is None:
        return appointment.service.name
    names = (
        Appointment.objects.filter(visit_id=appointment.visit_id)
        .order_by("start", "pk")
        .values_list("service__name", flat=True)
    )
    return " + ".join(names) or appointment.service.name


def _series_dates(appointment, *, tenant, sms: bool) -> str:
    """The series' booked dates still to come, one per line (in an SMS, separated by semicolons)."""
    occurrences = series_occurrences(series=appointment.series, since=timeutils.now(), active_only=True)
    dates = []
    for occurrence in occurrences:
        moment = _moment(occurrence.start, tenant=tenant)
        dates.append(f"{moment['date']}, {moment['time']}")
    if not dates:
        return "–"
    return "; ".join(dates) if sms else "\n".join(dates)


def sample_values(*, tenant, service_name: str = "") -> dict[str, str]:
    """Values of a made-up appointment next Monday at 10:00, for previews on the settings page."""
    zone = ZoneInfo(tenant.time_zone)
    monday = timeutils.next_weekday(0, zone)
    english = _language(tenant) == "en"
    values = {
        "customer": "Lena Fischer",
        "first_name": "Lena",
        "service": service_name or ("Haircut" if english else "Haarschnitt"),
        **_moment(timeutils.local_at(monday, time(10), zone), tenant=tenant),
        **_business(tenant),
    }
    weeks = [
        _moment(timeutils.local_at(monday + timedelta(weeks=n), time(10), zone), tenant=tenant)
        for n in (0, 1)
    ]
    values["dates"] = "\n".join(f"{m['date']}, {m['time']}" for m in weeks)
    with translation.override(_language(tenant)):
        values.update({name: source.sample() for name, source in _SOURCES.items()})
    try:
        values["manage_link"] = primary_url(tenant, f"/book/manage/{_SAMPLE_TOKEN}/")
    except ValueError:  # a business always has a primary domain; a preview must not fail without one
        values["manage_link"] = ""
    return values


def default_text(
    *, kind: str, channel: str, tenant, rules: BusinessSettings | None = None
) -> tuple[str, str]:
    """(subject, body) of the default text that fits the business's language and form of address."""
    rules = rules or BusinessSettings.current()
    return texts.default_text(
        kind=kind, channel=channel, language=_language(tenant), address=rules.customer_address
    )


def current_text(
    *, kind: str, channel: str, tenant, rules: BusinessSettings | None = None
) -> tuple[str, str]:
    """(subject, body): the business's own text if it wrote one, else the default."""
    own = MessageTemplate.objects.filter(kind=kind, channel=channel).first()
    if own is not None:
        return own.subject, own.body
    return default_text(kind=kind, channel=channel, tenant=tenant, rules=rules)


def render_text(*, channel: str, subject: str, body: str, values: dict[str, str]) -> tuple[str, str]:
    rendered_subject = ""
    if channel == Channel.EMAIL:
        # A subject is one header line, whatever a value holds.
        rendered_subject = " ".join(substitute(subject, values).split())
    return rendered_subject, substitute(body, values)


def own_texts() -> dict[tuple[str, str], tuple[str, str]]:
    """The business's own texts by (kind, channel): loaded once for a batch of messages."""
    return {(t.kind, t.channel): (t.subject, t.body) for t in MessageTemplate.objects.all()}


def render(
    message, *, tenant, own: dict | None = None, rules: BusinessSettings | None = None
) -> tuple[str, str]:
    """(subject, body) of an outbox message; the subject is empty for SMS.

    A worker sending a batch passes the business's own texts and rules, loaded once (`own_texts`)."""
    if own is None:
        subject, body = current_text(kind=message.kind, channel=message.channel, tenant=tenant, rules=rules)
    elif (message.kind, message.channel) in own:
        subject, body = own[(message.kind, message.channel)]
    else:
        subject, body = default_text(kind=message.kind, channel=message.channel, tenant=tenant, rules=rules)
    values = placeholder_values(
        tenant=tenant,
        appointment=message.appointment,
        customer=message.customer,
        channel=message.channel,
        used=used_placeholders(f"{subject}\n{body}"),
    )
    return render_text(channel=message.channel, subject=subject, body=body, values=values)
