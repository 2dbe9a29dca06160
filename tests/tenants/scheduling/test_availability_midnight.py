"""The availability engine at midnight: hours ending at 24:00, nights as two intervals, zones of every offset.

Pure functions over dataclasses; no database. The DST days are those of 2027, looked up with zoneinfo in
`test_the_looked_up_transitions_are_still_there` so that a tzdata change cannot quietly void the tests.
"""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from termino.tenants.scheduling.availability import (
    END_OF_DAY,
    Interval,
    ResourceCalendar,
    ServiceRules,
    WeeklyInterval,
    day_minutes,
    free_slots,
    interval_text,
    weekly_open,
)

BERLIN = ZoneInfo("Europe/Berlin")
SANTIAGO = ZoneInfo("America/Santiago")  # midnight skipped in spring (September), repeated 23:00 in April
BEIRUT = ZoneInfo("Asia/Beirut")  # midnight skipped in March; at midnight in October clocks go back to 23:00
HAVANA = ZoneInfo("America/Havana")  # in November clocks go back from 01:00 to 00:00: midnight happens twice
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30 all year
SAO_PAULO = ZoneInfo("America/Sao_Paulo")  # -03:00 all year
ADELAIDE = ZoneInfo("Australia/Adelaide")  # +09:30 in winter, +10:30 in summer (southern hemisphere)

LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
MONDAY = date(2027, 6, 14)  # an ordinary Monday
H = timedelta(hours=1)
MIN = timedelta(minutes=1)


def at(tz: ZoneInfo, day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tz).replace(fold=fold).astimezone(UTC)


def week(*spans: tuple[int, str, str]) -> tuple[WeeklyInterval, ...]:
    """Intervals from (weekday, "HH:MM", "HH:MM"); "24:00" is END_OF_DAY."""
    return tuple(
        WeeklyInterval(
            weekday, time.fromisoformat(start), END_OF_DAY if end == "24:00" else time.fromisoformat(end)
        )
        for weekday, start, end in spans
    )


def slots(
    tz, business, first: date, last: date | None = None, *, minutes=60, step=30, resources=None, **more
):
    return free_slots(
        rules=ServiceRules(
            service_id=1,
            duration=timedelta(minutes=minutes),
            step=timedelta(minutes=step),
            horizon=timedelta(days=4000),
        ),
        resources=resources or [ResourceCalendar(1, "staff", ())],
        business_hours=business,
        closures=more.pop("closures", ()),
        now=more.pop("now", LONG_AGO),
        tz=tz,
        start_date=first,
        end_date=last or first,
    )


def spans(result) -> list[tuple[datetime, datetime]]:
    """(start, end) of each slot in UTC: instants, whatever the wall clock shows."""
    return [(s.start.astimezone(UTC), s.end.astimezone(UTC)) for s in result]


def shown(result) -> list[str]:
    return [f"{s.start:%a %H:%M%z}–{s.end:%a %H:%M%z}" for s in result]


def weekday(day: date) -> int:
    return day.weekday()


# --- the representation -------------------------------------------------------------------------------------


def test_an_end_of_0000_reads_2400_and_counts_as_the_end_of_the_day():
    assert time(0) == END_OF_DAY
    assert interval_text(time(22), END_OF_DAY) == "22:00–24:00"
    assert interval_text(time(0), time(6)) == "00:00–06:00"
    assert interval_text(time(0), END_OF_DAY) == "00:00–24:00"
    assert day_minutes(END_OF_DAY, end=True) == 24 * 60 and day_minutes(time(0)) == 0
    assert day_minutes(time(23, 30), end=True) == 23 * 60 + 30


def test_weekly_open_cuts_to_the_business_and_keeps_2400():
    business = week((0, "08:00", "24:00"), (1, "00:00", "24:00"))
    own = week((0, "20:00", "24:00"), (1, "00:00", "02:00"), (1, "02:00", "03:00"))
    opened = weekly_open(own, business)
    assert opened[0] == [(time(20), END_OF_DAY)] and opened[1] == [(time(0), time(3))]
    assert weekly_open((), business)[1] == [(time(0), END_OF_DAY)]


# --- examples on an ordinary day ----------------------------------------------------------------------------


def test_open_until_midnight_offers_the_last_hour():
    result = slots(BERLIN, week((0, "20:00", "24:00")), MONDAY, minutes=60, step=60)
    assert shown(result) == [
        "Mon 20:00+0200–Mon 21:00+0200",
        "Mon 21:00+0200–Mon 22:00+0200",
        "Mon 22:00+0200–Mon 23:00+0200",
        "Mon 23:00+0200–Tue 00:00+0200",
    ]


