"""Writes of the scheduling core: appointments that can never double-book, and their life cycle.

The exclusion constraint on `Allocation` is the guarantee; the row locks taken here first keep concurrent
bookings of the same resources in a queue instead of letting the losers deadlock (SQLSTATE 40P01).
"""

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import ProtectedError, Q
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from termino.shared import timeutils
from termino.shared.errors import ConflictError, InvalidRequest

from .availability import END_OF_DAY, WeeklyInterval, day_microseconds, interval_text, is_end_of_day
from .models import (
    Allocation,
    AllocationPhase,
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Closure,
    Resource,
    ResourceKind,
    Service,
    Visit,
    WeeklyHours,
)

EXCLUSION_VIOLATION = "23P01"
DEADLOCK_DETECTED = "40P01"

# Which status may follow which; cancelled is final.
TRANSITIONS = {
    AppointmentStatus.HELD: {
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.REQUESTED,
        AppointmentStatus.CANCELLED,
    },
    AppointmentStatus.REQUESTED: {AppointmentStatus.CONFIRMED, AppointmentStatus.CANCELLED},
    AppointmentStatus.CONFIRMED: {
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
        AppointmentStatus.COMPLETED,
    },
    AppointmentStatus.NO_SHOW: {AppointmentStatus.CONFIRMED, AppointmentStatus.COMPLETED},
    AppointmentStatus.COMPLETED: {AppointmentStatus.CONFIRMED, AppointmentStatus.NO_SHOW},
    AppointmentStatus.CANCELLED: set(),
}


class SchedulingError(InvalidRequest):
    """Input that cannot be booked as asked (400)."""


class Conflict(ConflictError):
    """The time is taken (409). The message names what it collides with."""

    def __init__(self, message: str, *, appointment_id: int | None = None):
        super().__init__(message, conflicting_appointment=appointment_id)
        self.appointment_id = appointment_id


@dataclass(frozen=True)
class Booking:
    service: Service
    start: datetime
    staff: Resource | None = None  # None: any staff member who can do the service and is free
    room: Resource | None = None  # None: any suitable room, if the service needs one


def held_period(
    service: Service, start: datetime, minutes: int | None = None
) -> tuple[datetime, datetime, datetime]:
    """(end of the appointment, start and end of the time its resources are held, buffers included).

    `minutes` is the appointment's length when it differs from the service's (resized in the calendar).
    In absolute time (UTC): a 60-minute appointment lasts 60 real minutes on a daylight-saving night too.
    """
    end = timeutils.shift(start, minutes=service.duration_minutes if minutes is None else minutes)
    return (
        end,
        timeutils.shift(start, minutes=-service.buffer_before_minutes),
        timeutils.shift(end, minutes=service.buffer_after_minutes),
    )


@dataclass(frozen=True)
class Held:
    """The times an appointment holds its resources."""

    end: datetime  # end of the appointment proper
    since: datetime  # rooms (and staff members without processing time) hold [since, until)
    until: datetime
    staff: tuple[tuple[int, datetime, datetime], ...]  # (phase, start, end) a staff member holds

    def pieces(self, kind: str) -> tuple[tuple[int, datetime, datetime], ...]:
        if kind == ResourceKind.STAFF:
            return self.staff
        return ((AllocationPhase.WHOLE, self.since, self.until),)


def held_times(service: Service, start: datetime, minutes: int | None = None) -> Held:
    """`held_period` with the processing gap: the staff member is free from `processing_after_minutes` into
    the appointment for `processing_minutes` (when the appointment is still longer than both: a resize
    that cuts into the rinse gives the staff member the whole time again)."""
    end, since, until = held_period(service, start, minutes)
    length = service.duration_minutes if minutes is None else minutes
    after, gap = service.processing_after_minutes, service.processing_minutes
    if gap and after and after + gap < length:
        pause = timeutils.shift(start, minutes=after)
        resume = timeutils.shift(pause, minutes=gap)
        staff = (
            (AllocationPhase.BEFORE_PROCESSING, since, pause),
            (AllocationPhase.AFTER_PROCESSING, resume, until),
        )
    else:
        staff = ((AllocationPhase.WHOLE, since, until),)
    return Held(end, since, until, staff)


