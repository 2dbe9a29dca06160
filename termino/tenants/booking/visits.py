"""Online bookings of a visit: several services back to back, one booking, one confirmation, one manage link.

The same rules as `services.booking_create` (consent, contact lock, open bookings, approval, CRM link); the
visit's lead appointment carries the manage link, through which the whole visit is cancelled.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext as _

from termino.shared.errors import ConflictError, InvalidRequest
from termino.tenants.business.models import BusinessSettings
from termino.tenants.scheduling import lifecycle, selectors
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.models import Appointment, AppointmentStatus

from . import services

NEAREST_VISITS = 3


@dataclass(frozen=True)
class OnlineVisit:
    service_ids: tuple[int, ...]
    staff_ids: tuple[int | None, ...]  # per service: the staff member asked for, or None for anyone
    start: datetime
    first_name: str
    last_name: str
    email: str
    phone: str
    privacy_consent: bool
    sms_consent: bool = False
    note: str = ""
    form_key: str = ""


class VisitTaken(ConflictError):
    def __init__(self, message: str, nearest: list[dict]):
        super().__init__(message, nearest=nearest)


def _slots(visit: OnlineVisit, first_day, last_day, time_zone: str):
    slots = selectors.visit_free_slots(
        service_ids=visit.service_ids,
        resource_ids=visit.staff_ids,
        start_date=first_day,
        end_date=last_day,
        time_zone=time_zone,
        online=True,
    )
    if slots is None:
        raise InvalidRequest(_("One of these services cannot be booked online."))
    return slots


def nearest_visits(visit: OnlineVisit, time_zone: str) -> list[dict]:
    """The free starts of this visit closest to the time asked for, within a week either side."""
    day = visit.start.astimezone(ZoneInfo(time_zone)).date()
    slots = _slots(visit, day - timedelta(days=7), day + timedelta(days=7), time_zone)
    slots.sort(key=lambda s: abs((s.start - visit.start).total_seconds()))
    return [s.as_json() for s in slots[:NEAREST_VISITS]]


def _free_visit(visit: OnlineVisit, time_zone: str):
    day = visit.start.astimezone(ZoneInfo(time_zone)).date()
    for slot in _slots(visit, day, day, time_zone):
        if slot.start.timestamp() == visit.start.timestamp():  # compare instants, not wall clocks
            return slot
    return None


@transaction.atomic
def visit_booking_create(*, visit: OnlineVisit, time_zone: str) -> list[Appointment]:
    """Book the visit as offered; its appointments in order, the first with the manage link."""
    services.advisory_lock(*(f"contact:{value}" for value in (visit.email.lower(), visit.phone) if value))
    rules = BusinessSettings.current()
    if not visit.privacy_consent:
        raise InvalidRequest(_("Please accept the privacy notice to book."))
    if len(visit.service_ids) < 2:
        raise InvalidRequest(_("A visit has at least two services."))
    offered = [services.bookable_service(pk) for pk in visit.service_ids]
    staff = [services._online_staff(pk) for pk in visit.staff_ids]
    if visit.form_key:
        # The form's holds make way, as for a booking of one service.
        Appointment.objects.filter(
            status=AppointmentStatus.HELD, hold_owner__form_key=visit.form_key
        ).delete()
    if _free_visit(visit, time_zone) is None:
        raise VisitTaken(
            _("This time is no longer available. Please choose another one."),
            nearest_visits(visit, time_zone),
        )
    customer = services.customer_find_or_create(
        first_name=visit.first_name, last_name=visit.last_name, email=visit.email, phone=visit.phone
    )
    services.open_bookings_check(customer, rules)
    for service in offered:
        if services.paid_online(service=service, customer=customer):
            raise InvalidRequest(
                _("%(service)s is paid online when it is booked. Please book it on its own.")
                % {"service": service.name}
            )
    status = AppointmentStatus.REQUESTED if rules.approval_required else AppointmentStatus.CONFIRMED
    services._record_consents(customer, visit, services._notice_version(rules))
    starts = scheduling.visit_starts(offered, visit.start)
    try:
        appointments = lifecycle.visit_book(
            actor=services.CUSTOMER,
            bookings=[
                scheduling.Booking(service=service, start=start, staff=chosen)
                for service, start, chosen in zip(offered, starts, staff, strict=True)
            ],
            customer=customer,
            status=status,
            notes=visit.note,
        )
    except scheduling.Conflict as exc:
        raise VisitTaken(
            _("This time was just taken. Please choose another one."), nearest_visits(visit, time_zone)
        ) from exc
    lead = appointments[0]
    lead.manage_token = secrets.token_urlsafe(24)
    lead.save(update_fields=["manage_token"])
    return appointments
