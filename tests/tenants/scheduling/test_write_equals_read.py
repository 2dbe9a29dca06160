"""What the availability API offers, the write path stores exactly — a property test on the real database.

For random services (duration, buffers, step, capacity, a room or not), random opening hours and existing
bookings, on random days including both daylight-saving change days of 2027 (Europe/Berlin):
- every offered slot that is booked (through the staff API and the public API, alternately) is accepted;
- the stored allocation lasts exactly the service's absolute length plus its buffers (a staff member's two
  pieces around the processing time, when the service has one);
- after each booking no offered slot still lists a booked resource at a time overlapping it;
- no two active allocations of one resource overlap in absolute time (checked in SQL).
"""

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection, transaction
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from termino.tenants.scheduling.models import Allocation, Appointment, Resource, Service, WeeklyHours
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.booking.public_helpers import booking_body

pytestmark = pytest.mark.django_db

CHANGE_DAYS = [date(2027, 3, 28), date(2027, 10, 31)]
_serial = itertools.count()


class _Rollback(Exception):
    pass


def _wall(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@st.composite
def scenarios(draw):
    day = draw(
        st.sampled_from(CHANGE_DAYS) | st.dates(min_value=date(2027, 2, 1), max_value=date(2027, 12, 20))
    )
    # One or two opening intervals on that weekday, on a 15-minute grid, often around the change hour.
    starts = draw(st.lists(st.integers(0, 22 * 4), min_size=1, max_size=2, unique=True))
    intervals = []
    for start in sorted(starts):
        length = draw(st.integers(4, 12 * 4))
        end = min(start + length, 24 * 4 - 1)
        if end > start and all(end <= s or start >= e for s, e in intervals):
            intervals.append((start * 15, end * 15))
    if not intervals:
        intervals = [(60, 6 * 60)]
    return {
        "day": day,
        "hours": intervals,
        "duration": draw(st.sampled_from([15, 30, 45, 60, 90, 120, 150])),
        "before": draw(st.sampled_from([0, 0, 5, 15])),
        "after": draw(st.sampled_from([0, 0, 10, 30])),
        "step": draw(st.sampled_from([5, 15, 20, 30, 60])),
        "capacity": draw(st.sampled_from([1, 1, 1, 2])),
        "room": draw(st.booleans()),
        "staff": draw(st.integers(1, 2)),
        "existing": draw(st.lists(st.integers(0, 24 * 4 - 1), max_size=3)),
        "bookings": draw(st.integers(1, 4)),
        "processing": draw(st.sampled_from([(0, 0), (0, 0), (5, 5), (15, 10), (10, 30)])),
    }


def _processing(scenario) -> dict:
    """The drawn processing time, where the service can have it (single, longer than both)."""
    after, gap = scenario["processing"]
    if scenario["capacity"] > 1 or after + gap >= scenario["duration"]:
        return {}
    return {"processing_after_minutes": after, "processing_minutes": gap}


def _pieces(service: Service, start: datetime, kind: str) -> list[tuple[datetime, datetime]]:
    """What a resource of `kind` holds of an appointment starting at `start`, in absolute time."""
    since = start - timedelta(minutes=service.buffer_before_minutes)
    end = start + timedelta(minutes=service.duration_minutes)
    until = end + timedelta(minutes=service.buffer_after_minutes)
    if kind == "staff" and service.processing_minutes:
        pause = start + timedelta(minutes=service.processing_after_minutes)
        return [(since, pause), (pause + timedelta(minutes=service.processing_minutes), until)]
    return [(since, until)]


def _overlapping_allocations() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {Allocation._meta.db_table} a JOIN {Allocation._meta.db_table} b"
            " ON a.resource_id = b.resource_id AND a.id < b.id AND a.session <> b.session"
            " WHERE a.active AND b.active AND a.period && b.period"
        )
        return cursor.fetchone()[0]


def _slots(host: str, service: Service, day: date) -> list[dict]:
    response = client_for(host, "en").get(
        f"/api/public/v1/availability/?service={service.pk}&start={day}&end={day}",
        REMOTE_ADDR=f"10.9.{next(_serial) % 250}.{next(_serial) % 250}",
    )
    assert response.status_code == 200, response.content
    return response.json()["slots"]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scenario=scenarios())
def test_every_offered_slot_books_and_stores_exactly_what_was_offered(business_a, scenario):
    day = scenario["day"]
    for alias in caches:  # rate limits and caches from the previous example
        caches[alias].clear()
    with time_machine.travel(datetime.combine(day - timedelta(days=2), time(12), UTC), tick=True):
        try:
            with transaction.atomic():
                _run(business_a, scenario)
                raise _Rollback
        except _Rollback:
            pass
    connection.set_schema_to_public()


