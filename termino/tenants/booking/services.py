"""Online bookings by end customers: the business's rules, the CRM link, consents and the confirmation."""

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from termino.shared import phones, timeutils
from termino.shared.db.locks import advisory_xact_locks
from termino.shared.errors import ConflictError, InvalidRequest
from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm import selectors as crm_selectors
from termino.tenants.crm import services as crm
from termino.tenants.crm.models import Consent, ConsentKind, Customer
from termino.tenants.payments import services as payments
from termino.tenants.scheduling import lifecycle, selectors, series
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Resource,
    Service,
)

from .models import HoldOwner

NEAREST_SLOTS = 3
HOLD_MINUTES = 10
CUSTOMER = Actor(source=AppointmentSource.WIDGET)  # a customer on the booking page: no login, no column


@dataclass(frozen=True)
class OnlineBooking:
    service_id: int
    start: datetime
    first_name: str
    last_name: str
    email: str  # lower-case, may be empty when a phone is given
    phone: str  # E.164, may be empty when an e-mail is given
    privacy_consent: bool
    sms_consent: bool = False
    resource_id: int | None = None
    note: str = ""
    hold: str = ""  # token of a hold placed while the customer filled in the form
    form_key: str = ""  # the form's key (apis.visitor_key): its other holds make way once booked


class SlotTaken(ConflictError):
    def __init__(self, message: str, nearest: list[dict]):
        super().__init__(message, nearest=nearest)

    @classmethod
    def near(cls, service, start, time_zone: str, resource_id, *, just_taken: bool = False) -> "SlotTaken":
        """409 with the free slots nearest to the time asked for."""
        message = (
            _("This time was just taken. Please choose another one.")
            if just_taken
            else _("This time is no longer available. Please choose another one.")
        )
        return cls(
            message,
            nearest_slots(service=service, around=start, time_zone=time_zone, resource_id=resource_id),
        )


def bookable_service(service_id: int) -> Service:
    """A service a customer can book one appointment of online (a course is booked only as a whole:
    series_online.py)."""
    service = Service.objects.filter(pk=service_id, active=True, bookable_online=True).first()
    if service is None:
        raise InvalidRequest(_("This service cannot be booked online."))
    if service.online_series:
        raise InvalidRequest(
            _("%(service)s is a course: it is booked online only with all of its appointments.")
            % {"service": service.name}
        )
    return service


def paid_online(*, service: Service, customer) -> bool:
    """Whether booking `service` online asks this customer to pay (tenants/payments). Only the booking of
    one service takes payments; the doors that cannot (a visit of several services, the waitlist) refuse
    such a booking rather than make it unpaid."""
    return payments.requirement_for(service=service, customer=customer) is not None


def nearest_slots(
    *, service: Service, around: datetime, time_zone: str, resource_id: int | None
) -> list[dict]:
    """The free slots closest to `around` within a week either side, nearest first."""
    local_day = around.astimezone(ZoneInfo(time_zone)).date()
    slots = selectors.free_slots(
        service=service,
        start_date=local_day - timedelta(days=7),
        end_date=local_day + timedelta(days=7),
        time_zone=time_zone,
        resource_id=resource_id,
    )
    slots.sort(key=lambda s: abs((s.start - around).total_seconds()))
    return [s.as_json() for s in slots[:NEAREST_SLOTS]]


def _free_slot(service: Service, start: datetime, time_zone: str, resource_id: int | None):
    """The free slot starting at `start` right now (rules, hours, notice and horizon included), or None."""
    day = start.astimezone(ZoneInfo(time_zone)).date()
    for slot in selectors.free_slots(
        service=service, start_date=day, end_date=day, time_zone=time_zone, resource_id=resource_id
    ):
        if slot.start.timestamp() == start.timestamp():  # compare instants, not wall clocks
            return slot
    return None


@transaction.atomic
def customer_find_or_create(*, first_name: str, last_name: str, email: str, phone: str) -> Customer:
    """The customer an online booking belongs to: the entry whose contact data is exactly what was given.

    The request is anonymous: whoever sends it may have typed someone else's phone number or address. So
    it joins an existing entry only when the e-mail and the phone given are both exactly those on record
    (e-mail in lower case, phone in E.164; a field left empty matches only an empty one, and a field
    given that the entry lacks does not match), and it never writes into an existing entry. Otherwise the
    booking gets a new customer, and the entries sharing its e-mail or phone (or, sharing neither, its
    name) are marked as likely duplicates for the team to merge or keep apart. Bookings with the same
    contact data run one after the other (advisory lock), so a new person is created once.
    """
    email = (email or "").strip().lower()
    try:
        phone = phones.normalise(phone)
    except phones.PhoneError as exc:
        raise InvalidRequest(exc.message) from exc
    if not email and not phone:
        raise InvalidRequest(_("Please give an e-mail address or a phone number."))
    crm.customer_contact_lock(email=email, phone=phone)
    same = Customer.objects.filter(email=email, phone=phone).order_by("id").first()
    if same is not None:
        return same
    customer = crm.customer_create(first_name=first_name, last_name=last_name, email=email, phone=phone)
    suspects = crm_selectors.same_contact_or_name(
        email=email,
        phone=phone,
        first_name=customer.first_name,
        last_name=customer.last_name,
        exclude_id=customer.pk,
    )
    crm.duplicate_suspicions_record(customer=customer, others=suspects)
    return customer