def _overlapping(resources: Sequence[Resource], held: Held) -> Q:
    """Allocations of `resources` overlapping what `held` would hold of each (by kind)."""
    condition = Q(pk__in=[])
    for kind in (ResourceKind.STAFF, ResourceKind.ROOM):
        ids = [r.pk for r in resources if r.kind == kind]
        if ids:
            for _phase, since, until in held.pieces(kind):
                condition |= Q(resource_id__in=ids, period__overlap=DateTimeTZRange(since, until))
    return condition


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(getattr(cause, "diag", None), "sqlstate", None)


def _lock(resource_ids: Sequence[int]) -> list[Resource]:
    """Lock resource rows in ascending id order: every transaction queues in the same order."""
    return list(Resource.objects.select_for_update().filter(pk__in=set(resource_ids)).order_by("pk"))


def _describe_conflict(
    resource_ids: Sequence[int],
    since: datetime,
    until: datetime,
    *,
    exclude: int | None,
    held: Held | None = None,
):
    where = (
        _overlapping(list(Resource.objects.filter(pk__in=resource_ids)), held)
        if held is not None
        else Q(resource_id__in=resource_ids, period__overlap=DateTimeTZRange(since, until))
    )
    clash = (
        Allocation.objects.filter(where, active=True)
        .exclude(appointment_id=exclude)
        .select_related("resource", "appointment__service")
        .order_by("period", "resource_id")
        .first()
    )
    if clash is None:
        return Conflict(_("This time was just taken. Please choose another one."))
    other = clash.appointment
    zone = timezone.get_current_timezone()
    return Conflict(
        _("%(resource)s is already booked from %(start)s to %(end)s (%(service)s).")
        % {
            "resource": clash.resource.name,
            # In the repeated hour the offset tells which 02:30 is meant.
            "start": timeutils.wall_time(other.start, zone),
            "end": timeutils.wall_time(other.end, zone),
            "service": other.service.name,
        },
        appointment_id=other.pk,
    )


def _candidates(service: Service, kind: str, chosen: Resource | None) -> list[Resource]:
    able = list(service.resources.filter(kind=kind, active=True).order_by("pk"))
    if chosen is None:
        return able
    if chosen.kind != kind:
        raise SchedulingError(
            _("%(name)s cannot be booked as %(kind)s.")
            % {"name": chosen.name, "kind": ResourceKind(kind).label}
        )
    if chosen.pk not in {r.pk for r in able}:
        raise SchedulingError(
            _("%(name)s does not offer %(service)s.") % {"name": chosen.name, "service": service.name}
        )
    return [chosen]


def _free(
    resources: list[Resource],
    since: datetime,
    until: datetime,
    *,
    exclude: int | None,
    held: Held | None = None,
) -> list[Resource]:
    """The resources with nothing else in [since, until), or (given `held`) in what each kind would hold."""
    if not resources:
        return []
    where = (
        _overlapping(resources, held)
        if held is not None
        else Q(resource__in=resources, period__overlap=DateTimeTZRange(since, until))
    )
    busy = set(
        Allocation.objects.filter(where, active=True)
        .exclude(appointment_id=exclude)
        .values_list("resource_id", flat=True)
    )
    return [r for r in resources if r.pk not in busy]


def _group_session(service: Service, staff: Resource, since: datetime, until: datetime):
    """The open session of a group service this booking can join, as (session id, participants)."""
    existing = (
        Allocation.objects.filter(
            resource=staff,
            active=True,
            period=DateTimeTZRange(since, until),
            appointment__service=service,
        )
        .values_list("session", flat=True)
        .first()
    )
    if existing is None:
        return None, 0
    taken = Allocation.objects.filter(session=existing, resource=staff, active=True).count()
    return existing, taken


