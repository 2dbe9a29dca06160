"""Reads of appointment series: each occurrence of a rule checked (free, or taken with the reason and the
nearest free alternative), and the occurrences of a stored series.

The same check runs twice: for the preview a person sees before anything is stored, and inside the booking
transaction under the resource locks (`series.series_book`), so what the preview calls free is what the
booking accepts. A time is taken when a resource the booking needs is busy (another appointment, buffers
included), closed (a holiday, someone's absence) or the time has passed. Alternatives come from the
availability engine (working hours, closures, busy time) on the occurrence's day and the days around it;
staff book beyond the online booking window, so its notice and horizon do not apply here.
"""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from termino.shared import timeutils
from termino.tenants.business.roles import own_resource_ids

from . import availability, selectors
from .models import (
    ACTIVE_STATUSES,
    Allocation,
    Appointment,
    AppointmentStatus,
    Closure,
    Resource,
    ResourceKind,
    Series,
    Service,
)
from .services import held_period

# How many days either side of a taken occurrence the alternative may lie.
ALTERNATIVE_DAYS = 3


@dataclass(frozen=True)
class Alternative:
    start: datetime
    end: datetime
    staff_id: int | None


@dataclass(frozen=True)
class OccurrenceCheck:
    start: datetime
    end: datetime
    free: bool
    reason: str = ""
    alternative: Alternative | None = None


@dataclass(frozen=True)
class Needs:
    """Who a series may use: one of `staff` for each occurrence and, if the service needs one, one of
    `rooms` (a single id when the user chose one)."""

    service: Service
    staff: tuple[Resource, ...]
    rooms: tuple[Resource, ...]

    @property
    def resource_ids(self) -> list[int]:
        return sorted({r.pk for r in (*self.staff, *self.rooms)})


def series_needs(*, service: Service, staff: Resource | None, room: Resource | None) -> Needs:
    """The staff members and rooms an occurrence may use (the same candidates a single booking has)."""
    able = list(service.resources.filter(active=True).order_by("pk"))
    staff_options = [r for r in able if r.kind == ResourceKind.STAFF]
    room_options = [r for r in able if r.kind == ResourceKind.ROOM] if service.requires_room else []
    if staff is not None:
        staff_options = [r for r in staff_options if r.pk == staff.pk]
    if room is not None and service.requires_room:
        room_options = [r for r in room_options if r.pk == room.pk]
    return Needs(service=service, staff=tuple(staff_options), rooms=tuple(room_options))


def _span(periods: Sequence[tuple[datetime, datetime]]) -> DateTimeTZRange:
    return DateTimeTZRange(min(p[0] for p in periods), max(p[1] for p in periods))


def occurrences_check(
    *, needs: Needs, starts: Sequence[datetime], zone: ZoneInfo, alternatives: bool = True
) -> list[OccurrenceCheck]:
    """Each start checked against busy time, closures and the clock; the taken ones with an alternative.

    Two queries for all occurrences (the busy time and the closures of the whole span), one engine call per
    taken occurrence for its alternative.
    """
    if not starts:
        return []
    service = needs.service
    periods = [held_period(service, start) for start in starts]  # (end, since, until)
    held = [(since, until) for _end, since, until in periods]
    ids = needs.resource_ids
    span = _span(held)
    busy = list(
        Allocation.objects.filter(resource_id__in=ids, active=True, period__overlap=span)
        .exclude(
            appointment__status=AppointmentStatus.HELD, appointment__hold_expires_at__lte=timeutils.now()
        )
        .select_related("resource", "appointment__service")
        .order_by("period", "resource_id")
    )
    closures = list(
        Closure.objects.filter(Q(resource__isnull=True) | Q(resource_id__in=ids))
        .filter(start__lt=span.upper, end__gt=span.lower)
        .select_related("resource")
        .order_by("start", "pk")
    )
    now = timeutils.now()
    checks = []
    for index, (start, (end, since, until)) in enumerate(zip(starts, periods, strict=True)):
        reason = _taken_reason(needs, start, since, until, busy, closures, now, zone)
        if not reason:
            checks.append(OccurrenceCheck(start=start, end=end, free=True))
            continue
        others = [h for i, h in enumerate(held) if i != index]
        alternative = _nearest_free(needs, start, others, zone) if alternatives else None
        checks.append(
            OccurrenceCheck(start=start, end=end, free=False, reason=reason, alternative=alternative)
        )
    return checks


def _overlaps(lo: datetime, hi: datetime, since: datetime, until: datetime) -> bool:
    return lo < until and since < hi


