"""Courses booked online: a service with `online_series_count` set is booked by customers only as a whole,
N appointments on the same weekday at the same local wall-clock time every W weeks, all with one staff
member (a course keeps its teacher), or not at all.

Availability is the engine's, not a second set of rules: one statement loads what the engine needs for the
whole span (`selectors.availability_inputs`, from the first day asked to the last occurrence's day), then
the engine runs once per occurrence on that occurrence's days; a start is offered when every occurrence is
one of the engine's free slots and one staff member is free at all of them (for a group service: has a seat
in every session). The booking window (minimum notice, horizon) is the first appointment's: the later ones
may lie beyond the horizon, as a course does. Occurrences keep the local wall-clock time across a
daylight-saving change (`Recurrence.starts`).

The booking takes the customer rules of `services.booking_create` (consent, contact lock, open bookings,
approval, consents, CRM link), locks the resource rows in ascending id order as every booking does, checks
the start again under those locks and books every occurrence through the lifecycle in one transaction: a
collision anywhere stores nothing (409 naming the date). The first appointment carries the manage link;
notifications send one message for the whole series (the events carry it, as a series the team books).
"""

import dataclasses
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext as _

from termino.shared import timeutils
from termino.shared.errors import ConflictError, InvalidRequest
from termino.tenants.business.models import BusinessSettings
from termino.tenants.scheduling import availability, lifecycle, selectors
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Resource,
    ResourceKind,
    Series,
    SeriesFrequency,
    Service,
)
from termino.tenants.scheduling.recurrence import Recurrence
from termino.tenants.scheduling.series import when_text
from termino.tenants.scheduling.series_selectors import series_needs

from . import services

NEAREST_STARTS = 3


@dataclass(frozen=True)
class SeriesStart:
    """A start of a course: its occurrences (the first is the start) and the staff free at all of them."""

    occurrences: tuple[availability.Slot, ...]
    staff: tuple[int, ...]

    @property
    def start(self) -> datetime:
        return self.occurrences[0].start

    @property
    def end(self) -> datetime:
        return self.occurrences[0].end

    def as_json(self, iso: Callable[[datetime], str] = datetime.isoformat) -> dict:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "resources": list(self.staff),
            "occurrences": [{"start": iso(s.start), "end": iso(s.end)} for s in self.occurrences],
        }


@dataclass(frozen=True)
class Blocked:
    """Why a start is not offered: the first occurrence that is not free (with one staff member for all)."""

    start: datetime


class SeriesTaken(ConflictError):
    def __init__(self, message: str, nearest: list[dict]):
        super().__init__(message, nearest=nearest)


def online_series_service(service_id) -> Service | None:
    """The active service bookable online as a series with this id, or None (unknown, single, offline)."""
    return Service.objects.filter(
        pk=service_id, active=True, bookable_online=True, online_series_count__gte=2
    ).first()


def occurrence_starts(service: Service, start: datetime, zone: ZoneInfo) -> list[datetime]:
    """The instants of the course starting at `start`: the same local wall-clock time on the same weekday,
    every `online_series_interval_weeks` weeks, `online_series_count` times (UTC)."""
    local = timeutils.localtime(start, zone)
    return Recurrence(
        first_date=local.date(),
        time=local.time().replace(tzinfo=None),
        frequency=SeriesFrequency.WEEKLY,
        interval=service.online_series_interval_weeks,
        count=service.online_series_count,
    ).starts(zone)


def _span(service: Service) -> timedelta:
    return timedelta(weeks=service.online_series_interval_weeks * (service.online_series_count - 1))


