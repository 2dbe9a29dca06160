"""Reads for the backoffice calendar: columns of one day (per staff member or room) or of one week.

Everything is laid out in the business's local wall-clock minutes, so the template only multiplies by a
pixel scale. Working time is shown the way the availability engine counts it: a resource's own weekly
hours (or the business hours when it has none) within the business hours, minus closures.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Q
from django.utils import timezone

from termino.shared import timeutils

from .availability import day_minutes
from .models import Allocation, AppointmentStatus, Closure, Resource, Service, WeeklyHours
from .selectors import free_slots

DEFAULT_DAY = (8 * 60, 18 * 60)  # shown when nothing is open that day


@dataclass
class Block:
    """One appointment in one column, `top`/`length` in minutes from the top of the grid."""

    appointment: object
    top: int
    length: int
    lane: int = 0
    lanes: int = 1


@dataclass
class Column:
    resource: Resource
    day: date
    open: list[tuple[int, int]] = field(default_factory=list)  # (top, length) of working time
    closures: list[tuple[int, int, str]] = field(default_factory=list)  # (top, length, reason)
    blocks: list[Block] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.resource.pk}-{self.day.isoformat()}"


@dataclass
class Grid:
    days: list[date]
    first_minute: int
    last_minute: int
    columns: list[Column]

    @property
    def hours(self) -> list[tuple[int, str]]:
        """(top, label) of each full hour in the grid."""
        first = -(-self.first_minute // 60) * 60
        return [(m - self.first_minute, f"{m // 60:02d}:00") for m in range(first, self.last_minute, 60)]

    @property
    def height(self) -> int:
        return self.last_minute - self.first_minute


def calendar_resources(*, kind: str, resource_ids: list[int] | None = None) -> list[Resource]:
    """Active resources of one kind, or only the given ones (a staff user's own column)."""
    resources = Resource.objects.filter(active=True)
    if resource_ids is not None:
        resources = resources.filter(pk__in=resource_ids)
    else:
        resources = resources.filter(kind=kind)
    return list(resources.order_by("name", "pk"))


def calendar_grid(*, days: list[date], resources: list[Resource], time_zone: str) -> Grid:
    """Columns for every (day, resource), with working time, closures and the appointments."""
    zone = ZoneInfo(time_zone)
    since, until = timeutils.local_day_bounds(days[0], days[-1], zone)
    ids = [r.pk for r in resources]

    hours: dict[int | None, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for owner, weekday, opens, closes in WeeklyHours.objects.filter(
        Q(resource__isnull=True) | Q(resource_id__in=ids)
    ).values_list("resource_id", "weekday", "start", "end"):
        hours[owner][weekday].append((day_minutes(opens), day_minutes(closes, end=True)))  # 24:00 = 1440
    closures = list(
        Closure.objects.filter(Q(resource__isnull=True) | Q(resource_id__in=ids)).filter(
            start__lt=until, end__gt=since
        )
    )
    allocations = (
        Allocation.objects.filter(
            resource_id__in=ids, active=True, period__overlap=DateTimeTZRange(since, until)
        )
        .exclude(appointment__status=AppointmentStatus.HELD, appointment__hold_expires_at__lte=timezone.now())
        .select_related("appointment__service", "appointment__customer")
        .prefetch_related("appointment__allocations__resource")
    )
    by_column: dict[tuple[int, date], list] = defaultdict(list)
    for allocation in allocations:
        appointment = allocation.appointment
        by_column[(allocation.resource_id, appointment.start.astimezone(zone).date())].append(appointment)

    columns, spans = [], []
    for day in days:
        business = _merge(hours[None].get(day.weekday(), []))
        for resource in resources:
            own = _merge(hours[resource.pk].get(day.weekday(), [])) if resource.pk in hours else business
            column = Column(resource=resource, day=day, open=_intersect(own, business))
            spans.extend(column.open)
            for closure in closures:
                if closure.resource_id in (None, resource.pk):
                    span = _local_span(closure.start, closure.end, day, zone)
                    if span:
                        column.closures.append((*span, closure.reason))
            for appointment in sorted(by_column[(resource.pk, day)], key=lambda a: (a.start, a.pk)):
                span = _local_span(appointment.start, appointment.end, day, zone)
                if span:
                    column.blocks.append(Block(appointment=appointment, top=span[0], length=span[1]))
                    spans.append(span)
            _lay_out_lanes(column.blocks)
            columns.append(column)

    first, last = DEFAULT_DAY
    if spans:
        first = min(top for top, _length in spans)
        last = max(top + length for top, length in spans)
    first, last = first // 60 * 60, min(-(-last // 60) * 60, 24 * 60)
    for column in columns:
        column.open = [(top - first, length) for top, length in column.open]
        column.closures = [(max(top, first) - first, length, r) for top, length, r in column.closures]
        for block in column.blocks:
            block.top -= first
    return Grid(days=days, first_minute=first, last_minute=last, columns=columns)


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


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _intersect(own, business) -> list[tuple[int, int]]:
    """(top, length) of the local minutes both lists cover."""
    spans = []
    for a_start, a_end in own:
        for b_start, b_end in business:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                spans.append((start, end - start))
    return spans


def _local_span(start: datetime, end: datetime, day: date, zone: ZoneInfo) -> tuple[int, int] | None:
    """(top, length) in local minutes of the part of [start, end) that falls on `day`."""
    day_start, day_end = timeutils.local_day_bounds(day, day, zone)
    lo, hi = max(start, day_start), min(end, day_end)
    if lo >= hi:
        return None
    top = _minutes(lo.astimezone(zone).time())
    length = max(int((hi - lo).total_seconds() // 60), 1)
    return top, min(length, 24 * 60 - top)


def _lay_out_lanes(blocks: list[Block]) -> None:
    """Side by side where appointments overlap (group sessions, rooms shared by several bookings)."""
    cluster: list[Block] = []
    cluster_end = -1
    for block in blocks:
        if cluster and block.top >= cluster_end:
            _assign(cluster)
            cluster = []
        cluster.append(block)
        cluster_end = (
            max(cluster_end, block.top + block.length) if len(cluster) > 1 else block.top + block.length
        )
    if cluster:
        _assign(cluster)


def _assign(cluster: list[Block]) -> None:
    lane_ends: list[int] = []
    for block in cluster:
        for lane, end in enumerate(lane_ends):
            if end <= block.top:
                block.lane, lane_ends[lane] = lane, block.top + block.length
                break
        else:
            block.lane = len(lane_ends)
            lane_ends.append(block.top + block.length)
    for block in cluster:
        block.lanes = len(lane_ends)
