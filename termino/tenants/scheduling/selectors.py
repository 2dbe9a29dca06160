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
    params = {
        "services": [service_id],
        "active": active,
        "online": online,
        "resource": resource_id,
        "window_start": window_start,
        "window_end": window_end,
        "now": now,
    }
    service_rows, resource_rows, *rows = prepared.fetchone(_INPUTS_SQL, params)
    if not service_rows:
        return None
    if service is None:
        service = Service(**{field.attname: service_rows[0][field.column] for field in _RULE_FIELDS})
    resource_rows = _offering(service_rows, resource_rows)
    calendars, business_hours, business_closures = _calendars(service_rows, params, resource_rows, *rows)
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


def _calendars(service_rows, params, resource_rows, hour_rows, closure_rows, span_columns):
    """(calendars of the resources, business hours, business closures) from the rows of the statement (the
    resources as _offering() keeps them), and of the sessions' statement when a group service is asked."""
    groups = [row["id"] for row in service_rows if row["capacity"] > 1]
    session_rows = prepared.fetchone(_SESSIONS_SQL, {**params, "groups": groups})[0] if groups else []
    # A session's participants share its resource and period, which no other allocation of that resource
    # overlaps (the exclusion constraint): they are the busy rows with its bounds, counted in the session.
    in_sessions = {(owner, lo, hi) for owner, lo, hi, *_rest in session_rows}
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
        if not in_sessions or (owner, lo, hi) not in in_sessions:
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


def _offering(service_rows, resource_rows) -> list:
    """The resources that do the services: staff for each service they offer, rooms only for those that
    need one (a room offering a service that needs none is not asked for)."""
    needs_room = {row["id"] for row in service_rows if row["requires_room"]}
    kept = []
    for resource_id, kind, offers in resource_rows:
        offers = [service for service in offers if kind == "staff" or service in needs_room]
        if offers:
            kept.append((resource_id, kind, offers))
    return kept


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
    params = {
        "services": sorted(set(service_ids)),
        "active": True,
        "online": online,
        "resource": None,
        "window_start": window_start,
        "window_end": window_end,
        "now": now,
    }
    service_rows, resource_rows, *rows = prepared.fetchone(_INPUTS_SQL, params)
    rules_by_id = {
        row["id"]: service_rules(Service(**{f.attname: row[f.column] for f in _RULE_FIELDS}))
        for row in service_rows
    }
    if any(pk not in rules_by_id or rules_by_id[pk].capacity != 1 for pk in service_ids):
        return None
    resource_rows = _offering(service_rows, resource_rows)
    calendars, business_hours, business_closures = _calendars(service_rows, params, resource_rows, *rows)
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

# The resources offering any of the services asked for (the engine keeps those that do them).
_OFFERING = (
    f"(SELECT rs.resource_id FROM {_table(Resource.services.through)} rs"
    " WHERE rs.service_id = ANY(%(services)s))"
)
# Asked for one staff member (or room): that one, and the resources of the other kind, since the engine
# considers only the asked one of its kind. A day of one person loads one person's week.
_ASKED = (
    "(%(resource)s::bigint IS NULL OR {column} = %(resource)s OR {column} IN ("
    f"SELECT o.id FROM {_table(Resource)} o"
    f" WHERE o.kind <> (SELECT k.kind FROM {_table(Resource)} k WHERE k.id = %(resource)s)))"
)
_WINDOW = "a.period && tstzrange(%(window_start)s, %(window_end)s)"
# An allocation of a hold that has lapsed no longer blocks, even before the next booking deletes it. Left out
# by an anti-join on the few lapsed holds: a join to every allocation's appointment cost more than the rest
# of the statement together.
_LAPSED = f"SELECT id FROM {_table(Appointment)} WHERE status = 'held' AND hold_expires_at <= %(now)s"