def _run(business, scenario) -> None:
    day = scenario["day"]
    with schema_context(business.schema):
        service = Service.objects.create(
            name="Probe",
            duration_minutes=scenario["duration"],
            buffer_before_minutes=scenario["before"],
            buffer_after_minutes=scenario["after"],
            slot_step_minutes=scenario["step"],
            capacity=scenario["capacity"],
            requires_room=scenario["room"],
            min_notice_minutes=0,
            horizon_days=30,
            **_processing(scenario),
        )
        staff = [Resource.objects.create(kind="staff", name=f"S{n}") for n in range(scenario["staff"])]
        resources = [*staff]
        if scenario["room"]:
            resources.append(Resource.objects.create(kind="room", name="R"))
        service.resources.set(resources)
        for start, end in scenario["hours"]:
            WeeklyHours.objects.create(weekday=day.weekday(), start=_wall(start), end=_wall(end))
    staff_ids = {r.pk for r in staff}
    owner = log_in_as(business, "owner")
    # Existing bookings: whatever the engine offers near the drawn quarter-hours, booked first.
    for quarter in scenario["existing"]:
        slots = _slots(business.host, service, day)
        if not slots:
            break
        slot = slots[quarter % len(slots)]
        assert _book_staff(owner, service, slot, staff_ids).status_code == 201
    for n in range(scenario["bookings"]):
        slots = _slots(business.host, service, day)
        if not slots:
            break
        slot = slots[(n * 7919) % len(slots)]
        if n % 2 == 0:
            response = _book_staff(owner, service, slot, staff_ids)
        else:
            response = _book_public(business, service, slot, n)
        assert response.status_code == 201, (slot, response.content)
        booked = response.json()
        assert booked["start"] == slot["start"] and booked["end"] == slot["end"]
        _check_stored(business, service, booked["id"], slot)
        _check_no_offer_overlaps(business, service, day, booked["id"])
    with schema_context(business.schema):
        assert _overlapping_allocations() == 0


def _book_staff(client, service, slot, staff_ids: set[int]):
    staff = next(pk for pk in slot["resources"] if pk in staff_ids)
    return client.post(
        "/api/v1/appointments/",
        {"service": service.pk, "start": slot["start"], "staff": staff},
        content_type="application/json",
    )


def _book_public(business, service, slot, n: int):
    return client_for(business.host, "en").post(
        "/api/public/v1/bookings/",
        booking_body(
            service,
            datetime.fromisoformat(slot["start"]),
            email=f"probe-{next(_serial)}@example.com",
            phone="",
            sms_consent=False,
        ),
        content_type="application/json",
        REMOTE_ADDR=f"10.8.{n}.{next(_serial) % 250}",
    )


def _check_stored(business, service, pk: int, slot: dict) -> None:
    start = datetime.fromisoformat(slot["start"])
    with schema_context(business.schema):
        appointment = Appointment.objects.get(pk=pk)
        assert appointment.start == start
        assert appointment.end - appointment.start == timedelta(minutes=service.duration_minutes)
        held: dict[int, list] = {}
        kinds = {}
        for allocation in appointment.allocations.select_related("resource").order_by("period"):
            held.setdefault(allocation.resource_id, []).append(
                (allocation.period.lower, allocation.period.upper)
            )
            kinds[allocation.resource_id] = allocation.resource.kind
        for resource, pieces in held.items():
            assert pieces == _pieces(service, start, kinds[resource])


def _check_no_offer_overlaps(business, service, day: date, pk: int) -> None:
    with schema_context(business.schema):
        held: dict[int, list] = {}
        kinds = {}
        for a in Allocation.objects.filter(appointment=pk).select_related("resource"):
            held.setdefault(a.resource_id, []).append((a.period.lower, a.period.upper))
            kinds[a.resource_id] = a.resource.kind
        booked_start = Appointment.objects.get(pk=pk).start
    for slot in _slots(business.host, service, day):
        start = datetime.fromisoformat(slot["start"])
        if service.capacity > 1 and start == booked_start:
            continue  # the same group session, joinable while seats are left
        for resource in slot["resources"]:
            for since, until in _pieces(service, start, kinds.get(resource, "staff")):
                for lower, upper in held.get(resource, []):
                    assert not (since < upper and lower < until), (slot, held[resource])


# --- Visits: two services back to back, the second with processing time -----------------------------------


@st.composite
def visit_scenarios(draw):
    scenario = draw(scenarios())
    scenario["first"] = draw(st.sampled_from([15, 30, 45]))
    scenario["processing"] = draw(st.sampled_from([(10, 20), (15, 30), (5, 5)]))
    scenario["duration"] = draw(st.sampled_from([45, 60, 90]))
    scenario["capacity"] = 1
    scenario["singles"] = draw(st.lists(st.integers(0, 200), max_size=2))
    return scenario


