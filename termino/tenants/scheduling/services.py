"""Writes of the scheduling core: appointments that can never double-book, and their life cycle.

The exclusion constraint on `Allocation` is the guarantee; the row locks taken here first keep concurrent
bookings of the same resources in a queue instead of letting the losers deadlock (SQLSTATE 40P01).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.db import IntegrityError, OperationalError, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone
from django.utils.translation import gettext as _

from termino.shared.errors import ConflictError, InvalidRequest

from .models import (
    Allocation,
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Closure,
    Resource,
    ResourceKind,
    Service,
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


def held_period(service: Service, start: datetime) -> tuple[datetime, datetime, datetime]:
    """(end of the appointment, start and end of the time its resources are held, buffers included)."""
    end = start + timedelta(minutes=service.duration_minutes)
    return (
        end,
        start - timedelta(minutes=service.buffer_before_minutes),
        end + timedelta(minutes=service.buffer_after_minutes),
    )


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(getattr(cause, "diag", None), "sqlstate", None)


def _lock(resource_ids: Sequence[int]) -> list[Resource]:
    """Lock resource rows in ascending id order: every transaction queues in the same order."""
    return list(Resource.objects.select_for_update().filter(pk__in=set(resource_ids)).order_by("pk"))


def _describe_conflict(resource_ids: Sequence[int], since: datetime, until: datetime, *, exclude: int | None):
    clash = (
        Allocation.objects.filter(
            resource_id__in=resource_ids, active=True, period__overlap=DateTimeTZRange(since, until)
        )
        .exclude(appointment_id=exclude)
        .select_related("resource", "appointment__service")
        .order_by("period")
        .first()
    )
    if clash is None:
        return Conflict(_("This time was just taken. Please choose another one."))
    other = clash.appointment
    zone = since.tzinfo
    return Conflict(
        _("%(resource)s is already booked from %(start)s to %(end)s (%(service)s).")
        % {
            "resource": clash.resource.name,
            "start": other.start.astimezone(zone).strftime("%H:%M"),
            "end": other.end.astimezone(zone).strftime("%H:%M"),
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
    resources: list[Resource], since: datetime, until: datetime, *, exclude: int | None
) -> list[Resource]:
    busy = set(
        Allocation.objects.filter(
            resource__in=resources, active=True, period__overlap=DateTimeTZRange(since, until)
        )
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
) -> Appointment:
    service = booking.service
    if not service.active:
        raise SchedulingError(_("%(service)s is not offered any more.") % {"service": service.name})
    end, since, until = held_period(service, booking.start)
    staff_options = _candidates(service, ResourceKind.STAFF, booking.staff)
    room_options = _candidates(service, ResourceKind.ROOM, booking.room) if service.requires_room else []
    if not staff_options:
        raise SchedulingError(_("No staff member offers %(service)s.") % {"service": service.name})
    if service.requires_room and not room_options:
        raise SchedulingError(_("%(service)s needs a room, but none is set up.") % {"service": service.name})

    _lock([r.pk for r in staff_options + room_options])
    holds_release_expired(resource_ids=[r.pk for r in staff_options + room_options])
    session, taken = None, 0
    if service.capacity > 1:
        # Join an open session of this service at this time, with whoever runs it.
        for staff in staff_options:
            session, taken = _group_session(service, staff, since, until)
            if session is not None:
                if taken >= service.capacity:
                    raise Conflict(_("This session is fully booked."))
                staff_options = [staff]
                break
    if session is not None:
        rooms = list(
            Allocation.objects.filter(session=session, active=True)
            .exclude(resource=staff_options[0])
            .values_list("resource_id", flat=True)
            .distinct()
        )
        chosen = staff_options + [r for r in room_options if r.pk in rooms][:1]
    else:
        free_staff = _free(staff_options, since, until, exclude=None)
        free_rooms = _free(room_options, since, until, exclude=None) if service.requires_room else []
        if not free_staff or (service.requires_room and not free_rooms):
            raise _describe_conflict([r.pk for r in staff_options + room_options], since, until, exclude=None)
        chosen = free_staff[:1] + free_rooms[:1]

    appointment = Appointment.objects.create(
        service=service,
        customer=customer,
        start=booking.start,
        end=end,
        status=status,
        source=source,
        notes=notes,
        price=service.price,
        created_by=created_by,
        changed_by=created_by,
        hold_expires_at=hold_expires_at,
    )
    _allocate(appointment, chosen, since, until, session=session)
    return appointment


def holds_release_expired(*, resource_ids: Sequence[int] | None = None) -> int:
    """Delete lapsed holds (all, or those on the given resources) so their time is free again."""
    expired = Appointment.objects.filter(status=AppointmentStatus.HELD, hold_expires_at__lte=timezone.now())
    if resource_ids is not None:
        expired = expired.filter(allocations__resource_id__in=resource_ids)
    _total, per_model = Appointment.objects.filter(pk__in=list(expired.values_list("pk", flat=True))).delete()
    return per_model.get(Appointment._meta.label, 0)


def _allocate(appointment: Appointment, resources, since, until, *, session=None) -> None:
    rows = [
        Allocation(appointment=appointment, resource=r, period=DateTimeTZRange(since, until), active=True)
        for r in resources
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
            raise _describe_conflict([r.pk for r in resources], since, until, exclude=appointment.pk) from exc
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
    resources = [new_staff] + [a.resource for a in current if a.resource.kind == ResourceKind.ROOM]
    _lock([r.pk for r in resources] + [a.resource_id for a in current])
    holds_release_expired(resource_ids=[r.pk for r in resources])
    end, since, until = held_period(service, start)
    if [r for r in resources if r not in _free(resources, since, until, exclude=appointment.pk)]:
        raise _describe_conflict([r.pk for r in resources], since, until, exclude=appointment.pk)
    appointment.allocations.all().delete()
    appointment.start, appointment.end, appointment.changed_by = start, end, changed_by
    appointment.save(update_fields=["start", "end", "changed_by", "updated_at"])
    _allocate(appointment, resources, since, until)
    return appointment


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
                "start": _local_midnight(day, zone),
                "end": _local_midnight(day + timedelta(1), zone),
                "reason": name,
            },
        )
        made += created
    return made


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)