def advisory_lock(*names: str) -> None:
    """Transaction-scoped locks on names within this business (e.g. a customer's e-mail address), taken in
    one fixed order so that two callers never wait for each other in a circle."""
    keys = sorted(
        {
            int.from_bytes(
                hashlib.sha256(f"{connection.schema_name}\x1f{name}".encode()).digest()[:8],
                "big",
                signed=True,
            )
            for name in names
            if name
        }
    )
    advisory_xact_locks(keys)


class HoldLimitReached(Exception):
    """This visitor already holds `count` slots; the first of them lapses in `retry_after` seconds."""

    def __init__(self, count: int, retry_after: int):
        super().__init__(f"{count} holds")
        self.count = count
        self.retry_after = max(1, retry_after)


def _live_holds():
    return Appointment.objects.filter(status=AppointmentStatus.HELD, hold_expires_at__gt=timezone.now())


@transaction.atomic
def hold_create(
    *, service_id: int, start: datetime, resource_id: int | None, time_zone: str, ip_key: str, form_key: str
) -> Appointment:
    """Keep a slot for HOLD_MINUTES while the customer types; the token returned secures it.

    One visitor holds only a few slots at once, or one address could keep a day's calendar "taken": a new
    hold from the same form replaces its earlier one (PUBLIC_HOLDS_PER_FORM), and an address with
    PUBLIC_HOLDS_PER_IP live holds gets HoldLimitReached. Counted under a lock per address and form, so
    concurrent requests cannot overshoot.
    """
    service = bookable_service(service_id)
    staff = _online_staff(resource_id)
    advisory_lock(f"hold-ip:{ip_key}", f"hold-form:{form_key}")
    earlier = list(
        Appointment.objects.filter(status=AppointmentStatus.HELD, hold_owner__form_key=form_key)
        .order_by("-hold_expires_at", "-pk")
        .values_list("pk", flat=True)
    )
    Appointment.objects.filter(pk__in=earlier[max(settings.PUBLIC_HOLDS_PER_FORM - 1, 0) :]).delete()
    expiries = sorted(
        _live_holds().filter(hold_owner__ip_key=ip_key).values_list("hold_expires_at", flat=True)
    )
    allowed = max(settings.PUBLIC_HOLDS_PER_IP, 0)
    if len(expiries) >= allowed:
        lapse = (
            expiries[len(expiries) - allowed] if allowed else timezone.now() + timedelta(minutes=HOLD_MINUTES)
        )
        raise HoldLimitReached(len(expiries), math.ceil((lapse - timezone.now()).total_seconds()))
    if _free_slot(service, start, time_zone, resource_id) is None:
        raise SlotTaken.near(service, start, time_zone, resource_id)
    try:
        hold = lifecycle.appointment_hold(
            booking=scheduling.Booking(service=service, start=start, staff=staff),
            expires_at=timeutils.shift(timeutils.now(), minutes=HOLD_MINUTES),
            manage_token=secrets.token_urlsafe(24),
        )
    except scheduling.Conflict as exc:
        raise SlotTaken.near(service, start, time_zone, resource_id, just_taken=True) from exc
    HoldOwner.objects.create(appointment=hold, ip_key=ip_key, form_key=form_key)
    return hold


def hold_release(*, token: str) -> bool:
    deleted, _rows = Appointment.objects.filter(status=AppointmentStatus.HELD, manage_token=token).delete()
    return bool(deleted)


def _live_hold(token: str, booking: "OnlineBooking") -> Appointment | None:
    """The caller's hold for exactly this service and time, if it has not lapsed (locked)."""
    if not token:
        return None
    hold = (
        Appointment.objects.select_for_update()
        .filter(status=AppointmentStatus.HELD, manage_token=token, hold_expires_at__gt=timezone.now())
        .first()
    )
    if hold is None or hold.service_id != booking.service_id or hold.start != booking.start:
        return None
    if booking.resource_id and not hold.allocations.filter(resource_id=booking.resource_id).exists():
        return None
    return hold


def _online_staff(resource_id: int | None) -> Resource | None:
    if resource_id is None:
        return None
    staff = Resource.objects.filter(pk=resource_id, active=True, kind="staff").first()
    if staff is None:
        raise InvalidRequest(_("This staff member cannot be booked online."))
    return staff