def test_0000_to_2400_is_the_whole_day():
    result = slots(BERLIN, week((0, "00:00", "24:00")), MONDAY, minutes=60, step=60)
    assert len(result) == 24
    assert spans(result)[0][0] == at(BERLIN, MONDAY, 0) and spans(result)[-1][1] == at(
        BERLIN, MONDAY + timedelta(days=1), 0
    )


def test_without_the_next_morning_nothing_runs_past_midnight():
    result = slots(BERLIN, week((0, "22:00", "24:00")), MONDAY, minutes=60, step=30)
    assert [f"{s.start:%H:%M}" for s in result] == ["22:00", "22:30", "23:00"]


def test_night_shift_as_two_intervals_books_across_midnight():
    night = week((0, "22:00", "24:00"), (1, "00:00", "06:00"))
    monday = slots(BERLIN, night, MONDAY)
    assert shown(monday)[-2:] == ["Mon 23:00+0200–Tue 00:00+0200", "Mon 23:30+0200–Tue 00:30+0200"]
    tuesday = slots(BERLIN, night, MONDAY + timedelta(days=1))
    assert shown(tuesday)[0] == "Tue 00:00+0200–Tue 01:00+0200" and len(tuesday) == 11  # 00:00 … 05:00
    # The slots of a day do not depend on which other days are asked for (booking checks one day).
    assert spans(slots(BERLIN, night, MONDAY, MONDAY + timedelta(days=1))) == spans(monday) + spans(tuesday)


@pytest.mark.parametrize("step", [7, 25, 45, 50])
def test_the_grid_restarts_at_midnight_whatever_days_are_queried(step):
    """An odd step would otherwise shift the next day's slots with the query's first day."""
    night = week(*((d, "00:00", "24:00") for d in range(7)))
    days = [MONDAY + timedelta(days=i) for i in range(3)]
    together = spans(slots(BERLIN, night, days[0], days[-1], minutes=30, step=step))
    alone = [span for day in days for span in spans(slots(BERLIN, night, day, minutes=30, step=step))]
    assert together == alone
    assert at(BERLIN, days[1], 0) in [start for start, _ in together]


def test_a_long_appointment_reaches_into_the_day_after_next():
    """Open around the clock: a 30-hour service starting Monday evening ends Wednesday morning."""
    always = week(*((d, "00:00", "24:00") for d in range(7)))
    result = slots(BERLIN, always, MONDAY, minutes=30 * 60, step=60)
    assert len(result) == 24 and result[-1].end == datetime(2027, 6, 16, 5, 0, tzinfo=BERLIN)


def test_a_closure_at_midnight_splits_the_night():
    night = week((0, "22:00", "24:00"), (1, "00:00", "06:00"))
    closed = (
        Interval(at(BERLIN, MONDAY + timedelta(days=1), 0), at(BERLIN, MONDAY + timedelta(days=1), 0, 15)),
    )
    result = slots(BERLIN, night, MONDAY, closures=closed)
    assert [f"{s.start:%H:%M}" for s in result] == ["22:00", "22:30", "23:00"]


def test_own_hours_until_midnight_count_only_within_business_hours():
    business = week((0, "08:00", "23:00"))
    own = ResourceCalendar(1, "staff", week((0, "20:00", "24:00")))
    result = slots(BERLIN, business, MONDAY, minutes=60, step=60, resources=[own])
    assert [f"{s.start:%H:%M}" for s in result] == ["20:00", "21:00", "22:00"]


def test_an_interval_across_midnight_is_ignored_by_the_engine():
    """The writes refuse 22:00–06:00 with a message; should one slip through, it opens nothing."""
    assert slots(BERLIN, week((0, "22:00", "06:00")), MONDAY) == []


# --- daylight saving at midnight and around it --------------------------------------------------------------

BERLIN_SPRING = date(2027, 3, 28)  # Sunday: 02:00 CET → 03:00 CEST
BERLIN_AUTUMN = date(2027, 10, 31)  # Sunday: 03:00 CEST → 02:00 CET
SANTIAGO_SPRING = date(2027, 9, 5)  # Sunday: the day starts at 01:00 (-03); 00:00 does not exist
SANTIAGO_AUTUMN = date(2027, 4, 3)  # Saturday: at 24:00 (-03) clocks go back to 23:00 (-04)
BEIRUT_SPRING = date(2027, 3, 28)  # Sunday: the day starts at 01:00 (+03)
BEIRUT_AUTUMN = date(2027, 10, 30)  # Saturday: at 24:00 (+03) clocks go back to 23:00 (+02)
HAVANA_AUTUMN = date(2027, 11, 7)  # Sunday: 01:00 (-04) → 00:00 (-05), 00:00–01:00 happens twice
ADELAIDE_AUTUMN = date(2027, 4, 4)  # Sunday: 03:00 (+10:30) → 02:00 (+09:30)
ADELAIDE_SPRING = date(2027, 10, 3)  # Sunday: 02:00 (+09:30) → 03:00 (+10:30)


