"""Messages to the business itself: a notice when a customer books, moves or cancels online (the booking
page or the manage link), and each opted-in staff member's agenda of the day.

Both go through the outbox like a customer's messages (one row per recipient and event, sent by a worker,
exactly once). Unlike a customer's, their words are written when queued, in the team's language: a move
notice names the old time, which only the event knows.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from termino.platform.tenancy.routing import primary_url
from termino.platform.tenancy.selectors import current_business
from termino.shared import phones, timeutils
from termino.tenants.accounts.models import Role, User
from termino.tenants.business.selectors import business_settings
from termino.tenants.scheduling import events
from termino.tenants.scheduling.models import Appointment, AppointmentSource, AppointmentStatus, Resource

from .due import outbox_due, outbox_queue_once
from .models import Channel, MessageKind, OutboxMessage

NOTICE_KINDS = {
    events.CREATED: MessageKind.TEAM_BOOKED,
    events.REQUESTED: MessageKind.TEAM_BOOKED,
    events.MOVED: MessageKind.TEAM_MOVED,
    events.CANCELLED: MessageKind.TEAM_CANCELLED,
}
# The agenda goes out from this local time; after the other, a day's agenda is no longer sent.
AGENDA_FROM, AGENDA_UNTIL = time(7), time(11)


def _owner() -> User | None:
    return User.objects.filter(role=Role.OWNER, is_active=True).first()


def _language(user: User | None, tenant) -> str:
    return (user.language if user else "") or tenant.language or settings.LANGUAGE_CODE


def _when(moment, tenant) -> str:
    """ "Monday, 18 January 2027, 10:00" in the active language and the business's zone."""
    local = timeutils.localtime(moment, timeutils.zone(tenant.time_zone))
    german = translation.get_language().startswith("de")
    day = date_format(local, "l, j. F Y" if german else "l, j F Y")
    return _("%(day)s, %(time)s") % {"day": day, "time": timeutils.wall_time(moment, local.tzinfo)}


def _staff_names(resource_ids) -> str:
    names = Resource.objects.filter(pk__in=resource_ids, kind="staff").values_list("name", flat=True)
    return ", ".join(names)


def _notice(kind: str, event: events.AppointmentEvent, tenant) -> tuple[str, str, str]:
    """(subject, e-mail body, SMS) of a notice, in the active language."""
    appointment, after = event.appointment, event.after
    customer = str(appointment.customer) if appointment.customer else _("A customer")
    values = {
        "customer": customer,
        "service": appointment.service.name,
        "when": _when(after.start, tenant),
        "before": _when(event.before.start, tenant) if event.before else "",
        "staff": _staff_names(after.resource_ids) or "—",
    }
    if kind == MessageKind.TEAM_MOVED:
        subject = _("Moved online: %(service)s, now %(when)s") % values
        lead = _("%(customer)s moved an appointment online.") % values
        times = _("Before: %(before)s\nNow: %(when)s") % values
        sms = _("%(customer)s moved %(service)s online to %(when)s (was %(before)s).") % values
    elif kind == MessageKind.TEAM_CANCELLED:
        subject = _("Cancelled online: %(service)s, %(when)s") % values
        lead = _("%(customer)s cancelled an appointment online.") % values
        times = values["when"]
        sms = _("%(customer)s cancelled %(service)s on %(when)s online.") % values
    elif event.kind == events.REQUESTED:
        subject = _("New booking request: %(service)s, %(when)s") % values
        lead = _("%(customer)s asked for an appointment online. Please confirm or decline it.") % values
        times = values["when"]
        sms = _("Booking request from %(customer)s: %(service)s on %(when)s.") % values
    else:
        subject = _("New online booking: %(service)s, %(when)s") % values
        lead = _("%(customer)s booked an appointment online.") % values
        times = values["when"]
        sms = _("%(customer)s booked %(service)s on %(when)s online.") % values
    contact = []
    if appointment.customer and appointment.customer.phone:
        contact.append(_("Phone: %(phone)s") % {"phone": phones.international(appointment.customer.phone)})
    if appointment.customer and appointment.customer.email:
        contact.append(_("E-mail: %(email)s") % {"email": appointment.customer.email})
    calendar = primary_url(
        tenant, f"/calendar/?date={timeutils.local_date(after.start, timeutils.zone(tenant.time_zone))}"
    )
    body = "\n\n".join(
        part
        for part in (
            lead,
            f"{appointment.service.name}\n{times}\n" + _("With: %(staff)s") % values,
            "\n".join(contact),
            _("Calendar: %(url)s") % {"url": calendar},
        )
        if part
    )
    return " ".join(subject.split())[:200], body, f"{tenant.name}: {sms}"