def _visit_slots(host: str, services: list[Service], day: date) -> list[dict]:
    response = client_for(host, "en").get(
        f"/api/public/v1/visits/availability/?services={services[0].pk},{services[1].pk}&start={day}&end={day}",
        REMOTE_ADDR=f"10.7.{next(_serial) % 250}.{next(_serial) % 250}",
    )
    assert response.status_code == 200, response.content
    return response.json()["slots"]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scenario=visit_scenarios())
def test_every_offered_visit_books_and_stores_exactly_what_was_offered(business_a, scenario):
    day = scenario["day"]
    for alias in caches:
        caches[alias].clear()
    with time_machine.travel(datetime.combine(day - timedelta(days=2), time(12), UTC), tick=True):
        try:
            with transaction.atomic():
                _run_visits(business_a, scenario)
                raise _Rollback
        except _Rollback:
            pass
    connection.set_schema_to_public()


def _run_visits(business, scenario) -> None:
    day = scenario["day"]
    with schema_context(business.schema):
        common = {"min_notice_minutes": 0, "horizon_days": 30, "slot_step_minutes": scenario["step"]}
        first = Service.objects.create(
            name="Cut",
            duration_minutes=scenario["first"],
            buffer_after_minutes=scenario["after"],
            **common,
        )
        second = Service.objects.create(
            name="Colour",
            duration_minutes=scenario["duration"],
            buffer_before_minutes=scenario["before"],
            requires_room=scenario["room"],
            **common,
            **_processing(scenario),
        )
        staff = [Resource.objects.create(kind="staff", name=f"S{n}") for n in range(scenario["staff"])]
        first.resources.set(staff)
        second.resources.set(
            [*staff, *([Resource.objects.create(kind="room", name="R")] if scenario["room"] else [])]
        )
        for start, end in scenario["hours"]:
            WeeklyHours.objects.create(weekday=day.weekday(), start=_wall(start), end=_wall(end))
    services = [first, second]
    staff_ids = {r.pk for r in staff}
    owner = log_in_as(business, "owner")
    for n in range(scenario["bookings"]):
        # Single cuts first, often into a colour's processing gap: the engine offers them, they must fit.
        for pick in scenario["singles"] if n else ():
            slots = _slots(business.host, first, day)
            if slots:
                slot = slots[pick % len(slots)]
                assert _book_staff(owner, first, slot, staff_ids).status_code == 201
        slots = _visit_slots(business.host, services, day)
        if not slots:
            break
        slot = slots[(n * 7919) % len(slots)]
        parts = [
            {"service": s.pk, "staff": next(pk for pk in part["resources"] if pk in staff_ids)}
            for s, part in zip(services, slot["parts"], strict=True)
        ]
        if n % 2 == 0:
            response = owner.post(
                "/api/v1/visits/",
                {"services": parts, "start": slot["start"]},
                content_type="application/json",
            )
            assert response.status_code == 201, (slot, response.content)
            ids = [a["id"] for a in response.json()["appointments"]]
        else:
            body = booking_body(
                first,
                datetime.fromisoformat(slot["start"]),
                email=f"visit-{next(_serial)}@example.com",
                phone="",
                sms_consent=False,
            )
            body.pop("service")
            body["services"] = [{"service": p["service"], "resource": p["staff"]} for p in parts]
            response = client_for(business.host, "en").post(
                "/api/public/v1/visits/", body, content_type="application/json", REMOTE_ADDR=f"10.6.{n}.1"
            )
            assert response.status_code == 201, (slot, response.content)
            with schema_context(business.schema):
                lead = Appointment.objects.get(manage_token=response.json()["manage_token"])
                ids = list(
                    Appointment.objects.filter(visit=lead.visit)
                    .order_by("start")
                    .values_list("pk", flat=True)
                )
        for service, part, pk in zip(services, slot["parts"], ids, strict=True):
            _check_stored(business, service, pk, part)
        _check_no_visit_overlaps(business, services, day, ids)
    with schema_context(business.schema):
        assert _overlapping_allocations() == 0


def _check_no_visit_overlaps(business, services, day: date, ids: list[int]) -> None:
    with schema_context(business.schema):
        held: dict[int, list] = {}
        for a in Allocation.objects.filter(appointment__in=ids):
            held.setdefault(a.resource_id, []).append((a.period.lower, a.period.upper))
        kinds = dict(Resource.objects.values_list("pk", "kind"))
    for slot in _visit_slots(business.host, services, day):
        for service, part in zip(services, slot["parts"], strict=True):
            start = datetime.fromisoformat(part["start"])
            for resource in part["resources"]:
                for since, until in _pieces(service, start, kinds[resource]):
                    for lower, upper in held.get(resource, []):
                        assert not (since < upper and lower < until), (slot, held[resource])
