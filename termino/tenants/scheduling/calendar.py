"""Reads for the backoffice calendar: what lies in a range of days for some columns (staff or rooms).

The calendar component on the page lays everything out; this module only answers which appointments,
closures and working times fall into the visible days, in the business's wall-clock time. Working time is
shown the way the availability engine counts it: a resource's own weekly hours (or the business hours when
it has none) within the business hours, minus closures (sent separately).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from termino.shared import timeutils

from .availability import day_minutes
from .models import (
    Allocation,
    Appointment,
    AppointmentStatus,
    Closure,
    Resource,
    ResourceKind,
    Service,
    WeeklyHours,
)
from .selectors import free_slots

DEFAULT_DAY = (8 * 60, 18 * 60)  # shown when no hours are set up


@dataclass
class Entry:
    """One appointment and every resource it holds (the room as well in the staff view)."""

    appointment: object
    resources: list[Resource] = field(default_factory=list)
    staff_periods: list = field(default_factory=list)  # two with a processing gap between them


@dataclass
class Feed:
    entries: list[Entry]
    closures: list[Closure]
    open: dict[tuple[int, date], list[tuple[int, int]]]  # (resource, day) → (first, last) local minutes


def calendar_resources(*, kind: str, resource_ids: list[int] | None = None) -> list[Resource]:
    """Active resources of one kind, or only the given ones (a staff user's own column)."""
    resources = Resource.objects.filter(active=True)
    if resource_ids is not None:
        resources = resources.filter(pk__in=resource_ids)
    else:
        resources = resources.filter(kind=kind)
    return list(resources.order_by("name", "pk"))


def calendar_feed(*, first_day: date, last_day: date, resources: list[Resource], time_zone: str) -> Feed:
    """Appointments, closures and working time of `resources` from `first_day` to `last_day` (local)."""
    zone = ZoneInfo(time_zone)
    since, until = timeutils.local_day_bounds(first_day, last_day, zone)
    ids = [r.pk for r in resources]
    shown = (
        Allocation.objects.filter(
            resource_id__in=ids, active=True, appointment__start__lt=until, appointment__end__gt=since
        )
        .exclude(appointment__status=AppointmentStatus.HELD, appointment__hold_expires_at__lte=timezone.now())
        .values("appointment_id")
    )
    # One query: every allocation of the shown appointments, with appointment, service, customer, resource.
    entries: dict[int, Entry] = {}
    for allocation in (
        Allocation.objects.filter(appointment_id__in=shown, active=True)
        .select_related("appointment__service", "appointment__customer", "resource")
        .order_by("appointment__start", "appointment_id", "-resource__kind", "resource_id")  # staff, rooms
    ):
        entry = entries.setdefault(allocation.appointment_id, Entry(appointment=allocation.appointment))
        if allocation.resource not in entry.resources:  # a staff member with processing time holds two
            entry.resources.append(allocation.resource)
        if allocation.resource.kind == ResourceKind.STAFF:
            entry.staff_periods.append(allocation.period)
    closures = list(
        Closure.objects.filter(Q(resource__isnull=True) | Q(resource_id__in=ids)).filter(
            start__lt=until, end__gt=since
        )
    )
    return Feed(
        entries=list(entries.values()),
        closures=closures,
        open=_working_time(first_day, last_day, ids),
    )


def visit_parts(*, visit_ids: set[int], zone: ZoneInfo) -> dict[int, list[dict]]:
    """Per visit, its services in order (also those outside the shown columns or days), for the dialog."""
    if not visit_ids:
        return {}
    parts: dict[int, list[dict]] = defaultdict(list)
    for appointment in (
        Appointment.objects.filter(visit_id__in=visit_ids)
        .exclude(status=AppointmentStatus.HELD)
        .select_related("service")
        .order_by("start", "pk")
    ):
        parts[appointment.visit_id].append(
            {
                "id": appointment.pk,
                "service": appointment.service.name,
                "from": timeutils.wall_time(appointment.start, zone),
                "until": timeutils.wall_time(appointment.end, zone),
                "status": appointment.status,
            }
        )
    return dict(parts)


def _working_time(first_day: date, last_day: date, ids: list[int]) -> dict[tuple[int, date], list]:
    hours: dict[int | None, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for owner, weekday, opens, closes in WeeklyHours.objects.filter(
        Q(resource__isnull=True) | Q(resource_id__in=ids)
    ).values_list("resource_id", "weekday", "start", "end"):
        hours[owner][weekday].append((day_minutes(opens), day_minutes(closes, end=True)))  # 24:00 = 1440
    spans = {}
    day = first_day
    while day <= last_day:
        business = _merge(hours[None].get(day.weekday(), []))
        for pk in ids:
            own = _merge(hours[pk].get(day.weekday(), [])) if pk in hours else business
            spans[(pk, day)] = _intersect(own, business)
        day += timedelta(days=1)
    return spans


def visible_hours() -> tuple[int, int]:
    """(first, last) local minute worth showing: the earliest opening to the latest closing, whole hours."""
    hours = list(WeeklyHours.objects.values_list("start", "end"))
    if not hours:
        return DEFAULT_DAY
    first = min(day_minutes(start) for start, _end in hours)
    last = max(day_minutes(end, end=True) for _start, end in hours)  # an end of 00:00 is 24:00
    return first // 60 * 60, min(-(-last // 60) * 60, 24 * 60)


def next_free_slots(*, service: Service, time_zone: str, count: int = 5, resource_ids=None) -> list:
    """The first `count` free slots of a service from now on, across all staff (phone bookings)."""
    zone = ZoneInfo(time_zone)
    day = timeutils.today(zone)
    last = day + timedelta(days=service.horizon_days)
    found = []
    while day <= last and len(found) < count:
        chunk_end = min(day + timedelta(days=6), last)
        for slot in free_slots(service=service, start_date=day, end_date=chunk_end, time_zone=time_zone):
            if resource_ids is not None:
                staff = [r for r in slot.resources if r in resource_ids]
                if not staff:
                    continue
            found.append(slot)
            if len(found) == count:
                break
        day = chunk_end + timedelta(days=1)
    return found


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _intersect(own, business) -> list[tuple[int, int]]:
    """(first, last) of the local minutes both lists cover."""
    spans = []
    for a_start, a_end in own:
        for b_start, b_end in business:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                spans.append((start, end))
    return spans


def processing_gap(entry: Entry) -> tuple | None:
    """(start, end) of the time within an appointment in which its staff member is free for others (a
    colour working), from what the staff member holds; None without such a gap."""
    periods = sorted(entry.staff_periods, key=lambda period: period.lower)
    for held, following in pairwise(periods):
        if held.upper < following.lower:
            return held.upper, following.lower
    return None
