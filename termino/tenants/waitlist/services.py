"""Writes of the waitlist: joining and leaving, offering free times (by the matcher or by hand), and the
customer's answer.

Race safety:
- Match runs of one business take turns (a transaction-scoped advisory lock), so a worker's run and the
  due-work dispatcher's never offer one time twice; the database refuses it anyway (one offer per entry
  and time, one open offer per entry).
- The offers of one round share one held appointment. Confirming locks that hold first, then the offer:
  of N customers confirming at once, the first turns the hold into their booking, the others find it no
  longer held and read "already taken". Expiry locks in the same order, so the two never deadlock.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.utils.translation import gettext as _

from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.shared.db.locks import advisory_xact_locks
from termino.shared.errors import ConflictError, InvalidRequest, NotPermitted
from termino.tenants.business.roles import own_resource_ids
from termino.tenants.business.selectors import business_settings
from termino.tenants.notifications import direct
from termino.tenants.notifications.models import MessageKind
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling import selectors as scheduling_selectors
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import (
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Resource,
    ResourceKind,
    Service,
)

from . import criteria, due, texts
from .models import DayPart, Entry, EntryStatus, Offer, OfferStatus, WaitlistSettings
from .tokens import new_token, token_hash

# The customer confirming an offer through its link: online, no login.
CUSTOMER = Actor(source=AppointmentSource.WIDGET)


class OfferClosed(ConflictError):
    """The offer can no longer be confirmed (409); `code` says why: taken, expired or declined."""

    def __init__(self, code: str):
        messages = {
            OfferStatus.TAKEN: _("Sorry, this time has already been taken. You stay on the waitlist."),
            OfferStatus.EXPIRED: _("This offer has expired. You stay on the waitlist."),
            OfferStatus.DECLINED: _("You have declined this offer."),
            "left": _("You are no longer on the waitlist."),
        }
        super().__init__(messages.get(code, messages[OfferStatus.TAKEN]), code=str(code))
        self.code = code


def _run_lock() -> None:
    """Match runs and offers by hand of this business take turns (until the transaction ends)."""
    key = int.from_bytes(
        hashlib.sha256(f"{connection.schema_name}\x1fwaitlist-match".encode()).digest()[:8],
        "big",
        signed=True,
    )
    advisory_xact_locks([key])


def _zone():
    return timeutils.zone(current_business().time_zone)


# --- Joining and leaving -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wish:
    service_id: int
    resource_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    weekdays: tuple[int, ...] = ()
    day_parts: tuple[str, ...] = ()
    note: str = ""


def _check_wish(wish: Wish, *, online: bool) -> tuple[Service, Resource | None]:
    services = Service.objects.filter(pk=wish.service_id, active=True)
    if online:
        services = services.filter(bookable_online=True)
    service = services.first()
    if service is None:
        raise InvalidRequest(_("This service has no waitlist."))
    resource = None
    if wish.resource_id is not None:
        resource = service.resources.filter(pk=wish.resource_id, kind=ResourceKind.STAFF, active=True).first()
        if resource is None:
            raise InvalidRequest(_("This staff member does not offer this service."))
    today = timeutils.today(_zone())
    if wish.date_to is not None and wish.date_to < today:
        raise InvalidRequest(_("The last day you can come has already passed."))
    if wish.date_from and wish.date_to and wish.date_from > wish.date_to:
        raise InvalidRequest(_("The first day must not be after the last day."))
    if any(day not in range(7) for day in wish.weekdays):
        raise InvalidRequest(_("Please choose weekdays from Monday to Sunday."))
    if any(part not in DayPart.values for part in wish.day_parts):
        raise InvalidRequest(_("Please choose morning, afternoon or evening."))
    return service, resource


@transaction.atomic
def entry_join(*, customer, wish: Wish, online: bool = True) -> tuple[Entry, str]:
    """Put `customer` on the waitlist of a service; joining again for the same service changes the wish and
    keeps the place. Returns the entry and the secret of its link to leave the list."""
    service, resource = _check_wish(wish, online=online)
    token, digest = new_token()
    fields = {
        "resource": resource,
        "date_from": wish.date_from,
        "date_to": wish.date_to,
        "weekdays": sorted(set(wish.weekdays)),
        "day_parts": [p for p in DayPart.values if p in wish.day_parts],
        "note": wish.note[:500],
        "token_hash": digest,
    }
    entry = (
        Entry.objects.select_for_update()
        .filter(customer=customer, service=service, status=EntryStatus.WAITING)
        .order_by("created_at", "pk")
        .first()
    )
    if entry is None:
        entry = Entry.objects.create(customer=customer, service=service, **fields)
    else:
        for name, value in fields.items():
            setattr(entry, name, value)
        entry.save()
    match_soon()
    return entry, token


def _end(entry: Entry) -> None:
    """Take `entry` off the list; an offer it was still to answer is declined (the time goes on)."""
    now = timeutils.now()
    holds = list(
        Offer.objects.filter(entry=entry, status=OfferStatus.OPEN).values_list("appointment_id", flat=True)
    )
    _lock_holds(holds)
    Offer.objects.filter(entry=entry, status=OfferStatus.OPEN).update(
        status=OfferStatus.DECLINED, decided_at=now
    )
    entry.status, entry.ended_at = EntryStatus.LEFT, now
    entry.save(update_fields=["status", "ended_at"])
    if _release_unwanted(holds):
        match_soon()


@transaction.atomic
def entry_leave(*, token: str) -> Entry:
    """The customer leaves the list through their link (LookupError for an unknown link)."""
    entry = Entry.objects.select_for_update().filter(token_hash=token_hash(token)).first() if token else None
    if entry is None:
        raise LookupError("waitlist entry")
    if entry.status == EntryStatus.WAITING:
        _end(entry)
    return entry


@transaction.atomic
def entry_remove(*, entry: Entry) -> Entry:
    """Staff take a customer off the list."""
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    if entry.status == EntryStatus.WAITING:
        _end(entry)
    return entry


# --- Offering ---------------------------------------------------------------------------------------------


def match_soon() -> None:
    """Times may have become free: a worker matches them with the waitlist once the transaction commits
    (and the due index is marked, should that task be lost)."""
    if Entry.objects.filter(status=EntryStatus.WAITING).exists():
        due.match_due(timeutils.now())


def _lock_holds(hold_ids) -> None:
    ids = sorted({pk for pk in hold_ids if pk is not None})
    if ids:
        list(Appointment.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))


def _release_unwanted(hold_ids) -> int:
    """Delete held appointments of rounds nobody can confirm any more: the time is free again."""
    ids = {pk for pk in hold_ids if pk is not None}
    if not ids:
        return 0
    wanted = set(
        Offer.objects.filter(appointment_id__in=ids, status=OfferStatus.OPEN).values_list(
            "appointment_id", flat=True
        )
    )
    deleted, _rows = Appointment.objects.filter(pk__in=ids - wanted, status=AppointmentStatus.HELD).delete()
    return deleted


def offers_expire() -> int:
    """Offers whose time to answer has passed: expired; their held times are released."""
    now = timeutils.now()
    lapsed = Offer.objects.filter(status=OfferStatus.OPEN, expires_at__lte=now)
    holds = list(lapsed.values_list("appointment_id", flat=True))
    if not holds:
        return 0
    _lock_holds(holds)  # holds first, then offers: the order confirming takes
    count = lapsed.update(status=OfferStatus.EXPIRED, decided_at=now)
    _release_unwanted(holds)
    return count


def _staff_ids(ids) -> set[int]:
    return set(
        Resource.objects.filter(pk__in=list(ids), kind=ResourceKind.STAFF).values_list("pk", flat=True)
    )


def _create_offer(
    *, entry: Entry, hold: Appointment, expires_at: datetime, staff_id, offered_by=None
) -> Offer:
    token, digest = new_token()
    offer = Offer.objects.create(
        entry=entry,
        appointment=hold,
        start=hold.start,
        end=hold.end,
        resource_id=staff_id,
        expires_at=expires_at,
        token_hash=digest,
        offered_by=offered_by,
    )
    tenant = current_business()
    direct.customer_message_queue(
        customer=entry.customer,
        kind=MessageKind.WAITLIST_OFFER,
        key=f"waitlist-offer:{offer.pk}",
        text=texts.offer_text(
            tenant=tenant,
            service_name=entry.service.name,
            start=hold.start,
            expires_at=expires_at,
            token=token,
        ),
    )
    due.expiry_due(expires_at)
    return offer


def _answer_by(entry: Entry, start: datetime, minutes: int) -> datetime | None:
    """Until when `entry`'s customer may confirm a time at `start`: the settings' minutes from when the
    message reaches them (an SMS after the quiet hours), at the latest when the time begins; None when
    the customer cannot be reached or would have no time left."""
    reached = direct.first_contact(entry.customer)
    if reached is None:
        return None
    until = min(timeutils.shift(reached, minutes=minutes), start)
    return until if until > timeutils.now() else None


def _hold(service: Service, start: datetime, staff_id, expires_at: datetime) -> Appointment | None:
    staff = Resource.objects.get(pk=staff_id) if staff_id else None
    try:
        return lifecycle.appointment_hold(
            booking=scheduling.Booking(service=service, start=start, staff=staff), expires_at=expires_at
        )
    except scheduling.Conflict:
        return None  # taken meanwhile (the savepoint of appointment_hold rolled back)


def _round(service, slot, candidates: list[Entry], rules: WaitlistSettings, staff: set[int]) -> list[Offer]:
    """Offer one free time to the first waiting customers it suits."""
    options = [pk for pk in slot.resources if pk in staff]
    first = candidates[0]
    staff_id = first.resource_id if first.resource_id in options else (options[0] if options else None)
    group = []
    for entry in candidates:
        if entry.resource_id not in (None, staff_id):
            continue
        until = _answer_by(entry, slot.start, rules.offer_minutes)
        if until is not None:
            group.append((entry, until))
        if len(group) >= rules.offer_count:
            break
    if not group:
        return []
    hold = _hold(service, slot.start, staff_id, max(until for _entry, until in group))
    if hold is None:
        return []
    return [_create_offer(entry=e, hold=hold, expires_at=until, staff_id=staff_id) for e, until in group]


@transaction.atomic
def offers_match() -> list[Offer]:
    """Match free times with the waitlist: expire what has lapsed, then for each service offer each free time
    that suits someone waiting (without an open offer, never offered that time) to the first of them, in the
    order they joined. Idempotent: a second run finds nothing new to offer."""
    _run_lock()
    offers_expire()
    rules = WaitlistSettings.current()
    zone = _zone()
    waiting = list(
        Entry.objects.filter(status=EntryStatus.WAITING)
        .exclude(offers__status=OfferStatus.OPEN)
        .select_related("customer", "service")
        .order_by("created_at", "pk")
    )
    by_service: dict[int, list[Entry]] = {}
    asked = set(
        Entry.objects.filter(status=EntryStatus.WAITING, offers__status=OfferStatus.OPEN).values_list(
            "customer_id", "service_id"
        )
    )
    for entry in waiting:
        if (entry.customer_id, entry.service_id) in asked:
            continue  # one question at a time per customer and service (two places after a merge)
        asked.add((entry.customer_id, entry.service_id))
        by_service.setdefault(entry.service_id, []).append(entry)
    made: list[Offer] = []
    today = timeutils.today(zone)
    for service_id, entries in by_service.items():
        service = Service.objects.filter(pk=service_id, active=True).first()
        if service is None:
            continue
        horizon = today + timedelta(days=service.horizon_days)
        first_day = max(today, min(e.date_from or today for e in entries))
        last_day = min(horizon, max(e.date_to or horizon for e in entries))
        if first_day > last_day:
            continue
        slots = scheduling_selectors.free_slots(
            service=service, start_date=first_day, end_date=last_day, time_zone=str(zone)
        )
        offered = set(Offer.objects.filter(entry__in=entries).values_list("entry_id", "start"))
        staff = _staff_ids({pk for slot in slots for pk in slot.resources})
        remaining = list(entries)
        for slot in slots:
            if not remaining:
                break
            candidates = [
                e
                for e in remaining
                if (e.pk, slot.start) not in offered and criteria.suits(e, slot.start, slot.resources, zone)
            ]
            if not candidates:
                continue
            offers = _round(service, slot, candidates, rules, staff)
            made += offers
            done = {o.entry_id for o in offers}
            remaining = [e for e in remaining if e.pk not in done]
    # An offer may have lapsed while this run looked for times: its time was then free to the engine and
    # its hold released by the booking of a new one. It is expired now, not left open without a hold.
    offers_expire()
    return made


@transaction.atomic
def offer_by_hand(*, entry: Entry, start: datetime, resource_id: int | None, user) -> Offer:
    """A staff member offers one free time to one waiting customer (a round of one)."""
    _run_lock()
    entry = Entry.objects.select_for_update().select_related("customer", "service").get(pk=entry.pk)
    if entry.status != EntryStatus.WAITING:
        raise InvalidRequest(_("This customer is no longer on the waitlist."))
    own = own_resource_ids(user)
    if own is not None and (resource_id is None or resource_id not in own):
        if not own:
            raise NotPermitted(_("You have no calendar column of your own yet."))
        resource_id = resource_id or own[0]
        if resource_id not in own:
            raise NotPermitted(_("You can only offer times in your own calendar."))
    if Offer.objects.filter(entry=entry, status=OfferStatus.OPEN).exists():
        raise InvalidRequest(_("This customer has not answered their current offer yet."))
    if Offer.objects.filter(entry=entry, start=start).exists():
        raise InvalidRequest(_("This time has already been offered to this customer."))
    zone = _zone()
    slot = next(
        (
            s
            for s in scheduling_selectors.free_slots(
                service=entry.service,
                start_date=timeutils.local_date(start, zone),
                end_date=timeutils.local_date(start, zone),
                time_zone=str(zone),
                resource_id=resource_id,
            )
            if s.start == start
        ),
        None,
    )
    if slot is None:
        raise ConflictError(_("This time is no longer free."))
    staff_ids = [pk for pk in slot.resources if pk in _staff_ids(slot.resources)]
    staff_id = resource_id if resource_id in staff_ids else (staff_ids[0] if staff_ids else None)
    until = _answer_by(entry, start, WaitlistSettings.current().offer_minutes)
    if until is None:
        raise InvalidRequest(
            _("This customer cannot be reached: no consent to e-mails or SMS, or no time left to answer.")
        )
    hold = _hold(entry.service, start, staff_id, until)
    if hold is None:
        raise ConflictError(_("This time is no longer free."))
    return _create_offer(entry=entry, hold=hold, expires_at=until, staff_id=staff_id, offered_by=user)


# --- The customer's answer ---------------------------------------------------------------------------------


def offer_by_token(token: str) -> Offer:
    """The offer of a link (LookupError for an unknown one)."""
    offer = (
        Offer.objects.select_related("entry__service", "entry__customer", "resource", "appointment")
        .filter(token_hash=token_hash(token))
        .first()
        if token
        else None
    )
    if offer is None:
        raise LookupError("waitlist offer")
    return offer


def _locked_offer(token: str) -> Offer:
    """The offer, its round's hold locked first (the order every writer takes), then the offer itself."""
    offer = offer_by_token(token)
    _lock_holds([offer.appointment_id])
    return Offer.objects.select_for_update().select_related("entry__customer").get(pk=offer.pk)


