"""Busy time handed to the engine as datetimes (`busy`) or as epoch microseconds (`busy_spans`, `busy_rows`,
the selectors' form) means the same; visits with rooms and closures against a brute-force answer.

Pure functions over dataclasses; no database is touched.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from termino.tenants.scheduling.availability import (
    Busy,
    Interval,
    ResourceCalendar,
    ServiceRules,
    VisitPart,
    WeeklyInterval,
    free_slots,
    free_visit_slots,
    visit_offsets,
)

TZ = ZoneInfo("Europe/Berlin")
MONDAY = date(2027, 3, 29)  # the day after the clocks went forward
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
M = timedelta(minutes=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OPEN = tuple(WeeklyInterval(d, time(9), time(18)) for d in range(7))


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(MONDAY, time(hour, minute), TZ).astimezone(UTC)


def us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


periods = st.lists(
    st.tuples(
        st.integers(8, 18), st.sampled_from([0, 5, 10, 15, 30, 45]), st.sampled_from([5, 10, 15, 30, 60])
    ),
    max_size=5,
).map(lambda drawn: [(at(h, m), at(h, m) + length * M) for h, m, length in drawn])


@st.composite
def services(draw, pk: int, rooms: bool = True):
    return ServiceRules(
        service_id=pk,
        duration=draw(st.sampled_from([30, 45, 60])) * M,
        buffer_before=draw(st.sampled_from([0, 5])) * M,
        buffer_after=draw(st.sampled_from([0, 10])) * M,
        processing_after=draw(st.sampled_from([0, 15])) * M,
        processing=draw(st.sampled_from([0, 15, 20])) * M,
        step=draw(st.sampled_from([15, 30])) * M,
        horizon=timedelta(days=800),
        requires_room=rooms and draw(st.booleans()),
    )


@st.composite
def calendars(draw):
    """Two staff members and two rooms, each with busy time given half as datetimes, half as microseconds,
    and maybe a closure; the same calendars with everything as datetimes; and the business's closures."""
    mixed, plain = [], []
    for pk, kind in ((1, "staff"), (2, "staff"), (51, "room"), (52, "room")):
        busy = draw(periods)
        split = draw(st.integers(0, len(busy)))
        closures = tuple(Interval(s, e) for s, e in draw(periods)[:1])
        mixed.append(
            ResourceCalendar(
                pk, kind, (), closures=closures,
                busy=tuple(Busy(s, e) for s, e in busy[:split]),
                busy_spans=tuple((us(s), us(e)) for s, e in busy[split:]),
            )
        )  # fmt: skip
        plain.append(
            ResourceCalendar(pk, kind, (), closures=closures, busy=tuple(Busy(s, e) for s, e in busy))
        )
    business_closures = tuple(Interval(s, e) for s, e in draw(periods)[: draw(st.integers(0, 1))])
    return mixed, plain, business_closures


def _slots(rules, resources, closures):
    return free_slots(
        rules=rules, resources=resources, business_hours=OPEN, closures=closures, now=LONG_AGO, tz=TZ,
        start_date=MONDAY, end_date=MONDAY,
    )  # fmt: skip


def _visit(parts, closures):
    return free_visit_slots(
        parts=parts, business_hours=OPEN, closures=closures, now=LONG_AGO, tz=TZ, start_date=MONDAY,
        end_date=MONDAY,
    )  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), services(1))
def test_busy_time_as_microseconds_gives_the_same_slots(drawn, rules):
    mixed, plain, closures = drawn
    expected = _slots(rules, plain, closures)
    assert _slots(rules, mixed, closures) == expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 3), st.integers(1, 3), st.booleans())
def test_group_sessions_as_rows_give_the_same_seats(participants, others, shifted):
    """An open session handed over as a row with its service and start counts its seats as a `Busy` does;
    a session of another service, or of another shape, blocks."""
    yoga = ServiceRules(service_id=7, duration=60 * M, capacity=4, horizon=timedelta(days=800))
    start = at(10)
    end = start + 60 * M + (15 * M if shifted else timedelta(0))
    as_busy = [Busy(start, end, service_id=7, session_start=start, participants=participants)] * bool(
        participants
    )
    as_busy.append(Busy(at(14), at(15), service_id=8, session_start=at(14), participants=others))
    as_rows = tuple(
        (us(b.start), us(b.end), b.service_id, us(b.session_start), b.participants) for b in as_busy
    )
    expected = _slots(yoga, [ResourceCalendar(1, "staff", (), busy=tuple(as_busy))], ())
    got = _slots(yoga, [ResourceCalendar(1, "staff", (), busy_rows=as_rows)], ())
    assert got == expected
    assert {s.start for s in got if s.start == at(10)} == (
        {at(10)} if not shifted or not participants else set()
    )
    assert all(not (at(13, 1) <= s.start < at(15)) for s in got)


def _held(rules: ServiceRules, start: datetime, kind: str) -> list[tuple[datetime, datetime]]:
    if kind == "staff":
        return [(start + x, start + y) for x, y in rules.staff_pieces()]
    return [(start - rules.buffer_before, start + rules.duration + rules.buffer_after)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), services(1), services(2), st.sampled_from([(1,), (2,), (1, 2)]))
def test_every_offered_visit_with_rooms_and_closures_is_free_and_every_free_one_is_offered(
    drawn, first, second, first_staff
):
    mixed, plain, closures = drawn
    by_pk = {c.resource_id: c for c in plain}
    parts = [
        VisitPart(first, [c for c in mixed if c.resource_id in first_staff or c.kind == "room"]),
        VisitPart(second, mixed),
    ]
    offered = {s.start: s for s in _visit(parts, closures)}
    offsets = visit_offsets([first, second])
    opens, closes = at(9), at(18)

    def free(rules: ServiceRules, start: datetime, pk: int) -> bool:
        calendar = by_pk[pk]
        taken = [(b.start, b.end) for b in calendar.busy] + [(c.start, c.end) for c in calendar.closures]
        return all(not (s < e2 and s2 < e) for s, e in _held(rules, start, calendar.kind) for s2, e2 in taken)

    def resources(rules: ServiceRules, start: datetime, staff: tuple[int, ...]) -> tuple[int, ...]:
        whole = (start - rules.buffer_before, start + rules.duration + rules.buffer_after)
        if start < opens or start + rules.duration > closes:
            return ()
        if any(c.start < whole[1] and whole[0] < c.end for c in closures):
            return ()
        people = [pk for pk in staff if free(rules, start, pk)]
        rooms = [pk for pk in (51, 52) if free(rules, start, pk)] if rules.requires_room else []
        if not people or (rules.requires_room and not rooms):
            return ()
        return tuple(sorted(people + rooms))

    t = opens
    while t < closes:
        expected = [
            resources(first, t + offsets[0], first_staff),
            resources(second, t + offsets[1], (1, 2)),
        ]
        if all(expected):
            assert t in offered, t
            assert [p.resources for p in offered[t].parts] == expected
            assert [p.start for p in offered[t].parts] == [t + offsets[0], t + offsets[1]]
        else:
            assert t not in offered, t
        t += first.step
    assert all((start - opens) % first.step == timedelta(0) for start in offered)
