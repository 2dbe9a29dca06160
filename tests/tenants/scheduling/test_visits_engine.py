"""The availability engine for processing time and visits: worked examples and a brute-force property test.

Pure functions over dataclasses; no database is touched.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from termino.tenants.scheduling.availability import (
    Busy,
    ResourceCalendar,
    ServiceRules,
    VisitPart,
    WeeklyInterval,
    free_slots,
    free_visit_slots,
    visit_offsets,
)

TZ = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 6, 15)  # +02:00
SPRING = date(2027, 3, 28)  # Sunday, 02:00 CET -> 03:00 CEST
AUTUMN = date(2027, 10, 31)  # Sunday, 03:00 CEST -> 02:00 CET
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
M = timedelta(minutes=1)

CUT = ServiceRules(service_id=1, duration=30 * M, horizon=timedelta(days=800))
# Colour: 15 min apply, 30 min processing, 15 min rinse.
COLOUR = ServiceRules(
    service_id=2, duration=60 * M, horizon=timedelta(days=800), processing_after=15 * M, processing=30 * M
)


def at(day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TZ).replace(fold=fold).astimezone(UTC)


def every_day(start: str, end: str) -> tuple[WeeklyInterval, ...]:
    return tuple(WeeklyInterval(d, time.fromisoformat(start), time.fromisoformat(end)) for d in range(7))


OPEN = every_day("09:00", "18:00")


def staff(pk: int, *busy: Busy) -> ResourceCalendar:
    return ResourceCalendar(pk, "staff", (), busy=tuple(busy))


def room(pk: int, *busy: Busy) -> ResourceCalendar:
    return ResourceCalendar(pk, "room", (), busy=tuple(busy))


def elapsed(slot) -> float:
    """Seconds from start to end in absolute time (aware datetimes of one zone subtract on the wall clock)."""
    return slot.end.timestamp() - slot.start.timestamp()


def starts(slots) -> list[str]:
    return [s.start.astimezone(TZ).strftime("%H:%M") for s in slots]


def single(rules, resources, day=MONDAY, hours=OPEN):
    return free_slots(
        rules=rules, resources=resources, business_hours=hours, closures=(), now=LONG_AGO, tz=TZ,
        start_date=day, end_date=day,
    )  # fmt: skip


def visit(parts, day=MONDAY, hours=OPEN, end_day=None):
    return free_visit_slots(
        parts=parts, business_hours=hours, closures=(), now=LONG_AGO, tz=TZ, start_date=day,
        end_date=end_day or day,
    )  # fmt: skip


def test_a_stylists_processing_gap_is_offered_to_another_booking():
    # Anna's colour at 10:00 holds her 10:00-10:15 and 10:45-11:00; 10:15-10:45 is hers to give away.
    anna = staff(1, Busy(at(MONDAY, 10), at(MONDAY, 10, 15)), Busy(at(MONDAY, 10, 45), at(MONDAY, 11)))
    offered = starts(single(CUT, [anna]))
    assert "10:15" in offered
    assert "10:00" not in offered and "10:30" not in offered and "10:45" not in offered


def test_a_colour_fits_around_a_booking_in_its_own_gap():
    # A cut from 10:15 to 10:45 leaves Anna free for a colour at 10:00 (apply before, rinse after).
    anna = staff(1, Busy(at(MONDAY, 10, 15), at(MONDAY, 10, 45)))
    offered = starts(single(COLOUR, [anna]))
    assert "10:00" in offered
    assert "09:45" not in offered and "10:15" not in offered and "10:30" not in offered


def test_the_room_stays_taken_through_the_processing_time():
    colour = ServiceRules(**{**COLOUR.__dict__, "requires_room": True})
    anna = staff(1)
    # The chair is taken 10:15-10:45 by someone else: Anna's gap alone does not make a colour at 10:00 fit.
    chair = room(50, Busy(at(MONDAY, 10, 15), at(MONDAY, 10, 45)))
    assert "10:00" not in starts(single(colour, [anna, chair]))
    assert "10:45" in starts(single(colour, [anna, chair]))


def test_processing_that_does_not_fit_inside_the_duration_is_no_gap():
    odd = ServiceRules(service_id=3, duration=30 * M, processing_after=15 * M, processing=15 * M)
    assert odd.staff_pieces() == ((timedelta(0), 30 * M),)
    assert COLOUR.staff_pieces() == ((timedelta(0), 15 * M), (45 * M, 60 * M))


def test_a_visit_lays_services_back_to_back_in_held_time():
    a = ServiceRules(service_id=1, duration=30 * M, buffer_after=5 * M)
    b = ServiceRules(service_id=2, duration=60 * M, buffer_before=10 * M)
    assert visit_offsets([a, b]) == [timedelta(0), 45 * M]


def test_cut_and_colour_with_the_same_stylist_and_another_customer_in_the_gap():
    # Someone else's cut at 10:45-11:15 sits in the colour's gap if the visit starts at 10:00
    # (cut 10:00-10:30, colour 10:30-11:30: apply 10:30-10:45, processing 10:45-11:15, rinse 11:15-11:30).
    anna = staff(1, Busy(at(MONDAY, 10, 45), at(MONDAY, 11, 15)))
    slots = visit([VisitPart(CUT, [anna], 1), VisitPart(COLOUR, [anna], 1)])
    offered = starts(slots)
    assert "10:00" in offered
    assert "10:15" not in offered  # the cut would run into the other booking
    ten = next(s for s in slots if starts([s]) == ["10:00"])
    assert [(p.start.astimezone(TZ).strftime("%H:%M"), p.resources) for p in ten.parts] == [
        ("10:00", (1,)),
        ("10:30", (1,)),
    ]
    assert ten.end == at(MONDAY, 11, 30)


def test_any_staff_per_service_lists_who_is_free_for_each():
    anna = staff(1, Busy(at(MONDAY, 10, 30), at(MONDAY, 11)))
    ben = staff(2, Busy(at(MONDAY, 10), at(MONDAY, 10, 30)))
    slots = visit([VisitPart(CUT, [anna, ben]), VisitPart(CUT, [anna, ben])])
    ten = next(s for s in slots if starts([s]) == ["10:00"])
    assert [p.resources for p in ten.parts] == [(1,), (2,)]


def test_a_service_nobody_offers_means_no_visit():
    assert visit([VisitPart(CUT, [staff(1)]), VisitPart(COLOUR, [])]) == []
    assert visit([VisitPart(CUT, [staff(1)], resource_id=9), VisitPart(COLOUR, [staff(1)])]) == []


def test_the_whole_visit_stays_within_opening_hours():
    offered = starts(visit([VisitPart(CUT, [staff(1)]), VisitPart(COLOUR, [staff(1)])]))
    assert offered[0] == "09:00" and offered[-1] == "16:30"  # 16:30 + 30 + 60 = 18:00


def test_a_visit_on_the_spring_night_runs_in_absolute_time():
    # Open all night; the visit starting 01:30 CET runs cut 01:30-02:00 CET, colour 03:00-04:00 CEST.
    slots = visit(
        [VisitPart(CUT, [staff(1)]), VisitPart(COLOUR, [staff(1)])],
        day=SPRING,
        hours=every_day("00:00", "00:00"),
    )
    half_past_one = next(s for s in slots if s.start == at(SPRING, 1, 30))
    assert half_past_one.parts[1].start == at(SPRING, 3)
    assert elapsed(half_past_one) == 90 * 60
    assert all(elapsed(s) == 90 * 60 for s in slots)


def test_a_visit_on_the_autumn_night_offers_both_passes_of_the_repeated_hour():
    slots = visit(
        [VisitPart(CUT, [staff(1)]), VisitPart(COLOUR, [staff(1)])],
        day=AUTUMN,
        hours=every_day("00:00", "00:00"),
    )
    both = [s for s in slots if s.start.astimezone(TZ).strftime("%H:%M") == "02:30"]
    assert [s.start.timestamp() for s in both] == [
        at(AUTUMN, 2, 30).timestamp(),
        at(AUTUMN, 2, 30, fold=1).timestamp(),
    ]
    assert all(elapsed(s) == 90 * 60 for s in slots)


# --- Property: every offered visit really is free, piece by piece; every free grid start is offered -------


def _held(rules, start, kind):
    pieces = (
        rules.staff_pieces()
        if kind == "staff"
        else ((-rules.buffer_before, rules.duration + rules.buffer_after),)
    )
    return [(start + x, start + y) for x, y in pieces]


@st.composite
def scenarios(draw):
    def service(pk):
        duration = draw(st.sampled_from([30, 45, 60, 90]))
        after = draw(st.sampled_from([0, 15, 20]))
        gap = draw(st.sampled_from([0, 15, 30]))
        return ServiceRules(
            service_id=pk, duration=duration * M, buffer_before=draw(st.sampled_from([0, 5])) * M,
            buffer_after=draw(st.sampled_from([0, 10])) * M, processing_after=after * M, processing=gap * M,
            horizon=timedelta(days=800), step=draw(st.sampled_from([15, 30])) * M,
        )  # fmt: skip

    parts = [service(1), service(2)]
    busy = {
        pk: [
            Busy(at(MONDAY, h, m), at(MONDAY, h, m) + length * M)
            for h, m, length in draw(
                st.lists(
                    st.tuples(
                        st.integers(9, 17),
                        st.sampled_from([0, 10, 15, 30, 45]),
                        st.sampled_from([10, 15, 30]),
                    ),
                    max_size=4,
                )
            )
        ]
        for pk in (1, 2)
    }
    offers = [draw(st.sampled_from([(1,), (2,), (1, 2)])) for _ in parts]
    return parts, busy, offers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_offered_visit_is_free_and_every_free_start_is_offered(scenario):
    parts, busy, offers = scenario
    calendars = {pk: staff(pk, *busy[pk]) for pk in (1, 2)}
    slots = visit(
        [
            VisitPart(rules, [calendars[pk] for pk in offer])
            for rules, offer in zip(parts, offers, strict=True)
        ]
    )
    offsets = visit_offsets(parts)
    opens, closes = at(MONDAY, 9), at(MONDAY, 18)

    def free(rules, start, pk):
        if start < opens or start + rules.duration > closes:
            return False
        return all(not (s < b.end and b.start < e) for s, e in _held(rules, start, "staff") for b in busy[pk])

    offered = {s.start: s for s in slots}
    t = opens
    while t < closes:
        expected = [
            tuple(pk for pk in offer if free(rules, t + off, pk))
            for rules, off, offer in zip(parts, offsets, offers, strict=True)
        ]
        if all(expected):
            assert t in offered, t
            assert [p.resources for p in offered[t].parts] == expected
        else:
            assert t not in offered, t
        t += parts[0].step
    assert set(offered) <= {opens + k * parts[0].step for k in range(40)}


def test_a_free_room_without_a_free_stylist_is_no_visit():
    colour = ServiceRules(**{**COLOUR.__dict__, "requires_room": True})
    anna = staff(1, Busy(at(MONDAY, 10, 30), at(MONDAY, 10, 45)))  # taken when the colour is applied
    offered = starts(visit([VisitPart(CUT, [anna]), VisitPart(colour, [anna, room(50)])]))
    assert "10:00" not in offered and "09:00" in offered