# Everything the engine needs for active services (bookable online, if asked), in one statement: the
# services, the active resources offering them with the services each offers, their weekly hours and
# closures and the business's, and the busy time of those resources in the window. Times come back as epoch
# seconds, busy time as three arrays of epoch microseconds (the engine's unit, stored beside each period):
# parsing a thousand range and timestamp texts in Python costs more than the query, and arrays of numbers
# reach Python in half the time of a row per allocation.
#
# Scalar subqueries, each on one or two tables, and no common table expressions: PostgreSQL plans this
# statement again for every rarely served business (prepared.py), and planning it took 0.47-0.69 ms where
# the same reads as four CTEs took 0.75-0.87; a business's own plan, kept for as long as the connection
# lives, takes 0.20 MB of the database server's memory instead of 0.31 (docs/scaling.md).
_INPUTS_SQL = prepared.compact(f"""
SELECT
    (SELECT coalesce(json_agg(row_to_json(s)), '[]') FROM (
        SELECT {", ".join(f.column for f in _RULE_FIELDS)} FROM {_table(Service)}
        WHERE id = ANY(%(services)s) AND (active OR NOT %(active)s) AND (bookable_online OR NOT %(online)s)
     ) s),
    (SELECT coalesce(json_agg(json_build_array(r.id, r.kind, (
            SELECT array_agg(rs.service_id ORDER BY rs.service_id) FROM {_table(Resource.services.through)} rs
            WHERE rs.resource_id = r.id AND rs.service_id = ANY(%(services)s))) ORDER BY r.id), '[]')
     FROM {_table(Resource)} r
     WHERE r.active AND r.id IN {_OFFERING} AND {_ASKED.format(column="r.id")}),
    (SELECT coalesce(json_agg(json_build_array(
            h.resource_id, h.weekday, EXTRACT(EPOCH FROM h.start)::int, EXTRACT(EPOCH FROM h."end")::int)
        ORDER BY h.resource_id, h.weekday, h.start), '[]')
     FROM {_table(WeeklyHours)} h
     WHERE h.resource_id IS NULL OR h.resource_id IN {_OFFERING}),
    (SELECT coalesce(json_agg(json_build_array(
            c.resource_id, EXTRACT(EPOCH FROM c.start)::float8, EXTRACT(EPOCH FROM c."end")::float8)
        ORDER BY c.start, c.id), '[]')
     FROM {_table(Closure)} c
     WHERE (c.resource_id IS NULL OR c.resource_id IN {_OFFERING})
       AND c.start < %(window_end)s AND c."end" > %(window_start)s),
    (SELECT ARRAY[coalesce(array_agg(a.resource_id), '{{}}'),
                  coalesce(array_agg(a.start_us), '{{}}'), coalesce(array_agg(a.end_us), '{{}}')]
     FROM {_table(Allocation)} a
     WHERE a.active AND a.resource_id IN {_OFFERING} AND {_ASKED.format(column="a.resource_id")}
       AND {_WINDOW} AND a.appointment_id NOT IN ({_LAPSED}))
""")

# The sessions of the group services asked for (`groups`) in the window, one row per session with its
# participants: a statement apart, run only when a group service is asked (few are), so the one above stays
# cheap to plan for everybody.
_SESSIONS_SQL = prepared.compact(f"""
SELECT coalesce(json_agg(json_build_array(resource_id, lo, hi, service_id, begins, participants)), '[]')
FROM (
    SELECT a.resource_id, a.start_us AS lo, a.end_us AS hi, ap.service_id,
           (EXTRACT(EPOCH FROM ap.start) * 1000000)::bigint AS begins, COUNT(*) AS participants
    FROM {_table(Allocation)} a
    JOIN {_table(Appointment)} ap ON ap.id = a.appointment_id
    WHERE ap.service_id = ANY(%(groups)s) AND a.active
      AND a.resource_id IN {_OFFERING} AND {_ASKED.format(column="a.resource_id")}
      AND {_WINDOW} AND a.appointment_id NOT IN ({_LAPSED})
    GROUP BY a.resource_id, lo, hi, ap.service_id, begins, a.session
) grouped
""")


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
