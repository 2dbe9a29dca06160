"""Reads of the scheduling core: loading what the availability engine needs, in a handful of queries."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from termino.shared import timeutils
from termino.shared.db import prepared

from . import availability
from .models import Allocation, Appointment, Closure, Resource, Service, WeeklyHours


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def service_rules(service: Service) -> availability.ServiceRules:
    return availability.ServiceRules(
        service_id=service.pk,
        duration=timedelta(minutes=service.duration_minutes),
        buffer_before=timedelta(minutes=service.buffer_before_minutes),
        buffer_after=timedelta(minutes=service.buffer_after_minutes),
        min_notice=timedelta(minutes=service.min_notice_minutes),
        horizon=timedelta(days=service.horizon_days),
        step=timedelta(minutes=service.slot_step_minutes),
        capacity=service.capacity,
        requires_room=service.requires_room,
        processing_after=timedelta(minutes=service.processing_after_minutes),
        processing=timedelta(minutes=service.processing_minutes),
    )


def free_slots(
    *,
    service: Service,
    start_date: date,
    end_date: date,
    time_zone: str,
    resource_id: int | None = None,
    now: datetime | None = None,
) -> list[availability.Slot]:
    """Free slots of `service` between two local dates (inclusive), each with its free resources."""
    return availability.free_slots(
        **availability_inputs(
            service=service,
            start_date=start_date,
            end_date=end_date,
            time_zone=time_zone,
            resource_id=resource_id,
            now=now,
        )
    )


@dataclass(frozen=True)
class Offer:
    """Free slots of a service, and which of the loaded resources do it (to tell a caller that asked for one
    that does not: with a resource asked, only it and those of the other kind are loaded)."""

    slots: list[availability.Slot]
    resource_ids: frozenset[int]
    # Asked `online` for a service booked online as a course: its starts are series_online's to find, so
    # no single slots were computed (the one statement told, sparing the booking page a query to ask).
    course: bool = False


def service_free_slots(
    *,
    service_id: int,
    start_date: date,
    end_date: date,
    time_zone: str,
    resource_id: int | None = None,
    online: bool = False,
    now: datetime | None = None,
) -> Offer | None:
    """Free slots of an active service (bookable online, if `online`) by its id, service included in the one
    statement that loads everything; None when there is no such service."""
    loaded = _load(service_id, start_date, end_date, time_zone, resource_id, now, active=True, online=online)
    if loaded is None:
        return None
    service, inputs = loaded
    ids = frozenset(calendar.resource_id for calendar in inputs["resources"])
    if online and service.online_series_count >= 2:
        return Offer([], ids, course=True)
    if resource_id is not None and resource_id not in ids:
        return Offer([], ids)
    return Offer(availability.free_slots(**inputs), ids)


def availability_inputs(
    *,
    service: Service,
    start_date: date,
    end_date: date,
    time_zone: str,
    resource_id: int | None = None,
    now: datetime | None = None,
) -> dict:
    """Everything the availability engine needs, loaded in one statement (one round trip, no ORM)."""
    return _load(service.pk, start_date, end_date, time_zone, resource_id, now, service=service)[1]


def _load(
    service_id, start_date, end_date, time_zone, resource_id, now, *, service=None, active=False, online=False
):
    zone = ZoneInfo(time_zone)
    now = now or timezone.now()
    # A day of margin either side: buffers and the engine's conversions may reach past the local days.
    window_start, window_end = timeutils.local_day_bounds(
        start_date - timedelta(days=1), end_date + timedelta(days=1), zone
    )
    service_rows, resource_rows, *rows = prepared.fetchone(
        _INPUTS_SQL,
        {
            "service": service_id,
            "active": active,
            "online": online,
            "resource": resource_id,
            "window_start": window_start,
            "window_end": window_end,
            "now": now,
        },
    )
    if not service_rows:
        return None
    if service is None:
        service = Service(**{field.attname: service_rows[0][field.column] for field in _RULE_FIELDS})
    calendars, business_hours, business_closures = _calendars(resource_rows, *rows)
    return service, {
        "rules": service_rules(service),
        "resources": calendars,
        "business_hours": business_hours,
        "closures": business_closures,
        "now": now,
        "tz": zone,
        "start_date": start_date,
        "end_date": end_date,
        "resource_id": resource_id,
    }


def _calendars(resource_rows, hour_rows, closure_rows, span_columns, session_rows):
    """(calendars of the resources, business hours, business closures) from the rows of one statement."""
    hours: dict[int | None, list[availability.WeeklyInterval]] = defaultdict(list)
    for owner, weekday, opens, closes in hour_rows:
        hours[owner].append(
            availability.WeeklyInterval(weekday=weekday, start=_time(opens), end=_time(closes))
        )
    closures: dict[int | None, list[availability.Interval]] = defaultdict(list)
    for owner, lo, hi in closure_rows:
        closures[owner].append(availability.Interval(_utc(lo), _utc(hi)))
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for owner, lo, hi in zip(*span_columns, strict=True):
        spans[owner].append((lo, hi))
    sessions: dict[int, list[availability.BusyRow]] = defaultdict(list)
    for owner, *row in session_rows:
        sessions[owner].append(tuple(row))

    calendars = [
        availability.ResourceCalendar(
            resource_id=row[0],
            kind=row[1],
            hours=tuple(hours.get(row[0], ())),
            closures=tuple(closures.get(row[0], [])),
            busy_spans=tuple(spans.get(row[0], ())),
            busy_rows=tuple(sessions.get(row[0], ())),
        )
        for row in resource_rows
    ]
    return calendars, tuple(hours.get(None, ())), tuple(closures.get(None, []))


def visit_free_slots(
    *,
    service_ids: Sequence[int],
    resource_ids: Sequence[int | None] | None = None,
    start_date: date,
    end_date: date,
    time_zone: str,
    online: bool = False,
    now: datetime | None = None,
) -> list[availability.VisitSlot] | None:
    """Starts of a visit of active services (bookable online, if `online`) back to back, in one statement;
    `resource_ids` names per service the staff member (or None: anyone). None when a service is unknown,
    inactive, not bookable online or a group service."""
    if resource_ids is None:
        resource_ids = [None] * len(service_ids)
    if not service_ids or len(resource_ids) != len(service_ids):
        raise ValueError("one resource choice per service")
    zone = ZoneInfo(time_zone)
    now = now or timezone.now()
    # The later services may run into the next days; a margin as for one service, plus the visit's length.
    window_start, window_end = timeutils.local_day_bounds(
        start_date - timedelta(days=1), end_date + timedelta(days=2), zone
    )
    service_rows, resource_rows, *rows = prepared.fetchone(
        _VISIT_INPUTS_SQL,
        {
            "services": list(set(service_ids)),
            "online": online,
            "resource": None,
            "window_start": window_start,
            "window_end": window_end,
            "now": now,
        },
    )
    rules_by_id = {
        row["id"]: service_rules(Service(**{f.attname: row[f.column] for f in _RULE_FIELDS}))
        for row in service_rows
    }
    if any(pk not in rules_by_id or rules_by_id[pk].capacity != 1 for pk in service_ids):
        return None
    calendars, business_hours, business_closures = _calendars(resource_rows, *rows)
    offers = {row[0]: set(row[2]) for row in resource_rows}
    parts = [
        availability.VisitPart(
            rules=rules_by_id[pk],
            resources=[c for c in calendars if pk in offers[c.resource_id]],
            resource_id=chosen,
        )
        for pk, chosen in zip(service_ids, resource_ids, strict=True)
    ]
    return availability.free_visit_slots(
        parts=parts,
        business_hours=business_hours,
        closures=business_closures,
        now=now,
        tz=zone,
        start_date=start_date,
        end_date=end_date,
    )


_RULE_FIELDS = [
    Service._meta.get_field(name)
    for name in (
        "id", "duration_minutes", "buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes",
        "horizon_days", "slot_step_minutes", "capacity", "requires_room", "processing_after_minutes",
        "processing_minutes", "online_series_count",
    )
]  # fmt: skip


def _time(seconds: int) -> time:
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return time(hour % 24, minute, second)  # 24:00 is stored as 00:00 (END_OF_DAY) anyway


_table = prepared.table

# The resources that offer the service(s) `svc` (the statement names it first), their weekly hours and
# closures, the business's, and the busy time of those resources in the window: active allocations (a
# lapsed hold no longer blocks, even before the next booking deletes it); those of an asked group service
# apart, one row per session with its participants. Times come back as epoch seconds, busy time as epoch
# microseconds (the engine's unit, stored beside each period): parsing a thousand range and timestamp texts
# in Python costs more than the query. Lapsed holds are left out by an anti-join on the few of them: a join
# to every allocation's appointment cost more than the rest of the statement together.
_LOADED_SQL = f"""
res AS (
    SELECT r.id, r.kind, array_agg(rs.service_id ORDER BY rs.service_id) AS offers
    FROM {_table(Resource)} r
    JOIN {_table(Resource.services.through)} rs ON rs.resource_id = r.id
    JOIN svc ON svc.id = rs.service_id
    WHERE r.active AND (r.kind = 'staff' OR (r.kind = 'room' AND svc.requires_room))
      -- Asked for one staff member (or room): that one, and the resources of the other kind, since the
      -- engine considers only the asked one of its kind. A day of one person loads one person's week.
      AND (%(resource)s::bigint IS NULL OR r.id = %(resource)s
           OR r.kind <> (SELECT kind FROM {_table(Resource)} WHERE id = %(resource)s))
    GROUP BY r.id, r.kind
), busy AS (
    SELECT a.resource_id, a.start_us, a.end_us, a.appointment_id, a.session
    FROM {_table(Allocation)} a
    WHERE a.resource_id IN (SELECT id FROM res) AND a.active
      AND a.period && tstzrange(%(window_start)s, %(window_end)s)
      AND a.appointment_id NOT IN (
          SELECT id FROM {_table(Appointment)} WHERE status = 'held' AND hold_expires_at <= %(now)s)
), sessions AS (
    SELECT b.resource_id, b.start_us, b.end_us, b.appointment_id, ap.service_id, ap.start, b.session
    FROM busy b
    JOIN {_table(Appointment)} ap ON ap.id = b.appointment_id
    JOIN svc ON svc.id = ap.service_id AND svc.capacity > 1
    -- Checked once, before any join: without a group service there is nothing to look up. A plan made
    -- for any parameters (a prepared statement's) cannot know that and joined every busy row first.
    WHERE EXISTS (SELECT FROM svc WHERE capacity > 1)
)
SELECT
    (SELECT coalesce(json_agg(row_to_json(svc)), '[]') FROM svc),
    (SELECT coalesce(json_agg(json_build_array(id, kind, offers) ORDER BY id), '[]') FROM res),
    (SELECT coalesce(json_agg(json_build_array(
            h.resource_id, h.weekday, EXTRACT(EPOCH FROM h.start)::int, EXTRACT(EPOCH FROM h."end")::int)
        ORDER BY h.resource_id, h.weekday, h.start), '[]')
     FROM {_table(WeeklyHours)} h
     WHERE h.resource_id IS NULL OR h.resource_id IN (SELECT id FROM res)),
    (SELECT coalesce(json_agg(json_build_array(
            c.resource_id, EXTRACT(EPOCH FROM c.start)::float8, EXTRACT(EPOCH FROM c."end")::float8)
        ORDER BY c.start, c.id), '[]')
     FROM {_table(Closure)} c
     WHERE (c.resource_id IS NULL OR c.resource_id IN (SELECT id FROM res))
       AND c.start < %(window_end)s AND c."end" > %(window_start)s),
    -- Three arrays of numbers, not one JSON row per allocation: they reach Python in half the time.
    (SELECT ARRAY[coalesce(array_agg(resource_id), '{{}}'),
                  coalesce(array_agg(start_us), '{{}}'), coalesce(array_agg(end_us), '{{}}')]
     FROM busy WHERE appointment_id NOT IN (SELECT appointment_id FROM sessions)),
    (SELECT coalesce(json_agg(json_build_array(resource_id, lo, hi, service_id, begins, participants)), '[]')
     FROM (
        SELECT resource_id, start_us AS lo, end_us AS hi, service_id,
               (EXTRACT(EPOCH FROM start) * 1000000)::bigint AS begins, COUNT(*) AS participants
        FROM sessions GROUP BY resource_id, lo, hi, service_id, begins, session
     ) grouped)
"""

# One service, if active / bookable online as asked.
_INPUTS_SQL = prepared.compact(f"""
WITH svc AS (
    SELECT {", ".join(f.column for f in _RULE_FIELDS)} FROM {_table(Service)}
    WHERE id = %(service)s AND (active OR NOT %(active)s) AND (bookable_online OR NOT %(online)s)
), {_LOADED_SQL}""")

# A visit's services (all of them active), with the resources offering any of them.
_VISIT_INPUTS_SQL = prepared.compact(f"""
WITH svc AS (
    SELECT {", ".join(f.column for f in _RULE_FIELDS)} FROM {_table(Service)}
    WHERE id = ANY(%(services)s) AND active AND (bookable_online OR NOT %(online)s)
), {_LOADED_SQL}""")


# --- Catalogue (backoffice settings) ---------------------------------------------------------------------


def service_list() -> QuerySet[Service]:
    """All services, active first, with their resources and how many appointments each has."""
    return (
        Service.objects.annotate(appointment_count=Count("appointments", distinct=True))
        .prefetch_related(Prefetch("resources", queryset=Resource.objects.order_by("kind", "name", "pk")))
        .order_by("-active", "name", "pk")
    )


def service_appointment_count(*, service: Service) -> int:
    return Appointment.objects.filter(service=service).count()


def resource_list() -> QuerySet[Resource]:
    """Staff members and rooms, active first, with their services, login and whether they have own hours."""
    return (
        Resource.objects.select_related("user")
        .annotate(hours_count=Count("hours", distinct=True))
        .prefetch_related(Prefetch("services", queryset=Service.objects.order_by("name", "pk")))
        .order_by("kind", "-active", "name", "pk")
    )


def weekly_hours(*, resource: Resource | None) -> list[list[tuple[time, time]]]:
    """Intervals per weekday (index 0 = Monday) of a resource, or of the business when None."""
    days: list[list[tuple[time, time]]] = [[] for _ in range(7)]
    for weekday, opens, closes in (
        WeeklyHours.objects.filter(resource=resource)
        .order_by("weekday", "start")
        .values_list("weekday", "start", "end")
    ):
        days[weekday].append((opens, closes))
    return days


def bookable_hours(*, resource: Resource) -> list[list[tuple[time, time]]]:
    """Per weekday, the local times when `resource` can be booked as far as weekly hours go.

    Computed by the engine itself so this page can never tell another story than the slots: own hours
    (the opening hours when it has none) within the opening hours, touching intervals merged; an end of
    24:00 comes back as 00:00 (availability.END_OF_DAY).
    """
    business = _as_intervals(weekly_hours(resource=None))
    return availability.weekly_open(_as_intervals(weekly_hours(resource=resource)), business)


def _as_intervals(days: list[list[tuple[time, time]]]) -> list[availability.WeeklyInterval]:
    return [
        availability.WeeklyInterval(weekday=day, start=opens, end=closes)
        for day, intervals in enumerate(days)
        for opens, closes in intervals
    ]


def closure_lists(*, now: datetime | None = None, past_limit: int | None = 25) -> tuple[list, list, int]:
    """(closures not over yet, soonest first; past ones, latest first, at most `past_limit`; past total)."""
    now = now or timezone.now()
    closures = Closure.objects.select_related("resource")
    upcoming = list(closures.filter(end__gt=now).order_by("start", "pk"))
    past = closures.filter(end__lte=now).order_by("-start", "-pk")
    total = past.count()
    return upcoming, list(past[:past_limit] if past_limit is not None else past), total