@transaction.atomic
def booking_create(*, booking: OnlineBooking, time_zone: str) -> Appointment:
    # One booking at a time per e-mail address and phone number: the count of open bookings below then
    # sees the booking made just before, however many arrive at once.
    advisory_lock(*(f"contact:{value}" for value in (booking.email.lower(), booking.phone) if value))
    rules = BusinessSettings.current()
    if not booking.privacy_consent:
        raise InvalidRequest(_("Please accept the privacy notice to book."))
    service = bookable_service(booking.service_id)
    staff = _online_staff(booking.resource_id)
    hold = _live_hold(booking.hold, booking)
    if booking.form_key:
        # The form's other holds make way (its own hold must not block its own booking of another time).
        Appointment.objects.filter(
            status=AppointmentStatus.HELD, hold_owner__form_key=booking.form_key
        ).exclude(pk=getattr(hold, "pk", None)).delete()
    if hold is None and _free_slot(service, booking.start, time_zone, booking.resource_id) is None:
        raise SlotTaken.near(service, booking.start, time_zone, booking.resource_id)
    customer = customer_find_or_create(
        first_name=booking.first_name, last_name=booking.last_name, email=booking.email, phone=booking.phone
    )
    open_bookings_check(customer, rules)
    status = AppointmentStatus.REQUESTED if rules.approval_required else AppointmentStatus.CONFIRMED
    # Consents first: the lifecycle's event queues the confirmation by the channels they allow.
    _record_consents(customer, booking, _notice_version(rules))
    # --- Payment before confirmation (tenants/payments): the slot stays held while the customer pays;
    # the payment's event turns the hold into the booking. ---
    requirement = payments.requirement_for(service=service, customer=customer)
    token = secrets.token_urlsafe(24)  # the booking's manage link (a hold's own token is replaced)
    if requirement is not None:
        HoldOwner.objects.filter(appointment=hold).delete()  # kept for the payment, not for the form
        try:
            appointment = payments.payment_hold(
                hold=hold,
                booking=scheduling.Booking(service=service, start=booking.start, staff=staff),
                customer=customer,
                notes=booking.note,
                requirement=requirement,
            )
        except scheduling.Conflict as exc:
            raise SlotTaken.near(
                service, booking.start, time_zone, booking.resource_id, just_taken=True
            ) from exc
        appointment.manage_token = token
        appointment.save(update_fields=["manage_token"])
    # --- end of the payment step ---
    elif hold is not None:
        # The held slot becomes the booking: its allocations already hold the time.
        HoldOwner.objects.filter(appointment=hold).delete()  # a booking now, no hold
        appointment = lifecycle.appointment_book_held(
            actor=CUSTOMER,
            hold=hold,
            customer=customer,
            status=status,
            notes=booking.note,
            manage_token=token,
        )
    else:
        try:
            appointment = lifecycle.appointment_book(
                actor=CUSTOMER,
                booking=scheduling.Booking(service=service, start=booking.start, staff=staff),
                customer=customer,
                status=status,
                notes=booking.note,
                manage_token=token,
            )
        except scheduling.Conflict as exc:
            raise SlotTaken.near(
                service, booking.start, time_zone, booking.resource_id, just_taken=True
            ) from exc
    return appointment


def open_bookings_check(customer: Customer, rules: BusinessSettings) -> None:
    """Refuse a customer with `max_open_bookings` bookings still to come (a visit or a series counts once)."""
    # A time held while its customer pays counts too (only those holds have a customer).
    upcoming = Appointment.objects.filter(
        customer=customer, status__in=(*ACTIVE_STATUSES, AppointmentStatus.HELD), start__gte=timezone.now()
    )
    counts = upcoming.aggregate(
        single=Count("pk", filter=Q(visit__isnull=True, series__isnull=True)),
        visits=Count("visit_id", distinct=True),  # NULLs are not counted
        series=Count("series_id", distinct=True, filter=Q(visit__isnull=True)),
    )
    open_bookings = counts["single"] + counts["visits"] + counts["series"]
    if open_bookings >= rules.max_open_bookings:
        raise InvalidRequest(
            ngettext(
                "You already have %(n)d open booking here. Please cancel it or call us.",
                "You already have %(n)d open bookings here. Please cancel one or call us.",
                open_bookings,
            )
            % {"n": open_bookings}
        )


def _notice_version(rules: BusinessSettings) -> str:
    """The version of the booking page's privacy notice the customer accepted (generated from the business's
    settings, or its own text), archived before the consent names it."""
    from termino.platform.tenancy.selectors import current_business
    from termino.tenants.compliance.services import notice_version_for_consent

    return notice_version_for_consent(current_business(), rules)


