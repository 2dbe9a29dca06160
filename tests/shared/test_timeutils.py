from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from termino.shared import timeutils
from termino.shared.timeutils import AmbiguousLocalTime, NonexistentLocalTime

BERLIN = ZoneInfo("Europe/Berlin")


def test_shift_adds_absolute_time_not_wall_clock_time():
    first_0230 = datetime(2027, 10, 31, 2, 30, tzinfo=BERLIN)  # fold=0: +02:00
    moved = timeutils.shift(first_0230, minutes=60)
    assert moved - first_0230 == timedelta(hours=1)
    assert moved.astimezone(BERLIN).isoformat() == "2027-10-31T02:30:00+01:00"
    # Python's own arithmetic is on the wall clock: two real hours.
    assert (first_0230 + timedelta(hours=1)).astimezone(UTC) - first_0230 == timedelta(hours=2)
    assert timeutils.shift(datetime(2027, 3, 28, 1, 30, tzinfo=BERLIN), hours=2).astimezone(
        BERLIN
    ).isoformat() == ("2027-03-28T04:30:00+02:00")


def test_naive_datetimes_are_no_instants():
    with pytest.raises(ValueError, match="naive"):
        timeutils.shift(datetime(2027, 1, 1), minutes=1)


def test_a_skipped_local_time_names_the_gap_in_both_languages():
    with translation.override("en"), pytest.raises(NonexistentLocalTime) as english:
        timeutils.local_instant(datetime(2027, 3, 28, 2, 30), BERLIN)
    assert english.value.message.startswith(
        "02:30 does not exist on 28 March 2027 in Europe/Berlin; clocks jump from 02:00 to 03:00."
    )
    with translation.override("de"), pytest.raises(NonexistentLocalTime) as german:
        timeutils.local_instant(datetime(2027, 3, 28, 2, 30), BERLIN)
    assert "28. März 2027" in german.value.message and "02:00" in german.value.message


def test_a_repeated_local_time_needs_an_offset():
    with translation.override("en"), pytest.raises(AmbiguousLocalTime) as error:
        timeutils.local_instant(datetime(2027, 10, 31, 2, 30), BERLIN)
    assert error.value.offsets == ("+02:00", "+01:00")
    assert "clocks go back from 03:00 to 02:00" in error.value.message
    first = timeutils.local_instant(datetime(2027, 10, 31, 2, 30), BERLIN, offset=timedelta(hours=2))
    second = timeutils.local_instant(datetime(2027, 10, 31, 2, 30), BERLIN, offset=timedelta(hours=1))
    assert second - first == timedelta(hours=1) and first == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_ordinary_local_times_need_no_offset():
    assert timeutils.local_instant(datetime(2027, 10, 31, 3, 30), BERLIN) == datetime(
        2027, 10, 31, 2, 30, tzinfo=UTC
    )


def test_lenient_bounds_cover_every_instant_of_a_wall_clock_range():
    assert timeutils.local_instant_lenient(datetime(2027, 3, 28, 2, 30), BERLIN) == datetime(
        2027, 3, 28, 1, 0, tzinfo=UTC
    )
    start = timeutils.local_instant_lenient(datetime(2027, 10, 31, 2, 30), BERLIN)
    end = timeutils.local_instant_lenient(datetime(2027, 10, 31, 2, 30), BERLIN, is_end=True)
    assert end - start == timedelta(hours=1)


@pytest.mark.parametrize(
    ("zone", "day", "expected_utc"),
    [
        ("Europe/Berlin", date(2027, 3, 28), datetime(2027, 3, 27, 23, 0, tzinfo=UTC)),
        ("Asia/Kolkata", date(2027, 1, 1), datetime(2026, 12, 31, 18, 30, tzinfo=UTC)),
        # Chile moves its clocks at midnight: the day of the change begins at 01:00.
        ("America/Santiago", date(2026, 9, 6), datetime(2026, 9, 6, 4, 0, tzinfo=UTC)),
    ],
)
def test_local_midnight_is_the_first_instant_of_the_day(zone, day, expected_utc):
    assert timeutils.local_midnight(day, ZoneInfo(zone)) == expected_utc


