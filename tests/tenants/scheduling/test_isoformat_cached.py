"""The remembered isoformat of the availability answers: the same text as datetime.isoformat, also for the
two 02:30 of the night the clocks go back (equal in one zone, yet an hour apart)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from termino.tenants.scheduling.availability import isoformat_cached

BERLIN = ZoneInfo("Europe/Berlin")


def test_both_half_past_two_of_the_autumn_night_keep_their_offsets():
    first = datetime(2027, 10, 31, 2, 30, tzinfo=BERLIN)
    second = first.replace(fold=1)
    assert first == second  # why the cache must tell them apart
    iso = isoformat_cached()
    assert [iso(first), iso(second), iso(first)] == [
        "2027-10-31T02:30:00+02:00",
        "2027-10-31T02:30:00+01:00",
        "2027-10-31T02:30:00+02:00",
    ]


def test_the_text_is_isoformat_s():
    iso = isoformat_cached()
    moments = [datetime(2027, 3, 28, hour, 15, tzinfo=BERLIN) for hour in (1, 3, 23)]
    assert [iso(m) for m in moments + moments] == [m.isoformat() for m in moments + moments]