@transaction.atomic
def appointment_create(
    *,
    booking: Booking,
    customer=None,
    status: str = AppointmentStatus.CONFIRMED,
    source: str = AppointmentSource.BACKOFFICE,
    notes: str = "",
    created_by=None,
    hold_expires_at: datetime | None = None,
    visit: Visit | None = None,
    manage_token: str | None = None,
) -> Appointment:
    service = booking.service
    if not service.active:
        raise SchedulingError(_("%(service)s is not offered any more.") % {"service": service.name})
    held = held_times(service, booking.start)
    end, since, until = held.end, held.since, held.until
    staff_options = _candidates(service, ResourceKind.STAFF, booking.staff)
    room_options = _candidates(service, ResourceKind.ROOM, booking.room) if service.requires_room else []
    if not staff_options:
        raise SchedulingError(_("No staff member offers %(service)s.") % {"service": service.name})
    if service.requires_room and not room_options:
        raise SchedulingError(_("%(service)s needs a room, but none is set up.") % {"service": service.name})

    _lock([r.pk for r in staff_options + room_options])
    holds_release_expired(resource_ids=[r.pk for r in staff_options + room_options])
    session, full = None, False
    if service.capacity > 1:
        # Join an open session of this service at this time with a seat left, with whoever runs it. A
        # full one makes its staff member busy, not the time: another may still run or start a session.
        for staff in staff_options:
            found, taken = _group_session(service, staff, since, until)
            if found is not None and taken < service.capacity:
                session, staff_options = found, [staff]
                break
            full = full or found is not None
    if session is not None:
        rooms = list(
            Allocation.objects.filter(session=session, active=True)
            .exclude(resource=staff_options[0])
            .values_list("resource_id", flat=True)
            .distinct()
        )
        chosen = staff_options + [r for r in room_options if r.pk in rooms][:1]
    else:
        free_staff = _free(staff_options, since, until, exclude=None, held=held)
        free_rooms = (
            _free(room_options, since, until, exclude=None, held=held) if service.requires_room else []
        )
        if full and not free_staff:
            raise Conflict(_("This session is fully booked."))
        if not free_staff or (service.requires_room and not free_rooms):
            raise _describe_conflict(
                [r.pk for r in staff_options + room_options], since, until, exclude=None, held=held
            )
        chosen = free_staff[:1] + free_rooms[:1]

    appointment = Appointment.objects.create(
        service=service,
        customer=customer,
        start=timeutils.as_utc(booking.start),
        end=end,
        status=status,
        source=source,
        notes=notes,
        price=service.price,
        created_by=created_by,
        changed_by=created_by,
        hold_expires_at=hold_expires_at,
        visit=visit,
        manage_token=manage_token,
    )
    _allocate(appointment, chosen, since, until, session=session, held=held)
    return appointment


def visit_starts(services: Sequence[Service], start: datetime) -> list[datetime]:
    """Where each service of a visit starts: back to back in held time, the next one's buffer before
    following the previous one's buffer after (the engine lays a visit out the same way)."""
    starts = [start]
    for previous, service in itertools.pairwise(services):
        held_until = held_period(previous, starts[-1])[2]
        starts.append(timeutils.shift(held_until, minutes=service.buffer_before_minutes))
    return starts


@transaction.atomic
def visit_create(
    *,
    bookings: Sequence[Booking],
    customer=None,
    status: str = AppointmentStatus.CONFIRMED,
    source: str = AppointmentSource.BACKOFFICE,
    notes: str = "",
    created_by=None,
) -> list[Appointment]:
    """Several services back to back as one visit; the bookings' starts must follow `visit_starts`.

    Every resource any part could use is locked first, in one ascending order, so two visits (or a visit
    and a single booking) queue instead of deadlocking part by part; then each part is one appointment.
    """
    if len(bookings) < 2:
        raise SchedulingError(_("A visit has at least two services."))
    expected = visit_starts([b.service for b in bookings], bookings[0].start)
    if [timeutils.as_utc(b.start) for b in bookings] != [timeutils.as_utc(s) for s in expected]:
        raise ValueError("the parts of a visit must follow each other as visit_starts lays them out")
    for booking in bookings:
        if booking.service.capacity > 1:
            raise SchedulingError(
                _("%(service)s is a group session and cannot be part of a visit.")
                % {"service": booking.service.name}
            )
    candidates = set()
    for booking in bookings:
        candidates.update(r.pk for r in _candidates(booking.service, ResourceKind.STAFF, booking.staff))
        if booking.service.requires_room:
            candidates.update(r.pk for r in _candidates(booking.service, ResourceKind.ROOM, booking.room))
    _lock(sorted(candidates))
    visit = Visit.objects.create()
    return [
        appointment_create(
            booking=booking,
            customer=customer,
            status=status,
            source=source,
            notes=notes,
            created_by=created_by,
            visit=visit,
        )
        for booking in bookings
    ]