def test_the_looked_up_transitions_are_still_there():
    def changes(tz, day):
        """The offset changes between 02:00 the evening before and 06:00 the day after, in UTC steps."""
        start = at(tz, day - timedelta(days=1), 22)
        seen = [(start + i * 15 * MIN).astimezone(tz).utcoffset() for i in range(4 * 32)]
        return sum(a != b for a, b in itertools.pairwise(seen))

    for tz, day in [
        (BERLIN, BERLIN_SPRING), (BERLIN, BERLIN_AUTUMN), (SANTIAGO, SANTIAGO_SPRING),
        (SANTIAGO, SANTIAGO_AUTUMN + timedelta(days=1)), (BEIRUT, BEIRUT_SPRING),
        (BEIRUT, BEIRUT_AUTUMN + timedelta(days=1)), (HAVANA, HAVANA_AUTUMN), (ADELAIDE, ADELAIDE_AUTUMN),
        (ADELAIDE, ADELAIDE_SPRING),
    ]:  # fmt: skip
        assert changes(tz, day) == 1, (tz, day)
    # The midnights that do not exist: the wall clock never shows 00:00 on these days.
    for tz, day in [(SANTIAGO, SANTIAGO_SPRING), (BEIRUT, BEIRUT_SPRING)]:
        midnight = datetime.combine(day, time(0))
        assert midnight.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) != midnight


def length(result_spans) -> timedelta:
    return sum((end - start for start, end in result_spans), timedelta(0))


def open_time(tz, business, day: date, last: date | None = None) -> timedelta:
    """How long the business is open on these days, measured with 1-minute slots every minute."""
    return len(slots(tz, business, day, last, minutes=1, step=1)) * MIN


@pytest.mark.parametrize(
    ("day", "hours"),
    [(BERLIN_SPRING, 23), (BERLIN_AUTUMN, 25), (MONDAY, 24)],
)
def test_berlin_whole_day_lasts_its_real_length(day, hours):
    always = week(*((d, "00:00", "24:00") for d in range(7)))
    assert open_time(BERLIN, always, day) == hours * H


@pytest.mark.parametrize(
    ("saturday", "evening", "morning", "last"),
    [
        # 22:00–24:00 on Saturday, 00:00–06:00 on the Sunday the clocks change (at 02:00 or 03:00).
        (BERLIN_SPRING - timedelta(days=1), 2 * H, 5 * H, "Sat 23:30+0100–Sun 00:30+0100"),
        (BERLIN_AUTUMN - timedelta(days=1), 2 * H, 7 * H, "Sat 23:30+0200–Sun 00:30+0200"),
    ],
)
def test_berlin_night_shift_on_both_dst_nights(saturday, evening, morning, last):
    night = week((5, "22:00", "24:00"), (6, "00:00", "06:00"))
    sunday = saturday + timedelta(days=1)
    assert open_time(BERLIN, night, saturday) == evening
    assert open_time(BERLIN, night, sunday) == morning
    # 23:30 on Saturday runs over midnight into Sunday (the change comes later that night).
    assert shown(slots(BERLIN, night, saturday))[-1] == last
    # One run from 22:00 to 06:00: every slot of both days lies in it, none straddles a gap.
    both = spans(slots(BERLIN, night, saturday, sunday, minutes=1, step=1))
    assert both[0][0] == at(BERLIN, saturday, 22) and both[-1][1] == at(BERLIN, sunday, 6)
    assert length(both) == evening + morning == both[-1][1] - both[0][0]


def test_santiago_midnight_that_does_not_exist_ends_the_day_at_the_transition():
    saturday = SANTIAGO_SPRING - timedelta(days=1)
    transition = datetime(2027, 9, 5, 4, 0, tzinfo=UTC)  # 24:00 (-04) = 01:00 (-03)
    night = week((5, "22:00", "24:00"), (6, "00:00", "06:00"))
    result = slots(SANTIAGO, night, saturday)
    assert shown(result) == [
        "Sat 22:00-0400–Sat 23:00-0400",
        "Sat 22:30-0400–Sat 23:30-0400",
        "Sat 23:00-0400–Sun 01:00-0300",
        "Sat 23:30-0400–Sun 01:30-0300",  # across the midnight that never shows on the clock
    ]
    assert open_time(SANTIAGO, night, saturday) == 2 * H
    sunday = slots(SANTIAGO, night, SANTIAGO_SPRING, minutes=1, step=1)
    assert spans(sunday)[0][0] == transition and length(spans(sunday)) == 5 * H
    # Without Sunday morning the day ends exactly at the transition.
    alone = slots(SANTIAGO, week((5, "22:00", "24:00")), saturday, minutes=60, step=60)
    assert spans(alone)[-1][1] == transition


