"""Reads of the scheduling core: loading what the availability engine needs, in a handful of queries."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Count, DateTimeField, FloatField, Func, Prefetch, Q, QuerySet
from django.utils import timezone

from termino.shared import timeutils

from . import availability
from .models import Allocation, Appointment, Closure, Resource, ResourceKind, Service, WeeklyHours


class _Lower(Func):
    function = "LOWER"
    output_field = DateTimeField()


class _Upper(Func):
    function = "UPPER"
    output_field = DateTimeField()


class _Epoch(Func):
    template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
    output_field = FloatField()


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


def availability_inputs(
    *,
    service: Service,
    start_date: date,
    end_date: date,
    time_zone: str,
    resource_id: int | None = None,
    now: datetime | None = None,
) -> dict:
    """Everything the availability engine needs, loaded in four queries."""
    zone = ZoneInfo(time_zone)
    # A day of margin either side: buffers and the engine's conversions may reach past the local days.
    window_start, window_end = timeutils.local_day_bounds(
        start_date - timedelta(days=1), end_date + timedelta(days=1), zone
    )
    window = DateTimeTZRange(window_start, window_end)

    kinds = [ResourceKind.STAFF] + ([ResourceKind.ROOM] if service.requires_room else [])
    resources = list(service.resources.filter(active=True, kind__in=kinds).order_by("pk"))
    ids = [r.pk for r in resources]

    hours: dict[int | None, list[availability.WeeklyInterval]] = defaultdict(list)
    for owner, weekday, opens, closes in WeeklyHours.objects.filter(
        Q(resource__isnull=True) | Q(resource_id__in=ids)
    ).values_list("resource_id", "weekday", "start", "end"):
        hours[owner].append(availability.WeeklyInterval(weekday=weekday, start=opens, end=closes))
    closures: dict[int | None, list[availability.Interval]] = defaultdict(list)
    for row in Closure.objects.filter(Q(resource__isnull=True) | Q(resource_id__in=ids)).filter(
        start__lt=window_end, end__gt=window_start
    ):
        closures[row.resource_id].append(availability.Interval(row.start, row.end))
    busy: dict[int, list[availability.Busy]] = defaultdict(list)
    for owner, lo, hi, service_id, begins, participants in _busy_rows(ids, window):
        busy[owner].append(
            availability.Busy(
                start=_utc(lo), end=_utc(hi), service_id=service_id, session_start=_utc(begins),
                participants=participants,
            )
        )  # fmt: skip

    calendars = [
        availability.ResourceCalendar(
            resource_id=r.pk,
            kind=r.kind,
            hours=tuple(hours.get(r.pk, ())),
            closures=tuple(closures.get(r.pk, [])),
            busy=tuple(busy.get(r.pk, [])),
        )
        for r in resources
    ]
    return {
        "rules": service_rules(service),
        "resources": calendars,
        "business_hours": tuple(hours.get(None, ())),
        "closures": tuple(closures.get(None, [])),
        "now": now or timezone.now(),
        "tz": zone,
        "start_date": start_date,
        "end_date": end_date,
        "resource_id": resource_id,
    }


def _busy_rows(resource_ids: list[int], window: DateTimeTZRange):
    """(resource, start, end, service, appointment start, participants) of active allocations, per session.

    Hot path of every availability query: bounds come back as epoch seconds and the rows skip the ORM's
    per-value converters; parsing a thousand range and timestamp texts in Python costs more than the query.
    """
    queryset = (
        Allocation.objects.filter(resource_id__in=resource_ids, active=True, period__overlap=window)
        # A lapsed hold no longer blocks, even before the next booking deletes it.
        .exclude(appointment__status="held", appointment__hold_expires_at__lte=timezone.now())
        .annotate(
            lo=_Epoch(_Lower("period")), hi=_Epoch(_Upper("period")), begins=_Epoch("appointment__start")
        )
        .values_list("resource_id", "lo", "hi", "appointment__service_id", "begins", "session")
        .annotate(participants=Count("id"))
        .order_by()
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], row[1], row[2], row[3], row[4], row[6]) for row in cursor.fetchall()]


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