def holds_release_expired(*, resource_ids: Sequence[int] | None = None) -> int:
    """Delete lapsed holds (all, or those on the given resources) so their time is free again."""
    expired = Appointment.objects.filter(status=AppointmentStatus.HELD, hold_expires_at__lte=timezone.now())
    if resource_ids is not None:
        expired = expired.filter(allocations__resource_id__in=resource_ids)
    _total, per_model = Appointment.objects.filter(pk__in=list(expired.values_list("pk", flat=True))).delete()
    return per_model.get(Appointment._meta.label, 0)


def _allocate(appointment: Appointment, resources, since, until, *, session=None, held: Held | None = None):
    """Store the allocations: [since, until) for each resource, or (given `held`) its pieces by kind."""
    if held is None:
        held = Held(until, since, until, ((AllocationPhase.WHOLE, since, until),))
    rows = [
        Allocation(
            appointment=appointment,
            resource=r,
            period=DateTimeTZRange(since, until),
            phase=phase,
            active=True,
        )
        for r in resources
        for phase, since, until in held.pieces(r.kind)
    ]
    if session is not None:
        for row in rows:
            row.session = session
    else:
        # One session per appointment: all its allocations carry the same id.
        for row in rows[1:]:
            row.session = rows[0].session
    try:
        with transaction.atomic():
            Allocation.objects.bulk_create(rows)
    except IntegrityError as exc:
        if _sqlstate(exc) == EXCLUSION_VIOLATION:
            raise _describe_conflict(
                [r.pk for r in resources], held.since, held.until, exclude=appointment.pk, held=held
            ) from exc
        raise
    except OperationalError as exc:
        if _sqlstate(exc) == DEADLOCK_DETECTED:
            raise Conflict(_("This time was just taken. Please choose another one.")) from exc
        raise


@transaction.atomic
def appointment_move(
    *, appointment: Appointment, start: datetime, staff: Resource | None = None, changed_by=None
) -> Appointment:
    appointment = Appointment.objects.select_for_update().select_related("service").get(pk=appointment.pk)
    if appointment.status == AppointmentStatus.CANCELLED:
        raise SchedulingError(_("A cancelled appointment cannot be moved."))
    service = appointment.service
    current = list(appointment.allocations.select_related("resource"))
    current_staff = next((a.resource for a in current if a.resource.kind == ResourceKind.STAFF), None)
    new_staff = staff or current_staff
    if staff is not None:
        _candidates(service, ResourceKind.STAFF, staff)
    rooms = {a.resource_id: a.resource for a in current if a.resource.kind == ResourceKind.ROOM}
    resources = [new_staff, *rooms.values()]
    _lock([r.pk for r in resources] + [a.resource_id for a in current])
    holds_release_expired(resource_ids=[r.pk for r in resources])
    held = held_times(service, start, _length_minutes(appointment))
    end, since, until = held.end, held.since, held.until
    if [r for r in resources if r not in _free(resources, since, until, exclude=appointment.pk, held=held)]:
        raise _describe_conflict([r.pk for r in resources], since, until, exclude=appointment.pk, held=held)
    appointment.allocations.all().delete()
    appointment.start, appointment.end, appointment.changed_by = timeutils.as_utc(start), end, changed_by
    appointment.save(update_fields=["start", "end", "changed_by", "updated_at"])
    _allocate(appointment, resources, since, until, held=held)
    return appointment