def _walk(
    *,
    service: Service,
    start_date: date,
    end_date: date,
    time_zone: str,
    resource_id: int | None,
    now: datetime | None,
    wanted: datetime | None = None,
) -> list[SeriesStart | Blocked]:
    """For each free first start between the local dates (or only `wanted`), its SeriesStart, or where it is
    blocked. One statement loads the busy time of the whole span; one engine call per occurrence."""
    zone = ZoneInfo(time_zone)
    step = timedelta(weeks=service.online_series_interval_weeks)
    inputs = selectors.availability_inputs(
        service=service,
        start_date=start_date,
        end_date=end_date + _span(service),
        time_zone=time_zone,
        resource_id=resource_id,
        now=now,
    )
    rules = inputs["rules"]
    latest = timeutils.shift(inputs["now"], rules.horizon)  # the first appointment's booking window
    # Later occurrences lie beyond the horizon by up to the span (and a day either side for the zone).
    inputs["rules"] = dataclasses.replace(rules, horizon=rules.horizon + _span(service) + timedelta(days=2))
    staff_ids = {c.resource_id for c in inputs["resources"] if c.kind == ResourceKind.STAFF}

    def slots_of(k: int) -> dict[datetime, availability.Slot]:
        found = availability.free_slots(
            **{**inputs, "start_date": start_date + step * k, "end_date": end_date + step * k}
        )
        return {timeutils.as_utc(slot.start): slot for slot in found}  # keyed by instant

    first = slots_of(0)
    if wanted is not None:
        wanted = timeutils.as_utc(wanted)
        if wanted not in first or timeutils.as_utc(first[wanted].start) >= latest:
            return [Blocked(wanted)]
        firsts = [first[wanted]]
    else:
        firsts = [slot for at, slot in sorted(first.items()) if at < latest]
    # Each candidate: its occurrences' instants, the slots found so far and the staff free at all of them.
    candidates = [
        (occurrence_starts(service, slot.start, zone), [slot], staff_ids & set(slot.resources))
        for slot in firsts
    ]
    results: dict[int, SeriesStart | Blocked] = {}
    for k in range(1, service.online_series_count):
        open_ = [i for i in range(len(candidates)) if i not in results]
        if not open_:
            break
        slots = slots_of(k)
        for i in open_:
            instants, found, staff = candidates[i]
            slot = slots.get(instants[k])
            staff &= set(slot.resources) if slot is not None else set()
            if not staff:
                results[i] = Blocked(instants[k])
                continue
            found.append(slot)
            candidates[i] = (instants, found, staff)
    answer = []
    for i, (_instants, found, staff) in enumerate(candidates):
        if i not in results and not staff:  # the first occurrence offers no staff member (rooms only)
            results[i] = Blocked(found[0].start)
        answer.append(results.get(i) or SeriesStart(occurrences=tuple(found), staff=tuple(sorted(staff))))
    return answer


def series_free_starts(
    *,
    service: Service,
    start_date: date,
    end_date: date,
    time_zone: str,
    resource_id: int | None = None,
    now: datetime | None = None,
) -> list[SeriesStart]:
    """The starts between two local dates (inclusive) at which the whole course can be booked."""
    if end_date < start_date:
        return []
    walked = _walk(
        service=service,
        start_date=start_date,
        end_date=end_date,
        time_zone=time_zone,
        resource_id=resource_id,
        now=now,
    )
    return [s for s in walked if isinstance(s, SeriesStart)]


def series_start_check(
    *, service: Service, start: datetime, time_zone: str, resource_id: int | None = None
) -> SeriesStart | Blocked:
    """The course starting at `start` as it can be booked right now, or its first occurrence that cannot."""
    day = timeutils.local_date(start, ZoneInfo(time_zone))
    (found,) = _walk(
        service=service,
        start_date=day,
        end_date=day,
        time_zone=time_zone,
        resource_id=resource_id,
        now=None,
        wanted=start,
    )
    return found


def nearest_starts(
    *, service: Service, around: datetime, time_zone: str, resource_id: int | None
) -> list[dict]:
    """The course starts closest to `around` within a week either side, nearest first."""
    zone = ZoneInfo(time_zone)
    day = timeutils.local_date(around, zone)
    starts = series_free_starts(
        service=service,
        start_date=max(day - timedelta(days=7), timeutils.today(zone)),
        end_date=day + timedelta(days=7),
        time_zone=time_zone,
        resource_id=resource_id,
    )
    starts.sort(key=lambda s: abs(timeutils.elapsed(around, s.start)))
    iso = availability.isoformat_cached()
    return [s.as_json(iso) for s in starts[:NEAREST_STARTS]]