def _record_consents(customer: Customer, booking: OnlineBooking, version: str) -> None:
    Consent.objects.create(
        customer=customer, kind=ConsentKind.PRIVACY, granted=True, policy_version=version, source="widget"
    )
    if booking.phone:
        Consent.objects.create(
            customer=customer,
            kind=ConsentKind.SMS_REMINDERS,
            granted=booking.sms_consent,
            policy_version=version,
            source="widget",
        )


# --- Self-service through the manage link ------------------------------------------------------------------


def booking_by_token(token: str) -> Appointment:
    appointment = (
        Appointment.objects.select_related("service", "customer")
        .filter(manage_token=token)
        .exclude(status=AppointmentStatus.HELD)
        .first()
        if token
        else None
    )
    if appointment is None:
        raise LookupError(token)
    return appointment


def _open(appointment: Appointment, rules: BusinessSettings) -> bool:
    return (
        appointment.status in ACTIVE_STATUSES
        and timeutils.shift(appointment.start, hours=-rules.cancel_cutoff_hours) > timeutils.now()
    )


def series_remaining(appointment: Appointment, rules: BusinessSettings) -> list[Appointment]:
    """Of the series the manage link's appointment leads, the appointments the customer can still cancel:
    those still to come beyond the cut-off, in time order."""
    if appointment.series_id is None:
        return []
    earliest = timeutils.shift(timeutils.now(), hours=rules.cancel_cutoff_hours)
    return list(
        Appointment.objects.filter(
            series_id=appointment.series_id, status__in=ACTIVE_STATUSES, start__gt=earliest
        ).order_by("start", "pk")
    )


def _series_active(appointment: Appointment) -> bool:
    return Appointment.objects.filter(
        series_id=appointment.series_id, status__in=ACTIVE_STATUSES, start__gte=timeutils.now()
    ).exists()


def self_service_open(appointment: Appointment, rules: BusinessSettings) -> bool:
    """Whether the customer can still change (for a series: cancel the rest of) the booking online."""
    if appointment.series_id is not None:
        return bool(series_remaining(appointment, rules))
    return _open(appointment, rules)


def _check_cutoff(appointment: Appointment, rules: BusinessSettings) -> None:
    active = (
        _series_active(appointment)
        if appointment.series_id is not None
        else appointment.status in ACTIVE_STATUSES
    )
    if not active:
        raise InvalidRequest(_("This booking is no longer active."))
    if not self_service_open(appointment, rules):
        raise InvalidRequest(
            ngettext(
                "Changes online are possible until %(hours)d hour before the appointment. Please call us.",
                "Changes online are possible until %(hours)d hours before the appointment. Please call us.",
                rules.cancel_cutoff_hours,
            )
            % {"hours": rules.cancel_cutoff_hours}
        )


@transaction.atomic
def booking_cancel(*, token: str) -> Appointment:
    appointment = booking_by_token(token)
    rules = BusinessSettings.current()
    _check_cutoff(appointment, rules)
    if appointment.series_id is not None:
        # A course booked online: its appointments still to come beyond the cut-off, this and all following
        # (one message for them all); the answer is the appointment the link belongs to.
        first = series_remaining(appointment, rules)[0]
        series.series_cancel(
            actor=CUSTOMER,
            appointment=first,
            scope=series.FOLLOWING,
            reason=_("Cancelled by the customer online"),
        )
        return booking_by_token(token)
    # A visit's link cancels all of it; the answer is its lead.
    return lifecycle.visit_cancel(
        actor=CUSTOMER, appointment=appointment, reason=_("Cancelled by the customer online")
    )[0]


@transaction.atomic
def booking_reschedule(*, token: str, start: datetime, time_zone: str) -> Appointment:
    appointment = booking_by_token(token)
    _check_cutoff(appointment, BusinessSettings.current())
    if appointment.visit_id is not None:
        raise InvalidRequest(
            _(
                "A visit of several services cannot be moved online. "
                "Please cancel it and book again, or call us."
            )
        )
    if appointment.series_id is not None:
        raise InvalidRequest(
            _("A course cannot be moved online. Please cancel it and book another start, or call us.")
        )
    slot = _free_slot(appointment.service, start, time_zone, None)
    if slot is not None:
        # Keep the customer's staff member when free then, else whoever is.
        current = set(
            appointment.allocations.filter(resource__kind="staff").values_list("resource_id", flat=True)
        )
        free_staff = list(
            Resource.objects.filter(pk__in=slot.resources, kind="staff")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        staff_id = next((pk for pk in free_staff if pk in current), free_staff[0] if free_staff else None)
        if staff_id is not None:
            try:
                return lifecycle.appointment_move(
                    actor=CUSTOMER,
                    appointment=appointment,
                    start=start,
                    staff=Resource.objects.get(pk=staff_id),
                )
            except scheduling.Conflict:
                pass
    raise SlotTaken.near(appointment.service, start, time_zone, None)