def _length_minutes(appointment: Appointment) -> int:
    """The appointment's own length (a move keeps it, also after a resize)."""
    return int(timeutils.elapsed(appointment.start, appointment.end).total_seconds() // 60)


MAX_MINUTES = 24 * 60


@transaction.atomic
def appointment_resize(*, appointment: Appointment, minutes: int, changed_by=None) -> Appointment:
    """Give the appointment a new length (its start stays); buffers follow its new end."""
    appointment = Appointment.objects.select_for_update().select_related("service").get(pk=appointment.pk)
    if appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.HELD):
        raise SchedulingError(_("Only a booked appointment can be made longer or shorter."))
    if not 5 <= minutes <= MAX_MINUTES:
        raise SchedulingError(_("An appointment lasts between 5 minutes and 24 hours."))
    resources = list(
        {a.resource_id: a.resource for a in appointment.allocations.select_related("resource")}.values()
    )
    _lock([r.pk for r in resources])
    held = held_times(appointment.service, appointment.start, minutes)
    end, since, until = held.end, held.since, held.until
    if [r for r in resources if r not in _free(resources, since, until, exclude=appointment.pk, held=held)]:
        raise _describe_conflict([r.pk for r in resources], since, until, exclude=appointment.pk, held=held)
    appointment.allocations.all().delete()
    appointment.end, appointment.changed_by = end, changed_by
    appointment.save(update_fields=["end", "changed_by", "updated_at"])
    _allocate(appointment, resources, since, until, held=held)
    return appointment


# Marks that say how an appointment went: only once it has begun.
AFTER_START = (AppointmentStatus.NO_SHOW, AppointmentStatus.COMPLETED)


@transaction.atomic
def appointment_set_status(
    *, appointment: Appointment, status: str, reason: str = "", changed_by=None
) -> Appointment:
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if status == appointment.status:
        return appointment
    if status not in TRANSITIONS[AppointmentStatus(appointment.status)]:
        raise SchedulingError(
            _("This appointment is %(old)s and cannot be marked %(new)s.")
            % {
                "old": AppointmentStatus(appointment.status).label.lower(),
                "new": AppointmentStatus(status).label.lower(),
            }
        )
    if status in AFTER_START and timeutils.now() < appointment.start:
        raise SchedulingError(
            _("An appointment can be marked %(new)s only once it has begun.")
            % {"new": AppointmentStatus(status).label.lower()}
        )
    if appointment.status == AppointmentStatus.CANCELLED or status == AppointmentStatus.CANCELLED:
        appointment.allocations.update(active=status != AppointmentStatus.CANCELLED)
    appointment.status = status
    appointment.changed_by = changed_by
    if status == AppointmentStatus.CANCELLED:
        appointment.cancel_reason = reason
    appointment.save(update_fields=["status", "changed_by", "cancel_reason", "updated_at"])
    return appointment


def holidays_import(*, state: str, years: Sequence[int], time_zone: str) -> int:
    """Close the business on the public holidays of a German federal state (e.g. "BY"). Idempotent."""
    zone = ZoneInfo(time_zone)
    made = 0
    for day, name in sorted(holidays.Germany(subdiv=state, years=list(years), language="de").items()):
        _closure, created = Closure.objects.get_or_create(
            resource=None,
            holiday_date=day,
            defaults={
                "start": timeutils.local_midnight(day, zone),
                "end": timeutils.local_midnight(day + timedelta(1), zone),
                "reason": name,
            },
        )
        made += created
    return made


# --- Catalogue: services, staff and rooms, weekly hours, closures ----------------------------------------
# Written from the backoffice settings pages; the forms there validate first, these functions keep the
# rules that must hold whoever calls them (and the database constraints stay the last word).

# Fields of Service a caller may set; the many-to-many `resources` travels separately.
SERVICE_FIELDS = (
    "name", "description", "duration_minutes", "price", "buffer_before_minutes", "buffer_after_minutes",
    "min_notice_minutes", "horizon_days", "slot_step_minutes", "capacity", "requires_room", "colour",
    "bookable_online", "active", "processing_after_minutes", "processing_minutes", "online_series_count",
    "online_series_interval_weeks",
)  # fmt: skip

# The German federal states `holidays` knows (it also lists the city of Augsburg as a subdivision).
GERMAN_STATES = (
    "BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI", "NW", "RP", "SH", "SL", "SN", "ST", "TH",
)  # fmt: skip