def _taken_reason(needs, start, since, until, busy, closures, now, zone) -> str:
    """Why this occurrence cannot be booked, in words; "" when it can."""
    if start < now:
        return _("This time has passed.")
    for closure in closures:
        if closure.resource_id is None and _overlaps(closure.start, closure.end, since, until):
            return _("The business is closed (%(reason)s).") % {"reason": closure.reason or _("closed")}
    for group in (needs.staff, needs.rooms) if needs.service.requires_room else (needs.staff,):
        if not group:
            return _("Nobody offers %(service)s.") % {"service": needs.service.name}
        problems = [_resource_problem(needs.service, r, since, until, busy, closures, zone) for r in group]
        if all(problems):
            return problems[0]
    return ""


def _joinable(service, resource, since, until, busy) -> bool:
    """A group session of this service at exactly this time with a seat left (a booking joins it)."""
    if service.capacity <= 1:
        return False
    same = [
        a
        for a in busy
        if a.resource_id == resource.pk
        and a.appointment.service_id == service.pk
        and (a.period.lower, a.period.upper) == (since, until)
    ]
    return bool(same) and len(same) < service.capacity


def _resource_problem(service, resource, since, until, busy, closures, zone) -> str:
    for closure in closures:
        if closure.resource_id == resource.pk and _overlaps(closure.start, closure.end, since, until):
            return _("%(resource)s is away (%(reason)s).") % {
                "resource": resource.name,
                "reason": closure.reason or _("blocked"),
            }
    if _joinable(service, resource, since, until, busy):
        return ""
    for allocation in busy:
        period = allocation.period
        if allocation.resource_id == resource.pk and _overlaps(period.lower, period.upper, since, until):
            other = allocation.appointment
            return _("%(resource)s is already booked from %(start)s to %(end)s (%(service)s).") % {
                "resource": resource.name,
                "start": timeutils.wall_time(other.start, zone),
                "end": timeutils.wall_time(other.end, zone),
                "service": other.service.name,
            }
    return ""


def _nearest_free(needs: Needs, start: datetime, others, zone: ZoneInfo) -> Alternative | None:
    """The free slot nearest to `start` within ALTERNATIVE_DAYS days (same staff, if one was chosen) that
    collides with no other occurrence of the series."""
    if not needs.staff:
        return None
    day = timeutils.local_date(start, zone)
    staff_id = needs.staff[0].pk if len(needs.staff) == 1 else None
    inputs = selectors.availability_inputs(
        service=needs.service,
        start_date=day - timedelta(days=ALTERNATIVE_DAYS),
        end_date=day + timedelta(days=ALTERNATIVE_DAYS),
        time_zone=zone.key,
        resource_id=staff_id,
    )
    # Staff book beyond the booking page's window: from now on, however far ahead.
    horizon = timeutils.elapsed(inputs["now"], start) + timedelta(days=ALTERNATIVE_DAYS + 2)
    inputs["rules"] = dataclasses.replace(inputs["rules"], min_notice=timedelta(0), horizon=horizon)
    room_ids = {r.pk for r in needs.rooms}
    staff_ids = {r.pk for r in needs.staff}
    best = None
    for slot in availability.free_slots(**inputs):
        _end, since, until = held_period(needs.service, slot.start)
        if any(_overlaps(lo, hi, since, until) for lo, hi in others):
            continue
        if not staff_ids & set(slot.resources):
            continue
        if needs.service.requires_room and not room_ids & set(slot.resources):
            continue
        distance = abs(timeutils.elapsed(start, slot.start))
        if best is None or distance < best[0]:
            chosen = next(pk for pk in slot.resources if pk in staff_ids)
            best = (
                distance,
                Alternative(
                    start=timeutils.as_utc(slot.start), end=timeutils.as_utc(slot.end), staff_id=chosen
                ),
            )
    return best[1] if best else None


# --- Stored series ---------------------------------------------------------------------------------------


def series_list(*, user) -> QuerySet[Series]:
    """The series this user may see: all, or for a staff member those with an occurrence in their column."""
    queryset = Series.objects.select_related("service", "customer").order_by("-created_at", "-pk")
    own = own_resource_ids(user)
    if own is not None:
        queryset = queryset.filter(appointments__allocations__resource_id__in=own).distinct()
    return queryset


def series_occurrences(*, series: Series, since: datetime | None = None, active_only: bool = False):
    """The series' appointments in time order (from `since`; only requested or confirmed ones, if asked)."""
    queryset = Appointment.objects.filter(series=series).select_related("service").order_by("start", "pk")
    if since is not None:
        queryset = queryset.filter(start__gte=since)
    if active_only:
        queryset = queryset.filter(status__in=ACTIVE_STATUSES)
    return queryset