def _taken(service: Service, blocked: Blocked, booking, time_zone: str) -> SeriesTaken:
    zone = ZoneInfo(time_zone)
    if timeutils.as_utc(blocked.start) == timeutils.as_utc(booking.start):
        message = _(
            "Nothing was booked: the course cannot start on %(date)s any more. Please choose another start."
        )
    else:
        message = _(
            "Nothing was booked: the appointment of this course on %(date)s is not free (with the same "
            "staff member as the others). Please choose another start."
        )
    return SeriesTaken(
        message % {"date": when_text(blocked.start, zone)},
        nearest_starts(
            service=service, around=booking.start, time_zone=time_zone, resource_id=booking.resource_id
        ),
    )


def _lock(resource_ids: Iterable[int]) -> None:
    """Resource rows in ascending id order, as every booking takes them: queued, never deadlocked."""
    list(Resource.objects.select_for_update().filter(pk__in=set(resource_ids)).order_by("pk"))


@transaction.atomic
def series_booking_create(*, booking: "services.OnlineBooking", time_zone: str) -> list[Appointment]:
    """Book the course starting at `booking.start`: all its appointments or none; the first carries the
    manage link. The same customer rules as `services.booking_create`."""
    services.advisory_lock(*(f"contact:{value}" for value in (booking.email.lower(), booking.phone) if value))
    rules = BusinessSettings.current()
    if not booking.privacy_consent:
        raise InvalidRequest(_("Please accept the privacy notice to book."))
    service = online_series_service(booking.service_id)
    if service is None:
        raise InvalidRequest(_("This service cannot be booked online."))
    staff = services._online_staff(booking.resource_id)
    if booking.form_key:
        # The form's holds make way, as for a booking of one service.
        Appointment.objects.filter(
            status=AppointmentStatus.HELD, hold_owner__form_key=booking.form_key
        ).delete()
    # A first look without locks: a start taken long ago is refused before anyone waits or is created.
    found = series_start_check(
        service=service, start=booking.start, time_zone=time_zone, resource_id=booking.resource_id
    )
    if isinstance(found, Blocked):
        raise _taken(service, found, booking, time_zone)
    customer = services.customer_find_or_create(
        first_name=booking.first_name, last_name=booking.last_name, email=booking.email, phone=booking.phone
    )
    services.open_bookings_check(customer, rules)
    if services.paid_online(service=service, customer=customer):
        raise InvalidRequest(
            _(
                "%(service)s is paid online when it is booked, which is not possible for a course. "
                "Please call us."
            )
            % {"service": service.name}
        )
    # Under the locks of every resource the course may use, the same check again: what it finds free stays
    # free until this transaction ends.
    needs = series_needs(service=service, staff=staff, room=None)
    _lock(needs.resource_ids)
    scheduling.holds_release_expired(resource_ids=needs.resource_ids)
    found = series_start_check(
        service=service, start=booking.start, time_zone=time_zone, resource_id=booking.resource_id
    )
    if isinstance(found, Blocked):
        raise _taken(service, found, booking, time_zone)
    status = AppointmentStatus.REQUESTED if rules.approval_required else AppointmentStatus.CONFIRMED
    services._record_consents(customer, booking, services._notice_version(rules))
    zone = ZoneInfo(time_zone)
    local = timeutils.localtime(found.start, zone)
    series = Series.objects.create(
        service=service,
        customer=customer,
        frequency=SeriesFrequency.WEEKLY,
        interval=service.online_series_interval_weeks,
        weekdays=str(local.weekday()),
        first_date=local.date(),
        time=local.time().replace(tzinfo=None),
        count=service.online_series_count,
    )
    teacher = Resource.objects.get(pk=found.staff[0])
    booked = []
    for occurrence in found.occurrences:
        try:
            booked.append(
                lifecycle.appointment_book(
                    actor=services.CUSTOMER,
                    booking=scheduling.Booking(service=service, start=occurrence.start, staff=teacher),
                    customer=customer,
                    status=status,
                    notes=booking.note,
                    extra={"series": series.pk, "series_revision": 0},
                )
            )
        except scheduling.Conflict as exc:  # cannot happen under the locks; named by date if it does
            raise _taken(service, Blocked(occurrence.start), booking, time_zone) from exc
    Appointment.objects.filter(pk__in=[a.pk for a in booked]).update(series=series)
    lead = booked[0]
    lead.manage_token = secrets.token_urlsafe(24)
    lead.save(update_fields=["manage_token"])
    for appointment in booked:
        appointment.series = series
    return booked