def _still_open(offer: Offer) -> None:
    if offer.status != OfferStatus.OPEN:
        raise OfferClosed(offer.status)
    if offer.entry.status != EntryStatus.WAITING:
        raise OfferClosed("left")
    if offer.expires_at <= timeutils.now():
        raise OfferClosed(OfferStatus.EXPIRED)  # written by the next expiry run


@transaction.atomic
def offer_accept(*, token: str) -> Appointment:
    """Book the offered time for the offer's customer. Confirming again returns the same booking; an offer
    taken, expired or declined raises OfferClosed."""
    offer = _locked_offer(token)
    if offer.status == OfferStatus.ACCEPTED and offer.appointment_id:
        return Appointment.objects.select_related("service").get(pk=offer.appointment_id)
    _still_open(offer)
    hold = (
        Appointment.objects.filter(pk=offer.appointment_id, status=AppointmentStatus.HELD).first()
        if offer.appointment_id
        else None
    )
    now = timeutils.now()
    if hold is None:  # booked by another customer of the round (who marked this offer), or released
        raise OfferClosed(OfferStatus.TAKEN)
    rules = business_settings()
    status = AppointmentStatus.REQUESTED if rules.approval_required else AppointmentStatus.CONFIRMED
    # The manage link in the confirmation lets the customer move or cancel it like any online booking.
    Appointment.objects.filter(pk=hold.pk).update(manage_token=secrets.token_urlsafe(24))
    booking = lifecycle.appointment_book_held(
        actor=CUSTOMER, hold=hold, customer=offer.entry.customer, status=status, notes=offer.entry.note
    )
    offer.status, offer.decided_at = OfferStatus.ACCEPTED, now
    offer.save(update_fields=["status", "decided_at"])
    # The round's other customers: the time is gone, they stay on the list for the next one.
    Offer.objects.filter(appointment=hold, status=OfferStatus.OPEN).exclude(pk=offer.pk).update(
        status=OfferStatus.TAKEN, decided_at=now
    )
    Entry.objects.filter(pk=offer.entry_id).update(status=EntryStatus.BOOKED, ended_at=now)
    return booking


@transaction.atomic
def offer_decline(*, token: str) -> Offer:
    """The customer does not want this time; they stay on the list, the time goes to the next."""
    offer = _locked_offer(token)
    if offer.status == OfferStatus.DECLINED:
        return offer
    _still_open(offer)
    offer.status, offer.decided_at = OfferStatus.DECLINED, timeutils.now()
    offer.save(update_fields=["status", "decided_at"])
    if _release_unwanted([offer.appointment_id]):
        match_soon()
    return offer


@transaction.atomic
def settings_update(*, offer_count: int, offer_minutes: int) -> WaitlistSettings:
    rules = WaitlistSettings.current()
    rules.offer_count, rules.offer_minutes = offer_count, offer_minutes
    rules.full_clean()
    rules.save()
    return rules