def test_santiago_day_whose_midnight_is_followed_by_a_repeated_hour():
    """At 24:00 (-03) clocks go back to 23:00 (-04): 22:00–24:00 covers both 23:00s, 3 hours."""
    night = week((5, "22:00", "24:00"))
    assert open_time(SANTIAGO, night, SANTIAGO_AUTUMN) == 3 * H
    result = slots(SANTIAGO, night, SANTIAGO_AUTUMN, minutes=60, step=60)
    assert shown(result) == [
        "Sat 22:00-0300–Sat 23:00-0300",
        "Sat 23:00-0300–Sat 23:00-0400",
        "Sat 23:00-0400–Sun 00:00-0400",
    ]


def test_beirut_midnights_skipped_and_repeated():
    night = week((5, "22:00", "24:00"), (6, "00:00", "06:00"))
    spring_saturday = BEIRUT_SPRING - timedelta(days=1)
    assert open_time(BEIRUT, night, spring_saturday) == 2 * H
    assert open_time(BEIRUT, night, BEIRUT_SPRING) == 5 * H
    assert shown(slots(BEIRUT, night, spring_saturday))[-1] == "Sat 23:30+0200–Sun 01:30+0300"
    assert open_time(BEIRUT, night, BEIRUT_AUTUMN) == 3 * H
    assert open_time(BEIRUT, night, BEIRUT_AUTUMN + timedelta(days=1)) == 6 * H
    assert shown(slots(BEIRUT, night, BEIRUT_AUTUMN))[-1] == "Sat 23:30+0200–Sun 00:30+0200"


def test_havana_midnight_that_happens_twice_ends_the_day_at_its_first_pass():
    night = week((5, "22:00", "24:00"), (6, "00:00", "06:00"))
    saturday = HAVANA_AUTUMN - timedelta(days=1)
    assert open_time(HAVANA, night, saturday) == 2 * H
    assert open_time(HAVANA, night, HAVANA_AUTUMN) == 7 * H  # 00:00–01:00 twice
    first_midnight = at(HAVANA, HAVANA_AUTUMN, 0)
    assert (
        spans(slots(HAVANA, week((5, "22:00", "24:00")), saturday, minutes=60, step=60))[-1][1]
        == first_midnight
    )
    both = spans(slots(HAVANA, night, saturday, HAVANA_AUTUMN, minutes=1, step=1))
    assert length(both) == both[-1][1] - both[0][0] == 9 * H  # one run, no gap and no overlap


# --- zones with half-hour offsets and the southern hemisphere ----------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "offset"),
    [
        (KOLKATA, MONDAY, timedelta(hours=5, minutes=30)),
        (SAO_PAULO, MONDAY, timedelta(hours=-3)),
        (ADELAIDE, MONDAY, timedelta(hours=9, minutes=30)),  # June: winter
        (ADELAIDE, date(2027, 1, 11), timedelta(hours=10, minutes=30)),  # January: summer
    ],
)
def test_zones_of_every_offset_open_at_their_own_0900(tz, day, offset):
    business = week((weekday(day), "09:00", "17:00"), (weekday(day), "18:00", "24:00"))
    result = slots(tz, business, day, minutes=60, step=60)
    assert [f"{s.start:%H:%M}" for s in result] == [
        f"{h:02d}:00" for h in [*range(9, 16 + 1), *range(18, 23 + 1)]
    ]
    assert all(s.start.utcoffset() == offset for s in result)
    assert result[0].start.astimezone(UTC) == datetime.combine(day, time(9), UTC) - offset
    assert result[-1].end.astimezone(UTC) == datetime.combine(day + timedelta(days=1), time(0), UTC) - offset


@pytest.mark.parametrize(("day", "hours"), [(ADELAIDE_AUTUMN, 25), (ADELAIDE_SPRING, 23)])
def test_adelaide_dst_days(day, hours):
    always = week(*((d, "00:00", "24:00") for d in range(7)))
    assert open_time(ADELAIDE, always, day) == hours * H
    evening = week((6, "01:00", "05:00"))
    assert open_time(ADELAIDE, evening, day) == (5 if hours == 25 else 3) * H