def _service_fields(fields: dict) -> dict:
    unknown = set(fields) - set(SERVICE_FIELDS)
    if unknown:
        raise TypeError(f"not a service field: {', '.join(sorted(unknown))}")
    return fields


def processing_problem(*, duration: int, after: int, minutes: int, capacity: int = 1) -> str | None:
    """Why processing time cannot be set so, as a sentence for a person; None when it can."""
    if not minutes:
        return None
    if capacity > 1:
        return _("A group service cannot have processing time.")
    if not after or after + minutes >= duration:
        return _(
            "Processing time must begin after the start and end before the end of the service "
            "(the staff member works before and after it)."
        )
    return None


def online_series_problem(count: int | None) -> str | None:
    """Why a service cannot be a course of `count` appointments, as a sentence; None when it can (0: none)."""
    if count == 1:
        return _("A series has at least 2 appointments. Enter 0 to book single appointments.")
    return None


def _processing_check(service: Service) -> None:
    problem = processing_problem(
        duration=service.duration_minutes,
        after=service.processing_after_minutes,
        minutes=service.processing_minutes,
        capacity=service.capacity,
    )
    if problem:
        raise SchedulingError(problem)


@transaction.atomic
def service_create(
    *, name: str, duration_minutes: int, resources: Iterable[Resource] = (), **fields
) -> Service:
    service = Service(name=name, duration_minutes=duration_minutes, **_service_fields(fields))
    _processing_check(service)
    service.save()
    service.resources.set(list(resources))
    return service


@transaction.atomic
def service_update(*, service: Service, resources: Iterable[Resource] | None = None, **fields) -> Service:
    """Set the given fields (and, unless None, exactly these resources)."""
    for field, value in _service_fields(fields).items():
        setattr(service, field, value)
    if fields:
        _processing_check(service)
        service.save(update_fields=list(fields))
    if resources is not None:
        service.resources.set(list(resources))
    return service


@transaction.atomic
def service_deactivate(*, service: Service) -> Service:
    """Stop new bookings of a service; its appointments, past and future, stay as they are."""
    service.active = False
    service.save(update_fields=["active"])
    return service


@transaction.atomic
def service_delete(*, service: Service) -> None:
    """Delete a service nobody ever booked; one with appointments can only be deactivated.

    The row lock makes a booking that starts meanwhile wait (its foreign key check needs the row), so no
    appointment can slip in between the check and the delete.
    """
    locked = Service.objects.select_for_update().filter(pk=service.pk).first()
    if locked is None:
        return
    if Appointment.objects.filter(service=locked).exists():
        raise SchedulingError(
            _("%(service)s has appointments, so it cannot be deleted. Deactivate it instead.")
            % {"service": locked.name}
        )
    locked.delete()


UNCHANGED = object()  # a keyword left out, where None means something (no login)


def _login_check(kind: str, user) -> None:
    if user is not None and kind != ResourceKind.STAFF:
        raise SchedulingError(_("Only a staff member can have a login."))


@transaction.atomic
def resource_create(
    *, kind: str, name: str, services: Iterable[Service] = (), active: bool = True, user=None
) -> Resource:
    if kind not in ResourceKind.values:
        raise SchedulingError(_("Choose staff member or room."))
    _login_check(kind, user)
    resource = Resource.objects.create(kind=kind, name=name, active=active, user=user)
    resource.services.set(list(services))
    return resource


@transaction.atomic
def resource_update(
    *,
    resource: Resource,
    kind: str | None = None,
    name: str | None = None,
    services: Iterable[Service] | None = None,
    active: bool | None = None,
    user=UNCHANGED,
) -> Resource:
    """Change what is given (None: leave as is; for `user`, None unlinks the login)."""
    changed = {"kind": kind, "name": name, "active": active}
    changed = {field: value for field, value in changed.items() if value is not None}
    if user is not UNCHANGED:
        _login_check(changed.get("kind", resource.kind), user)
        changed["user"] = user
    if "kind" in changed:
        if changed["kind"] not in ResourceKind.values:
            raise SchedulingError(_("Choose staff member or room."))
        linked = changed.get("user", resource.user)
        if changed["kind"] != ResourceKind.STAFF and linked is not None:
            raise SchedulingError(
                _("%(name)s is linked to a login and must stay a staff member.") % {"name": resource.name}
            )
    for field, value in changed.items():
        setattr(resource, field, value)
    if changed:
        resource.save(update_fields=list(changed))
    if services is not None:
        resource.services.set(list(services))
    return resource