def test_day_bounds_last_23_and_25_hours_on_the_change_days():
    spring = timeutils.local_day_bounds(date(2027, 3, 28), date(2027, 3, 28), BERLIN)
    autumn = timeutils.local_day_bounds(date(2027, 10, 31), date(2027, 10, 31), BERLIN)
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert autumn[1] - autumn[0] == timedelta(hours=25)


def test_wall_time_shows_the_offset_only_where_it_is_needed():
    assert timeutils.wall_time(datetime(2027, 10, 31, 0, 30, tzinfo=UTC), BERLIN) == "02:30 (UTC+02:00)"
    assert timeutils.wall_time(datetime(2027, 10, 31, 1, 30, tzinfo=UTC), BERLIN) == "02:30 (UTC+01:00)"
    assert timeutils.wall_time(datetime(2027, 10, 31, 2, 30, tzinfo=UTC), BERLIN) == "03:30"


def test_next_weekday_is_strictly_after_the_day():
    assert timeutils.next_weekday(0, BERLIN, after=date(2027, 1, 17)) == date(2027, 1, 18)  # Sunday → Monday
    assert timeutils.next_weekday(0, BERLIN, after=date(2027, 1, 18)) == date(2027, 1, 25)  # Monday → next


@pytest.mark.clock
def test_today_is_the_local_date_of_the_pinned_now(pinned_now):
    assert timeutils.today(BERLIN) == pinned_now.astimezone(BERLIN).date()
    assert abs(timeutils.now() - pinned_now) < timedelta(minutes=1)


def test_every_iana_zone_is_offered_with_the_common_ones_first():
    choices = [name for name, _label in timeutils.zone_choices()]
    assert choices[0] == "Europe/Berlin"
    assert {"Asia/Kolkata", "America/Sao_Paulo", "Australia/Adelaide"} <= set(choices)
    assert len(choices) > 300 and len(set(choices)) == len(choices)
    assert timeutils.is_valid_zone("Asia/Kolkata") and not timeutils.is_valid_zone("Mars/Olympus")


ZONES = st.sampled_from(["Europe/Berlin", "America/Sao_Paulo", "Australia/Adelaide", "Asia/Kolkata"])


@given(
    zone=ZONES,
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2029, 12, 31)),
    wall=st.times(),
)
def test_strict_local_instants_read_back_as_the_same_wall_clock(zone, day, wall):
    tz = ZoneInfo(zone)
    naive = datetime.combine(day, wall)
    try:
        moment = timeutils.local_instant(naive, tz)
    except NonexistentLocalTime:
        # Nothing reads back as this wall time.
        probe = timeutils.local_instant_lenient(naive, tz)
        assert timeutils.localtime(probe, tz).replace(tzinfo=None) > naive
        return
    except AmbiguousLocalTime as error:
        for text in error.offsets:
            sign = 1 if text[0] == "+" else -1
            offset = sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6]))
            moment = timeutils.local_instant(naive, tz, offset=offset)
            assert timeutils.localtime(moment, tz).replace(tzinfo=None) == naive
        return
    assert moment.tzinfo is UTC
    assert timeutils.localtime(moment, tz).replace(tzinfo=None) == naive


@given(
    moment=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2029, 12, 31), timezones=st.just(UTC)
    )
)
def test_local_midnight_starts_the_local_date(moment):
    day = timeutils.local_date(moment, BERLIN)
    start = timeutils.local_midnight(day, BERLIN)
    assert start <= moment < timeutils.local_midnight(day + timedelta(days=1), BERLIN)
    assert timeutils.local_at(day, time(0), BERLIN) == start
