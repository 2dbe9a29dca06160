"""The availability engine: worked examples, DST in Europe/Berlin, and property tests against a brute force.

Pure functions over dataclasses; no database is touched.
"""

import dataclasses
import functools
import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from termino.tenants.scheduling.availability import (
    Busy,
    Interval,
    ResourceCalendar,
    ServiceRules,
    Slot,
    WeeklyInterval,
    free_slots,
)

TZ = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 6, 15)  # an ordinary summer Monday, +02:00
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
SPRING = date(2026, 3, 29)  # Sunday, 02:00 CET -> 03:00 CEST
AUTUMN = date(2026, 10, 25)  # Sunday, 03:00 CEST -> 02:00 CET
MIN = timedelta(minutes=1)


def at(day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    """A local wall-clock time in Berlin as a UTC instant, the way the database hands them over."""
    return datetime.combine(day, time(hour, minute), TZ).replace(fold=fold).astimezone(UTC)


def hours(*spans: tuple[int, str, str]) -> tuple[WeeklyInterval, ...]:
    return tuple(
        WeeklyInterval(weekday, time.fromisoformat(start), time.fromisoformat(end))
        for weekday, start, end in spans
    )


def every_day(start: str, end: str) -> tuple[WeeklyInterval, ...]:
    return hours(*((weekday, start, end) for weekday in range(7)))


OFFICE = hours(
    *((weekday, "09:00", "12:00") for weekday in range(5)), *((wd, "13:00", "17:00") for wd in range(5))
)


def rules(**overrides) -> ServiceRules:
    values = {"service_id": 1, "duration": timedelta(minutes=60), "horizon": timedelta(days=400)}
    return ServiceRules(**(values | overrides))


def staff(resource_id: int = 1, hours=(), **kwargs) -> ResourceCalendar:
    return ResourceCalendar(resource_id, "staff", hours, **kwargs)


def room(resource_id: int = 50, hours=(), **kwargs) -> ResourceCalendar:
    return ResourceCalendar(resource_id, "room", hours, **kwargs)


def busy(start: datetime, end: datetime, **kwargs) -> Busy:
    return Busy(start, end, **kwargs)


def slots(
    *,
    service=None,
    resources=None,
    business_hours=OFFICE,
    closures=(),
    now=LONG_AGO,
    start_date=MONDAY,
    end_date=None,
    resource_id=None,
) -> list[Slot]:
    return free_slots(
        rules=service or rules(),
        resources=[staff()] if resources is None else resources,
        business_hours=business_hours,
        closures=closures,
        now=now,
        tz=TZ,
        start_date=start_date,
        end_date=end_date or start_date,
        resource_id=resource_id,
    )


def clock(result: list[Slot]) -> list[str]:
    return [f"{s.start:%H:%M}" for s in result]


def quarter_hours(first: str, last: str) -> list[str]:
    """Local HH:MM from `first` to `last` inclusive, every 15 minutes, on an ordinary day."""
    start = datetime.combine(MONDAY, time.fromisoformat(first))
    end = datetime.combine(MONDAY, time.fromisoformat(last))
    out = []
    while start <= end:
        out.append(f"{start:%H:%M}")
        start += timedelta(minutes=15)
    return out


# --- examples ---------------------------------------------------------------------------------------------


def test_basic_day_with_lunch_break():
    result = slots(service=rules(step=timedelta(minutes=30)))
    assert clock(result) == [
        "09:00", "09:30", "10:00", "10:30", "11:00",
        "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00",
    ]  # fmt: skip
    first = result[0]
    assert first.start.isoformat() == "2026-06-15T09:00:00+02:00"
    assert first.end.isoformat() == "2026-06-15T10:00:00+02:00"
    assert first.start.tzinfo is TZ
    assert first.resources == (1,)
    assert first.seats_left == 1


def test_buffers_keep_distance_to_a_neighbouring_appointment():
    service = rules(
        duration=timedelta(minutes=30),
        buffer_before=timedelta(minutes=15),
        buffer_after=timedelta(minutes=15),
    )
    neighbour = busy(at(MONDAY, 11), at(MONDAY, 12))
    result = slots(
        service=service, business_hours=hours((0, "09:00", "13:00")), resources=[staff(busy=(neighbour,))]
    )
    # Held [t-15, t+45) must stay clear of 11:00-12:00; buffers may reach outside the opening hours.
    assert clock(result) == [*quarter_hours("09:00", "10:15"), "12:15", "12:30"]


def test_min_notice():
    now = at(MONDAY, 9, 10)
    result = slots(service=rules(min_notice=timedelta(hours=2)), now=now)
    # Earliest start 11:10; the grid stays anchored at 09:00.
    assert clock(result) == quarter_hours("13:00", "16:00")
    result = slots(service=rules(duration=timedelta(minutes=30), min_notice=timedelta(hours=2)), now=now)
    assert clock(result)[:2] == ["11:15", "11:30"]


def test_now_itself_is_bookable_without_notice():
    assert clock(slots(now=at(MONDAY, 10)))[0] == "10:00"


def test_horizon_excludes_its_end():
    service = rules(duration=timedelta(minutes=15), horizon=timedelta(days=1))
    result = slots(service=service, now=at(MONDAY, 10), end_date=MONDAY + timedelta(days=1))
    tuesday = [f"{s.start:%H:%M}" for s in result if s.start.date() == MONDAY + timedelta(days=1)]
    monday = [f"{s.start:%H:%M}" for s in result if s.start.date() == MONDAY]
    assert monday[0] == "10:00"
    assert tuesday == ["09:00", "09:15", "09:30", "09:45"]


@pytest.mark.parametrize(
    ("step", "duration", "expected"),
    [
        (20, 20, ["09:00", "09:20", "09:40", "10:00", "10:20", "10:40"]),
        (45, 30, ["09:00", "09:45", "10:30"]),
        (60, 60, ["09:00", "10:00"]),
    ],
)
def test_step(step, duration, expected):
    service = rules(step=timedelta(minutes=step), duration=timedelta(minutes=duration))
    assert clock(slots(service=service, business_hours=hours((0, "09:00", "11:00")))) == expected


def test_business_closure_closes_the_day_for_everyone():
    holiday = Interval(at(MONDAY, 0), at(MONDAY + timedelta(days=1), 0))
    result = slots(resources=[staff(1), staff(2)], closures=(holiday,), end_date=MONDAY + timedelta(days=1))
    assert result
    assert all(s.start.date() == MONDAY + timedelta(days=1) for s in result)


def test_resource_closure_and_buffers_against_it():
    service = rules(duration=timedelta(minutes=30), buffer_after=timedelta(minutes=15))
    away = Interval(at(MONDAY, 10), at(MONDAY, 10, 7))
    result = slots(
        service=service, resources=[staff(1, closures=(away,))], business_hours=hours((0, "09:00", "11:00"))
    )
    # Held [t, t+45) must not touch 10:00-10:07; the grid does not shift to :07.
    assert clock(result) == ["09:00", "09:15", "10:15", "10:30"]
    other = slots(service=service, resources=[staff(1, closures=(away,)), staff(2)], business_hours=OFFICE)
    assert {s.resources for s in other if f"{s.start:%H:%M}" == "09:30"} == {(2,)}


def test_resource_hours_are_cut_to_business_hours():
    early_bird = staff(1, hours=hours((0, "07:00", "10:00"), (6, "10:00", "12:00")))
    result = slots(resources=[early_bird], end_date=MONDAY + timedelta(days=6))
    assert [(f"{s.start:%a %H:%M}") for s in result] == ["Mon 09:00"]  # Sunday: business closed


def test_resource_with_hours_but_none_that_weekday_is_off():
    tuesday_only = staff(1, hours=hours((1, "09:00", "17:00")))
    assert slots(resources=[tuesday_only]) == []
    assert slots(resources=[tuesday_only], start_date=MONDAY + timedelta(days=1))


def test_empty_business_hours_mean_closed():
    assert slots(business_hours=(), resources=[staff(1, hours=every_day("09:00", "17:00"))]) == []


def test_resource_follows_business_hours_when_it_has_none():
    assert clock(slots(resources=[staff(1)])) == clock(slots(resources=[staff(1, hours=OFFICE)]))


def test_touching_intervals_form_one_open_interval():
    split = hours((0, "09:00", "10:00"), (0, "10:00", "11:00"))
    assert clock(slots(business_hours=split, service=rules(step=timedelta(minutes=30)))) == [
        "09:00",
        "09:30",
        "10:00",
    ]


def test_requires_room_needs_a_free_room_too():
    service = rules(requires_room=True)
    result = slots(
        service=service,
        resources=[staff(1), room(50, busy=(busy(at(MONDAY, 10), at(MONDAY, 11)),))],
        business_hours=hours((0, "09:00", "12:00")),
    )
    assert clock(result) == ["09:00", "11:00"]
    assert result[0].resources == (1, 50)
    assert slots(service=service, resources=[staff(1)]) == []


def test_requires_room_lists_every_free_room_and_staff_member():
    service = rules(requires_room=True, duration=timedelta(minutes=30), step=timedelta(minutes=30))
    calendars = [
        room(60, busy=(busy(at(MONDAY, 9), at(MONDAY, 9, 30)),)),
        staff(2),
        room(50),
        staff(1, busy=(busy(at(MONDAY, 9, 30), at(MONDAY, 10)),)),
    ]
    result = slots(service=service, resources=calendars, business_hours=hours((0, "09:00", "10:00")))
    assert [(f"{s.start:%H:%M}", s.resources) for s in result] == [
        ("09:00", (1, 2, 50)),
        ("09:30", (2, 50, 60)),
    ]


def test_rooms_are_ignored_when_not_required():
    result = slots(resources=[staff(1), room(50, busy=(busy(at(MONDAY, 0), at(MONDAY, 23)),))])
    assert result and all(s.resources == (1,) for s in result)


def test_resource_id_filter():
    calendars = [staff(1), staff(2, busy=(busy(at(MONDAY, 9), at(MONDAY, 12)),)), room(50), room(60)]
    only_two = slots(resources=calendars, resource_id=2)
    assert clock(only_two)[0] == "13:00"
    assert all(s.resources == (2,) for s in only_two)
    with_room = slots(service=rules(requires_room=True), resources=calendars, resource_id=60)
    assert with_room[0].resources == (1, 60)
    assert all(60 in s.resources and 50 not in s.resources for s in with_room)
    assert slots(resources=calendars, resource_id=999) == []
    assert slots(resources=calendars, resource_id=50) == []  # a room, but the service needs none


def test_any_staff_lists_all_free_members():
    calendars = [
        staff(2, busy=(busy(at(MONDAY, 10), at(MONDAY, 11)),)),
        staff(1, busy=(busy(at(MONDAY, 9), at(MONDAY, 10)),)),
    ]
    result = slots(resources=calendars, business_hours=hours((0, "09:00", "12:00")))
    by_time = {f"{s.start:%H:%M}": s.resources for s in result}
    assert by_time["09:00"] == (2,)
    assert "09:15" not in by_time  # staff 1 is busy until 10:00, staff 2 from 10:00
    assert by_time["10:00"] == (1,)
    assert by_time["11:00"] == (1, 2)
    assert len(result) == len(by_time)


def test_group_session_is_joinable_until_full():
    service = rules(capacity=3, buffer_after=timedelta(minutes=10))
    session = at(MONDAY, 10)

    def held(participants, service_id=1):
        return busy(
            session, session + timedelta(minutes=70), service_id=service_id, session_start=session,
            participants=participants,
        )  # fmt: skip

    def times(*held_periods):
        result = slots(service=service, resources=[staff(1, busy=held_periods)])
        return {f"{s.start:%H:%M}": s.seats_left for s in result}

    open_session = times(held(2))
    assert open_session["10:00"] == 1
    assert "10:15" not in open_session and "09:00" not in open_session  # overlapping starts stay blocked
    assert open_session["13:00"] == 3
    assert "10:00" not in times(held(3))
    assert "10:00" not in times(held(1), held(2))  # participants of one session add up
    assert "10:00" not in times(held(1, service_id=2))  # another service's session blocks
    shorter = busy(session, session + timedelta(minutes=60), service_id=1, session_start=session)
    assert "10:00" not in times(shorter)  # not the shape this service would hold


def test_group_seats_are_the_best_single_offer():
    service = rules(capacity=4)
    session = busy(at(MONDAY, 10), at(MONDAY, 11), service_id=1, session_start=at(MONDAY, 10), participants=3)
    result = slots(service=service, resources=[staff(1, busy=(session,)), staff(2)])
    ten = next(s for s in result if f"{s.start:%H:%M}" == "10:00")
    assert ten.resources == (1, 2)
    assert ten.seats_left == 4
    alone = slots(service=service, resources=[staff(1, busy=(session,))], resource_id=1)
    assert next(s for s in alone if f"{s.start:%H:%M}" == "10:00").seats_left == 1


def test_capacity_one_never_joins():
    session = busy(at(MONDAY, 10), at(MONDAY, 11), service_id=1, session_start=at(MONDAY, 10), participants=0)
    assert "10:00" not in clock(slots(resources=[staff(1, busy=(session,))]))


def test_date_range_is_inclusive_and_empty_when_reversed():
    result = slots(end_date=MONDAY + timedelta(days=6))
    assert sorted({s.start.date() for s in result}) == [MONDAY + timedelta(days=i) for i in range(5)]
    assert slots(start_date=MONDAY, end_date=MONDAY - timedelta(days=1)) == []


def test_invalid_input_is_rejected():
    with pytest.raises(ValueError):
        slots(service=rules(step=timedelta(0)))
    with pytest.raises(ValueError):
        slots(resources=[ResourceCalendar(1, "robot", ())])
    with pytest.raises(ValueError):
        slots(now=datetime(2026, 1, 1))


# --- daylight saving time (Europe/Berlin) -------------------------------------------------------------------


def expected_offset(moment: datetime) -> timedelta:
    """Berlin's offset in 2026 from the known transitions (both at 01:00 UTC), not from zoneinfo."""
    summer = datetime(2026, 3, 29, 1, tzinfo=UTC) <= moment < datetime(2026, 10, 25, 1, tzinfo=UTC)
    return timedelta(hours=2 if summer else 1)


def sunday(day: date, *spans: tuple[str, str], **kwargs) -> list[Slot]:
    service = rules(duration=timedelta(minutes=15), **kwargs)
    return slots(service=service, business_hours=hours(*((6, a, b) for a, b in spans)), start_date=day)


@pytest.mark.parametrize(
    ("day", "start", "end", "length"),
    [
        (SPRING, "01:00", "05:00", timedelta(hours=3)),
        (SPRING, "00:00", "06:00", timedelta(hours=5)),
        (AUTUMN, "00:00", "06:00", timedelta(hours=7)),
        (AUTUMN, "01:00", "05:00", timedelta(hours=5)),
    ],
)
def test_night_across_the_change_lasts_its_absolute_length(day, start, end, length):
    result = [s for s in sunday(day, (start, end), ("13:00", "18:00")) if s.start.hour < 12]
    instants = [s.start.astimezone(UTC) for s in result]
    assert len(result) == length / timedelta(minutes=15)
    assert len(set(instants)) == len(instants)
    assert all(b - a == timedelta(minutes=15) for a, b in itertools.pairwise(instants))
    for s in result:
        assert s.start.utcoffset() == expected_offset(s.start)
        assert s.end.utcoffset() == expected_offset(s.end)
        # Aware subtraction within one zone compares wall clocks, hence via UTC.
        assert s.end.astimezone(UTC) - s.start.astimezone(UTC) == timedelta(minutes=15)


def test_spring_forward_skips_the_missing_hour():
    result = sunday(SPRING, ("00:00", "06:00"), ("13:00", "18:00"))
    assert not [s for s in result if s.start.hour == 2]
    assert {s.start.isoformat()[11:] for s in result} >= {"01:45:00+01:00", "03:00:00+02:00"}
    afternoon = [s for s in result if s.start.hour >= 13]
    assert clock(afternoon) == quarter_hours("13:00", "17:45")
    assert {s.start.utcoffset() for s in afternoon} == {timedelta(hours=2)}


def test_fall_back_offers_the_repeated_hour_twice():
    result = sunday(AUTUMN, ("00:00", "06:00"), ("13:00", "18:00"))
    repeated = [s.start.isoformat()[11:] for s in result if s.start.hour == 2]
    assert repeated == [
        "02:00:00+02:00", "02:15:00+02:00", "02:30:00+02:00", "02:45:00+02:00",
        "02:00:00+01:00", "02:15:00+01:00", "02:30:00+01:00", "02:45:00+01:00",
    ]  # fmt: skip
    assert [s.start.fold for s in result if s.start.hour == 2] == [0] * 4 + [1] * 4
    afternoon = [s for s in result if s.start.hour >= 13]
    assert clock(afternoon) == quarter_hours("13:00", "17:45")
    assert {s.start.utcoffset() for s in afternoon} == {timedelta(hours=1)}


def test_skipped_boundary_moves_forward():
    assert sunday(SPRING, ("02:30", "04:00"))[0].start.isoformat() == "2026-03-29T03:00:00+02:00"
    assert len(sunday(SPRING, ("02:30", "04:00"))) == 4
    assert sunday(SPRING, ("01:00", "02:30"))[-1].end.isoformat() == "2026-03-29T03:00:00+02:00"
    assert sunday(SPRING, ("02:10", "02:50")) == []  # entirely inside the missing hour


def test_ambiguous_start_takes_the_first_and_end_the_second_occurrence():
    starts_in_fold = sunday(AUTUMN, ("02:30", "04:00"))
    assert starts_in_fold[0].start.isoformat() == "2026-10-25T02:30:00+02:00"
    assert len(starts_in_fold) == 10  # 02:30 CEST to 04:00 CET is 2.5 h
    ends_in_fold = sunday(AUTUMN, ("01:00", "02:30"))
    assert ends_in_fold[-1].end.isoformat() == "2026-10-25T02:30:00+01:00"
    assert len(ends_in_fold) == 10  # 01:00 CEST to 02:30 CET is 2.5 h


def test_end_at_the_start_of_the_repeated_hour_is_its_first_occurrence():
    result = sunday(AUTUMN, ("00:00", "02:00"))
    assert len(result) == 8
    assert result[-1].end.isoformat() == "2026-10-25T02:00:00+02:00"


def test_busy_in_the_repeated_hour_blocks_only_its_own_pass():
    second_pass = busy(at(AUTUMN, 2, 0, fold=1), at(AUTUMN, 2, 30, fold=1))
    result = slots(
        service=rules(duration=timedelta(minutes=15)),
        business_hours=hours((6, "01:00", "04:00")),
        resources=[staff(1, busy=(second_pass,))],
        start_date=AUTUMN,
    )
    repeated = [s.start.isoformat()[11:] for s in result if s.start.hour == 2]
    first_pass = ["02:00:00+02:00", "02:15:00+02:00", "02:30:00+02:00", "02:45:00+02:00"]
    assert repeated == [*first_pass, "02:30:00+01:00", "02:45:00+01:00"]


@pytest.mark.parametrize(
    ("saturday", "offsets"),
    [(date(2026, 3, 28), [1, 2, 2]), (date(2026, 10, 24), [2, 1, 1])],
)
def test_range_across_the_change_keeps_local_opening_time(saturday, offsets):
    result = slots(
        service=rules(duration=timedelta(minutes=60)),
        business_hours=every_day("09:00", "10:00"),
        start_date=saturday,
        end_date=saturday + timedelta(days=2),
    )
    assert [s.start.strftime("%a %H:%M") for s in result] == ["Sat 09:00", "Sun 09:00", "Mon 09:00"]
    assert [s.start.utcoffset() for s in result] == [timedelta(hours=h) for h in offsets]


# --- property tests ---------------------------------------------------------------------------------------

# Zones whose changes fall at different wall times: Berlin at 02:00/03:00, Santiago and Beirut at midnight
# (a skipped midnight; clocks going back from 24:00 to 23:00), Havana back from 01:00 to 00:00 (a repeated
# midnight), Adelaide in the southern hemisphere with a half-hour offset, Kolkata without any change.
ZONES = [
    ZoneInfo(name)
    for name in ("Europe/Berlin", "America/Santiago", "Asia/Beirut", "America/Havana", "Australia/Adelaide")
] + [ZoneInfo("Asia/Kolkata")]


@functools.cache
def dst_days(tz: ZoneInfo, year: int = 2027) -> tuple[date, ...]:
    """The local days of `year` on which the offset changes (looked up, not assumed)."""
    day, out = date(year, 1, 1), []
    while day.year == year:
        following = day + timedelta(days=1)
        if (
            datetime.combine(day, time(12), tz).utcoffset()
            != datetime.combine(following, time(12), tz).utcoffset()
        ):
            # The change lies between these noons: on `day` after noon or on `following` before it.
            noon = datetime.combine(day, time(12), tz).astimezone(UTC)
            change = next(
                noon + timedelta(minutes=15 * i)
                for i in range(1, 97)
                if (noon + timedelta(minutes=15 * i)).astimezone(tz).utcoffset()
                != noon.astimezone(tz).utcoffset()
            )
            out.append((change - timedelta(seconds=1)).astimezone(tz).date())
        day = following
    return tuple(out)


def days_to_test(tz: ZoneInfo) -> list[date]:
    """Each DST day twice, the day before it, and an ordinary Monday."""
    out = [date(2027, 6, 14)]
    for day in dst_days(tz):
        out += [day - timedelta(days=1), day, day]
    return out


@functools.cache
def walls(day: date, tz: ZoneInfo) -> tuple[tuple[int, datetime], ...]:
    """(epoch minute, local naive wall time) for every UTC minute from 3 h before to 3 h after a local day."""
    first = datetime.combine(day, time(0), tz).astimezone(UTC) - timedelta(hours=3)
    minutes = 30 * 60
    out = []
    for i in range(minutes):
        moment = first + timedelta(minutes=i)
        out.append((int(moment.timestamp()) // 60, moment.astimezone(tz).replace(tzinfo=None)))
    return tuple(out)


def wall_minute(moment: time, *, end: bool = False) -> int:
    """Minutes since midnight; an end of 00:00 is 24:00."""
    minute = moment.hour * 60 + moment.minute
    return 24 * 60 if end and minute == 0 else minute


@functools.cache  # the property test asks for the same day's minutes once per minute of every slot
def local_minutes(intervals, weekday: int) -> frozenset[int]:
    return frozenset(
        m
        for w in intervals
        if w.weekday == weekday
        for m in range(wall_minute(w.start), wall_minute(w.end, end=True))
    )


def day_pieces(calendar: ResourceCalendar, business, day: date, tz: ZoneInfo) -> list[tuple[int, int]]:
    return _day_pieces(calendar.hours, business, day, tz)


@functools.cache
def _day_pieces(hours, business, day: date, tz: ZoneInfo) -> list[tuple[int, int]]:
    """[first, end) epoch minutes of each open interval of one day, by brute force over the wall clock.

    Each run [s, e) of local minutes starts at the first instant whose wall time reaches s and ends after the
    last instant whose wall time is still before e (24:00: the next day's 00:00): the documented fold/gap
    choices, derived independently. Runs of the day that touch or overlap in absolute time are one.
    """
    wanted = local_minutes(hours or business, day.weekday()) & local_minutes(business, day.weekday())
    runs = []
    for m in sorted(wanted):
        if runs and runs[-1][1] == m:
            runs[-1][1] = m + 1
        else:
            runs.append([m, m + 1])
    scan = walls(day, tz)
    pieces: list[list[int]] = []
    for s, e in runs:
        start_wall = datetime.combine(day, time(s // 60, s % 60))
        end_wall = datetime.combine(day, time(0)) + timedelta(minutes=e)  # naive: plain wall-clock arithmetic
        first = next((minute for minute, wall in scan if wall >= start_wall), None)
        ends = [minute for minute, wall in scan if wall < end_wall]
        if first is None or not ends or max(ends) < first:
            continue  # the whole interval lies in a skipped hour
        piece = [first, max(ends) + 1]
        if pieces and piece[0] <= pieces[-1][1]:
            pieces[-1][1] = max(pieces[-1][1], piece[1])
        else:
            pieces.append(piece)
    return [(a, b) for a, b in pieces]


def open_minutes(calendar: ResourceCalendar, business, days: list[date], tz: ZoneInfo) -> set[int]:
    """Epoch minutes when the resource is open on these days."""
    return {m for day in days for a, b in day_pieces(calendar, business, day, tz) for m in range(a, b)}


def epoch_minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def overlaps(a0, a1, b0, b1) -> bool:
    return a0 < b1 and b0 < a1


def joinable_at(calendar: ResourceCalendar, service: ServiceRules, t: datetime) -> tuple[list[Busy], int]:
    """The busy entries of the open group session at t, and the seats left in it."""
    t = t.astimezone(UTC)  # zoned arithmetic would be wall-clock time
    held = (t - service.buffer_before, t + service.duration + service.buffer_after)
    if service.capacity == 1:
        return [], 1
    same = [
        b
        for b in calendar.busy
        if b.service_id == service.service_id and b.session_start == t and (b.start, b.end) == held
    ]
    taken = sum(b.participants for b in same)
    if taken >= service.capacity:
        return [], 0
    return same, service.capacity - taken


def free_at(calendar, service, business_closures, t: datetime) -> int | None:
    """Seats the resource offers at t when its held interval is clear, None when it is not."""
    t = t.astimezone(UTC)
    h0, h1 = t - service.buffer_before, t + service.duration + service.buffer_after
    for c in (*business_closures, *calendar.closures):
        if overlaps(h0, h1, c.start, c.end):
            return None
    joined, seats = joinable_at(calendar, service, t)
    for b in calendar.busy:
        if b not in joined and overlaps(h0, h1, b.start, b.end):
            return None
    return seats if joined else service.capacity


def reference(scenario) -> list[tuple]:
    """Brute force: walk each open interval of a queried day by step, test every blocker for every candidate.

    An appointment may run on from an interval into whatever touches it (24:00 to the next day's 00:00);
    the steps of an interval stop where the next day's interval begins.
    """
    service, calendars, business, closures, now, start_date, end_date, resource_id, tz = scenario
    days = [start_date + timedelta(days=i) for i in range((end_date - start_date).days + 1)]
    reach = days + [end_date + timedelta(days=i) for i in (1, 2)]  # durations here are at most 90 minutes
    people = [c for c in calendars if c.kind == "staff"]
    rooms = [c for c in calendars if c.kind == "room"] if service.requires_room else []
    if resource_id is not None:
        if resource_id in [c.resource_id for c in people]:
            people = [c for c in people if c.resource_id == resource_id]
        elif resource_id in [c.resource_id for c in rooms]:
            rooms = [c for c in rooms if c.resource_id == resource_id]
        else:
            return []
    step = service.step // MIN
    duration = service.duration // MIN
    found: dict[datetime, dict] = {}
    room_open = {r.resource_id: open_minutes(r, business, reach, tz) for r in rooms}
    for person in people:
        minutes = open_minutes(person, business, reach, tz)
        starts = sorted(a for day in reach for a, _b in day_pieces(person, business, day, tz))
        for m, _piece_end in (piece for day in days for piece in day_pieces(person, business, day, tz)):
            run_end = m
            while run_end in minutes:
                run_end += 1
            limit = min((a for a in starts if m < a < run_end), default=run_end)
            t = m
            while t < limit and t + duration <= run_end:
                moment = datetime.fromtimestamp(t * 60, UTC)
                if now + service.min_notice <= moment < now + service.horizon:
                    seats = free_at(person, service, closures, moment)
                    if seats is not None:
                        entry = found.setdefault(moment, {"staff": [], "seats": []})
                        entry["staff"].append(person.resource_id)
                        entry["seats"].append(seats)
                t += step
    out = []
    for moment in sorted(found):
        t = epoch_minute(moment)
        free_rooms = [
            r.resource_id
            for r in rooms
            if all(x in room_open[r.resource_id] for x in range(t, t + duration))
            and free_at(r, service, closures, moment) is not None
        ]
        if service.requires_room and not free_rooms:
            continue
        entry = found[moment]
        seats = max(entry["seats"]) if service.capacity > 1 else 1
        out.append((moment, moment + service.duration, tuple(sorted(entry["staff"] + free_rooms)), seats))
    return out


DAY_END = 24 * 60  # 24:00, stored as 00:00


@st.composite
def weekly(draw, weekdays: list[int], min_size=0, max_size=4):
    out = []
    for _ in range(draw(st.integers(min_size, max_size))):
        kind = draw(st.sampled_from(["quarter", "quarter", "night", "late", "any"]))
        if kind == "any":
            start = draw(st.integers(0, DAY_END - 1))
            end = draw(st.integers(start + 1, DAY_END))
        elif kind == "late":
            # Until midnight, often with the next day's early hours: runs across midnight.
            start = 15 * draw(st.integers(80, 95))
            end = DAY_END
        else:
            # Quarter hours like real opening hours, often at night to cross the DST changes.
            start = 15 * draw(st.integers(0, 12) if kind == "night" else st.integers(0, 94))
            end = start + 15 * draw(st.integers(1, (DAY_END - start) // 15))
        # Mostly weekdays of the queried dates (or the day after), so that something is open.
        weekday = draw(st.sampled_from(weekdays)) if draw(st.integers(0, 3)) else draw(st.integers(0, 6))
        out.append(
            WeeklyInterval(weekday, time(start // 60, start % 60), time(end // 60 % 24, end % 60))
        )  # 24:00 → 00:00
    return tuple(out)


@st.composite
def scenarios(draw):
    tz = draw(st.sampled_from(ZONES))
    start_date = draw(st.sampled_from(days_to_test(tz)))
    end_date = start_date + timedelta(days=draw(st.integers(0, 2)))
    base = datetime.combine(start_date, time(0), tz).astimezone(UTC) - timedelta(hours=6)
    span = ((end_date - start_date).days + 1) * 24 * 60 + 12 * 60

    def moment(minutes):
        return base + timedelta(minutes=minutes)

    duration = timedelta(minutes=draw(st.sampled_from([5, 15, 30, 45, 60, 90])))
    before = timedelta(minutes=draw(st.sampled_from([0, 0, 5, 15])))
    after = timedelta(minutes=draw(st.sampled_from([0, 0, 10, 30])))
    # Usually the whole range is bookable; sometimes now, the notice or the horizon cuts into it.
    edge = draw(st.sampled_from(["none", "none", "none", "now", "notice", "horizon"]))
    now = moment(draw(st.integers(0, span) if edge == "now" else st.integers(-2 * 24 * 60, 0)))
    now += timedelta(seconds=draw(st.integers(0, 59)))
    min_notice = timedelta(minutes=draw(st.sampled_from([0, 30])))
    horizon = timedelta(days=7)
    if edge == "notice":
        min_notice = max(timedelta(0), moment(draw(st.integers(0, span))) - now)
    elif edge == "horizon":
        horizon = max(MIN, moment(draw(st.integers(0, span))) - now)
    service = ServiceRules(
        service_id=1,
        duration=duration,
        buffer_before=before,
        buffer_after=after,
        min_notice=min_notice,
        horizon=horizon,
        step=timedelta(minutes=draw(st.sampled_from([5, 10, 15, 15, 20, 30, 45, 60]))),
        capacity=draw(st.sampled_from([1, 1, 2, 3])),
        requires_room=draw(st.booleans()),
    )

    def intervals(max_size):
        out = []
        for _ in range(draw(st.integers(0, max_size))):
            start = draw(st.integers(0, span))
            out.append(Interval(moment(start), moment(start + draw(st.integers(1, 600)))))
        return tuple(out)

    def busy_periods():
        out = []
        for _ in range(draw(st.integers(0, 6))):
            if draw(st.booleans()):
                # A session of this or another service, shaped like the service would hold it.
                start = moment(draw(st.integers(0, span // 15)) * 15)
                out.append(
                    Busy(
                        start - service.buffer_before,
                        start + service.duration + service.buffer_after,
                        service_id=draw(st.sampled_from([1, 1, 2])),
                        session_start=start,
                        participants=draw(st.integers(1, 3)),
                    )
                )
            else:
                start = draw(st.integers(0, span))
                out.append(
                    Busy(
                        moment(start),
                        moment(start + draw(st.integers(1, 240))),
                        service_id=draw(st.sampled_from([None, 1, 2])),
                    )
                )
        return tuple(out)

    weekdays = sorted(
        {(start_date + timedelta(days=i)).weekday() for i in range((end_date - start_date).days + 2)}
    )

    def own_hours():
        return draw(st.just(()) | weekly(weekdays))  # () follows the business hours

    calendars = []
    for i in range(draw(st.integers(1, 3))):
        calendars.append(
            ResourceCalendar(i + 1, "staff", own_hours(), closures=intervals(1), busy=busy_periods())
        )
    for i in range(draw(st.integers(0, 2))):
        calendars.append(
            ResourceCalendar(50 + i, "room", own_hours(), closures=intervals(1), busy=busy_periods())
        )
    business = draw(weekly(weekdays, min_size=1, max_size=5))
    closures = intervals(1)
    ids = [c.resource_id for c in calendars]
    resource_id = draw(st.none() | st.none() | st.sampled_from([*ids, 999]))
    return service, calendars, business, closures, now, start_date, end_date, resource_id, tz


def run(scenario) -> list[Slot]:
    service, calendars, business, closures, now, start_date, end_date, resource_id, tz = scenario
    return free_slots(
        rules=service,
        resources=calendars,
        business_hours=business,
        closures=closures,
        now=now,
        tz=tz,
        start_date=start_date,
        end_date=end_date,
        resource_id=resource_id,
    )


def unambiguous(wall: datetime, tz: ZoneInfo) -> bool:
    return wall.replace(tzinfo=tz, fold=0).utcoffset() == wall.replace(tzinfo=tz, fold=1).utcoffset()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_slot_is_really_free(scenario):
    service, calendars, business, closures, now, start_date, end_date, resource_id, tz = scenario
    by_id = {c.resource_id: c for c in calendars}
    result = run(scenario)
    # In UTC: aware datetimes of one zone compare by wall clock, so 02:00 CEST == 02:00 CET.
    starts = [s.start.astimezone(UTC) for s in result]
    assert all(a < b for a, b in itertools.pairwise(starts))
    for slot in result:
        assert slot.start.tzinfo is tz and slot.end.tzinfo is tz
        assert slot.end.astimezone(UTC) - slot.start.astimezone(UTC) == service.duration
        assert now + service.min_notice <= slot.start < now + service.horizon
        assert start_date <= slot.start.date() <= end_date
        assert list(slot.resources) == sorted(set(slot.resources))
        kinds = [by_id[r].kind for r in slot.resources]
        assert "staff" in kinds
        assert ("room" in kinds) == service.requires_room
        if resource_id is not None:
            assert resource_id in slot.resources
            assert kinds.count(by_id[resource_id].kind) == 1
        for rid in slot.resources:
            calendar = by_id[rid]
            assert free_at(calendar, service, closures, slot.start) is not None
            # Within the resource's hours, checked on the wall clock minute by minute; past midnight those
            # of the next day (the repeated autumn hour is read either way, so it is left to the brute-force
            # comparison).
            moment = slot.start.astimezone(UTC)
            while moment < slot.end:
                wall = moment.astimezone(tz).replace(tzinfo=None)
                if unambiguous(wall, tz):
                    minute = wall.hour * 60 + wall.minute
                    assert wall.date() - slot.start.date() <= timedelta(days=1)
                    assert minute in local_minutes(calendar.hours or business, wall.weekday())
                    assert minute in local_minutes(business, wall.weekday())
                moment += MIN
        staff_seats = [
            free_at(by_id[r], service, closures, slot.start)
            for r in slot.resources
            if by_id[r].kind == "staff"
        ]
        assert slot.seats_left == (max(staff_seats) if service.capacity > 1 else 1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_matches_brute_force_reference(scenario):
    got = [(s.start.astimezone(UTC), s.end.astimezone(UTC), s.resources, s.seats_left) for s in run(scenario)]
    assert got == reference(scenario)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.data())
def test_joining_a_group_session_matches_brute_force(scenario, data):
    """Put a session of this service exactly on a free slot, then compare again: joinable or full."""
    service = dataclasses.replace(scenario[0], capacity=data.draw(st.integers(2, 4)))
    scenario = (service, *scenario[1:])
    result = run(scenario)
    assume(result)
    slot = data.draw(st.sampled_from(result))
    kinds = {c.resource_id: c.kind for c in scenario[1]}
    chosen = data.draw(st.sampled_from([r for r in slot.resources if kinds[r] == "staff"]))
    start = slot.start.astimezone(UTC)  # arithmetic on a zoned datetime would be wall-clock time
    participants = data.draw(st.integers(1, service.capacity))
    session = Busy(
        start - service.buffer_before,
        start + service.duration + service.buffer_after,
        service_id=service.service_id,
        session_start=start,
        participants=participants,
    )
    calendars = [
        dataclasses.replace(c, busy=(*c.busy, session)) if c.resource_id == chosen else c for c in scenario[1]
    ]
    scenario = (service, calendars, *scenario[2:])
    after = run(scenario)
    got = [(s.start.astimezone(UTC), s.end.astimezone(UTC), s.resources, s.seats_left) for s in after]
    assert got == reference(scenario)
    same = [s for s in after if s.start.astimezone(UTC) == start]
    joined, seats = joinable_at(next(c for c in calendars if c.resource_id == chosen), service, start)
    if joined:  # the new participants alone, or with those already booked, leave a place
        assert chosen in same[0].resources
        assert same[0].seats_left >= seats
    else:
        assert not same or chosen not in same[0].resources