@transaction.atomic
def resource_delete(*, resource: Resource) -> None:
    """Delete a staff member or room nobody ever booked; one with appointments can only be deactivated."""
    try:
        resource.delete()
    except ProtectedError as exc:  # its appointments keep it
        raise SchedulingError(
            _("%(name)s has appointments, so it cannot be deleted. Deactivate it instead.")
            % {"name": resource.name}
        ) from exc


def weekly_interval_problem(*, weekday: int, start: time, end: time) -> str | None:
    """Why an interval of weekly hours cannot be stored, as a sentence for a person; None when it can.

    An end of 00:00 is 24:00, the end of the day (availability.END_OF_DAY). An interval cannot run past
    midnight: a night shift is two intervals, and the message says which.
    """
    if not 0 <= weekday <= 6:
        return _("Use 0 (Monday) to 6 (Sunday).")
    if is_end_of_day(end) or start < end:
        return None
    if start == end:
        return _("The end must be after the start.")
    return _(
        "An interval cannot run past midnight. Enter %(evening)s on %(day)s and %(morning)s on %(next_day)s."
    ) % {
        "evening": interval_text(start, END_OF_DAY),
        "day": WEEKDAYS[weekday],
        "morning": interval_text(time(0), end),
        "next_day": WEEKDAYS[(weekday + 1) % 7],
    }


def weekly_intervals_check(intervals: Iterable[WeeklyInterval]) -> list[WeeklyInterval]:
    """The intervals sorted by day and time; SchedulingError for a bad day, end not after start, overlap.

    Touching intervals (09:00–12:00 and 12:00–13:00) are allowed: the availability engine merges them.
    """
    ordered = sorted(
        intervals,
        key=lambda i: (i.weekday, day_microseconds(i.start), day_microseconds(i.end, end=True)),
    )
    for interval in ordered:
        problem = weekly_interval_problem(weekday=interval.weekday, start=interval.start, end=interval.end)
        if problem:
            raise SchedulingError(problem)
    for before, after in itertools.pairwise(ordered):
        same_day = before.weekday == after.weekday
        if same_day and day_microseconds(after.start) < day_microseconds(before.end, end=True):
            raise SchedulingError(
                _("%(first)s and %(second)s overlap.")
                % {
                    "first": interval_text(before.start, before.end),
                    "second": interval_text(after.start, after.end),
                }
            )
    return ordered


@transaction.atomic
def weekly_hours_replace(
    *, resource: Resource | None, intervals: Iterable[WeeklyInterval]
) -> list[WeeklyHours]:
    """Replace all weekly hours of a resource (None: the business's opening hours) in one transaction.

    An empty list means: the resource follows the opening hours; for the business, closed every day.
    Concurrent replacements of the same owner queue on a lock, so the result is one set, never two merged.
    """
    ordered = weekly_intervals_check(intervals)
    _hours_lock(resource)
    WeeklyHours.objects.filter(resource=resource).delete()
    return WeeklyHours.objects.bulk_create(
        WeeklyHours(resource=resource, weekday=i.weekday, start=i.start, end=i.end) for i in ordered
    )


def _hours_lock(resource: Resource | None) -> None:
    """Changes to one owner's weekly hours queue: the overlap check sees the others' result."""
    if resource is not None:
        Resource.objects.select_for_update().get(pk=resource.pk)
    else:
        with connection.cursor() as cursor:
            # No row stands for the business: a transaction lock keyed on the schema takes its place.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':business-hours'))")