def on_appointment_event(event: events.AppointmentEvent) -> None:
    """Subscribed in the lifecycle's transaction: a customer changed something online; the team hears it."""
    kind = NOTICE_KINDS.get(event.kind)
    if kind is None or event.actor.source != AppointmentSource.WIDGET or event.actor.user is not None:
        return
    rules = business_settings()
    tenant = current_business()
    owner = _owner()
    email_to = (rules.team_notice_email_to or (owner.email if owner else "") or tenant.email).strip()
    recipients = []
    if rules.team_notice_email and email_to:
        recipients.append((Channel.EMAIL, email_to))
    if rules.team_notice_sms_to:
        recipients.append((Channel.SMS, rules.team_notice_sms_to))
    if not recipients:
        return
    with translation.override(_language(owner, tenant)):
        subject, body, sms = _notice(kind, event, tenant)
    appointment = event.appointment
    moment = event.after.start.isoformat() if kind == MessageKind.TEAM_MOVED else ""
    # A course booked (or cancelled) online at once: one notice for the series, naming its first date.
    series = event.extra.get("series")
    key = (
        f"{kind}:series:{series}:{event.extra.get('series_revision', 0)}"
        if series is not None
        else f"{kind}:{appointment.pk}:{moment}"
    )
    for channel, recipient in recipients:
        outbox_queue_once(
            OutboxMessage(
                idempotency_key=f"{key}:{channel}",
                channel=channel,
                kind=kind,
                recipient=recipient,
                appointment=appointment,
                due_at=timeutils.now(),
                subject=subject if channel == Channel.EMAIL else "",
                text=body if channel == Channel.EMAIL else sms,
            )
        )


# --- The daily agenda --------------------------------------------------------------------------------------


def _agenda(user: User, resource: Resource, appointments, day, tenant) -> tuple[str, str]:
    zone = timeutils.zone(tenant.time_zone)
    german = translation.get_language().startswith("de")
    day_text = date_format(day, "l, j. F Y" if german else "l, j F Y")
    lines = []
    for appointment in appointments:
        span = f"{timeutils.wall_time(appointment.start, zone)}–{timeutils.wall_time(appointment.end, zone)}"
        who = str(appointment.customer) if appointment.customer else _("without a customer")
        line = f"{span}  {appointment.service.name} – {who}"
        if appointment.status == AppointmentStatus.REQUESTED:
            line += " (" + _("not confirmed yet") + ")"
        lines.append(line)
    subject = _("Your appointments on %(day)s") % {"day": day_text}
    body = "\n\n".join(
        (
            _("Good morning %(name)s,") % {"name": user.first_name or resource.name},
            _("your appointments at %(business)s on %(day)s:") % {"business": tenant.name, "day": day_text},
            "\n".join(lines),
            _("Calendar: %(url)s") % {"url": primary_url(tenant, f"/calendar/?date={day.isoformat()}")},
            _("You get this e-mail because you asked for it under My account → Daily agenda."),
        )
    )
    return subject, body


AGENDA = "notifications.agenda"


def agendas_next_due() -> datetime | None:
    """The next morning run of the daily agendas: today at 07:00 local time before then, now in the
    morning window until today's run has been made, else tomorrow at 07:00; None without opted-in staff."""
    if not User.objects.filter(agenda_email=True, is_active=True).exclude(email="").exists():
        return None
    zone = timeutils.zone(current_business().time_zone)
    today = timeutils.today(zone)
    opens = timeutils.local_at(today, AGENDA_FROM, zone)
    now = timeutils.now()
    if now < opens:
        return opens
    if now < timeutils.local_at(today, AGENDA_UNTIL, zone) and cache.get(_agenda_run_key(today)) is None:
        return now
    return timeutils.local_at(today + timedelta(days=1), AGENDA_FROM, zone)


def agendas_run() -> int:
    """The due-work run (beat's dispatcher): today's agendas, then remember that today's run is made."""
    tenant = current_business()
    queued = agendas_queue(tenant=tenant)
    zone = timeutils.zone(tenant.time_zone)
    now = timeutils.localtime(timeutils.now(), zone)
    if AGENDA_FROM <= now.time() < AGENDA_UNTIL:
        cache.set(_agenda_run_key(now.date()), 1, timeout=2 * 24 * 3600)
    return queued


def _agenda_run_key(day) -> str:
    return f"agenda-run:{day.isoformat()}"  # the default cache's keys carry the business's schema


def agendas_queue(*, tenant) -> int:
    """Queue today's agenda for each opted-in staff member with appointments, once a day, in the morning
    (local time of the business). Idempotent: the row's key names the person and the day."""
    zone = timeutils.zone(tenant.time_zone)
    now = timeutils.localtime(timeutils.now(), zone)
    if not AGENDA_FROM <= now.time() < AGENDA_UNTIL:
        return 0
    day = now.date()
    start, end = timeutils.local_day_bounds(day, day, zone)
    queued = 0
    people = User.objects.filter(agenda_email=True, is_active=True).exclude(email="")
    for resource in Resource.objects.filter(user__in=people, active=True).select_related("user"):
        user = resource.user
        key = f"agenda:{user.pk}:{day.isoformat()}"
        if OutboxMessage.objects.filter(idempotency_key=key).exists():
            continue
        appointments = list(
            Appointment.objects.filter(
                allocations__resource=resource,
                start__gte=start,
                start__lt=end,
                status__in=(AppointmentStatus.CONFIRMED, AppointmentStatus.REQUESTED),
            )
            .select_related("service", "customer")
            .order_by("start", "pk")
            .distinct()  # processing time: a staff member holds two allocations of one appointment
        )
        if not appointments:
            continue
        with translation.override(_language(user, tenant)):
            subject, body = _agenda(user, resource, appointments, day, tenant)
        _message, created = OutboxMessage.objects.get_or_create(
            idempotency_key=key,
            defaults={
                "channel": Channel.EMAIL,
                "kind": MessageKind.AGENDA,
                "recipient": user.email,
                "due_at": timeutils.now(),
                "subject": subject,
                "text": body,
            },
        )
        queued += created
    if queued:
        outbox_due(timeutils.now())
    return queued