def _hours_of(resource: Resource | None, *, without: int | None = None) -> list[WeeklyInterval]:
    rows = WeeklyHours.objects.filter(resource=resource).exclude(pk=without)
    return [WeeklyInterval(r.weekday, r.start, r.end) for r in rows]


@transaction.atomic
def weekly_hours_create(*, resource: Resource | None, weekday: int, start: time, end: time) -> WeeklyHours:
    """Add one interval to a resource's (None: the business's) weekly hours; refused if it overlaps."""
    _hours_lock(resource)
    weekly_intervals_check([*_hours_of(resource), WeeklyInterval(weekday, start, end)])
    return WeeklyHours.objects.create(resource=resource, weekday=weekday, start=start, end=end)


@transaction.atomic
def weekly_hours_update(*, hours: WeeklyHours, **fields) -> WeeklyHours:
    """Change one interval (weekday, start, end, even its owner); the owner's set stays without overlaps."""
    unknown = set(fields) - {"resource", "weekday", "start", "end"}
    if unknown:
        raise TypeError(f"not a weekly hours field: {', '.join(sorted(unknown))}")
    owner = fields.get("resource", hours.resource)
    _hours_lock(hours.resource)
    if owner != hours.resource:
        _hours_lock(owner)
    row = WeeklyHours.objects.select_for_update().get(pk=hours.pk)
    for field, value in fields.items():
        setattr(row, field, value)
    weekly_intervals_check(
        [*_hours_of(owner, without=row.pk), WeeklyInterval(row.weekday, row.start, row.end)]
    )
    row.save(update_fields=list(fields))
    return row


@transaction.atomic
def weekly_hours_delete(*, hours: WeeklyHours) -> None:
    hours.delete()


@transaction.atomic
def closure_create(*, resource: Resource | None, start: datetime, end: datetime, reason: str = "") -> Closure:
    """Close the business (resource None) or one staff member or room from `start` to `end` (aware)."""
    if start.utcoffset() is None or end.utcoffset() is None:
        raise ValueError("closure times must be timezone-aware")
    if start >= end:
        raise SchedulingError(_("The end must be after the start."))
    return Closure.objects.create(resource=resource, start=start, end=end, reason=reason.strip())


@transaction.atomic
def resource_block(*, resource: Resource, start: datetime, end: datetime, reason: str = "") -> Closure:
    """Block one staff member's or room's time (an absence) from the calendar: only time still free.

    Unlike a closure set up in the settings, it is refused (409, naming the booking) where it would hide
    an appointment, so nobody is left booked with someone who is away.
    """
    if start >= end:
        raise SchedulingError(_("The end must be after the start."))
    _lock([resource.pk])
    holds_release_expired(resource_ids=[resource.pk])
    if not _free([resource], start, end, exclude=None):
        raise _describe_conflict([resource.pk], start, end, exclude=None)
    return closure_create(resource=resource, start=start, end=end, reason=reason)


@transaction.atomic
def closure_update(*, closure: Closure, **fields) -> Closure:
    """Change what is given of a closure (resource, start, end, reason)."""
    unknown = set(fields) - {"resource", "start", "end", "reason"}
    if unknown:
        raise TypeError(f"not a closure field: {', '.join(sorted(unknown))}")
    for field, value in fields.items():
        setattr(closure, field, value.strip() if field == "reason" else value)
    if closure.start >= closure.end:
        raise SchedulingError(_("The end must be after the start."))
    closure.save(update_fields=list(fields))
    return closure


@transaction.atomic
def closure_delete(*, closure: Closure) -> None:
    closure.delete()


@dataclass(frozen=True)
class HolidayImport:
    added: int
    existing: int


@transaction.atomic
def holidays_import_counted(*, state: str, years: Sequence[int], time_zone: str) -> HolidayImport:
    """`holidays_import`, all or nothing, telling how many holidays were new and how many already there."""
    if state not in GERMAN_STATES:
        raise SchedulingError(_("Choose a German federal state."))
    if not years:
        raise SchedulingError(_("Choose at least one year."))
    total = len(holidays.Germany(subdiv=state, years=list(years)))
    added = holidays_import(state=state, years=years, time_zone=time_zone)
    return HolidayImport(added=added, existing=total - added)
