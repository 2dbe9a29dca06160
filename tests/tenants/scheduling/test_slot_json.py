"""The availability answers written as JSON text say exactly what json.dumps of the slots' dicts says, and
`instant_text` writes every instant as datetime.isoformat() does, across every kind of offset change."""

import json
import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from rest_framework.renderers import JSONRenderer

from termino.shared.json_text import JSONText, Renderer
from termino.tenants.scheduling import slot_json
from termino.tenants.scheduling.availability import Slot, VisitSlot, instant_text

BERLIN = ZoneInfo("Europe/Berlin")
US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _us(moment: datetime) -> int:
    return (moment - EPOCH) // US


def _instants() -> list[int]:
    """Quarter hours through Berlin's autumn night (02:00-03:00 twice), odd microseconds, a year end."""
    night = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    moments = [_us(night + timedelta(minutes=15 * n)) for n in range(12)]
    moments += [
        _us(datetime(2026, 12, 31, 23, 45, tzinfo=BERLIN)),
        _us(datetime(2027, 1, 1, 0, 0, 0, 1, tzinfo=BERLIN)),
        _us(datetime(2027, 3, 28, 1, 59, 59, 999999, tzinfo=BERLIN)),
        _us(datetime(2027, 3, 28, 3, 0, tzinfo=BERLIN)),
    ]
    return moments


def _slots() -> list[Slot]:
    moments = _instants()
    resources = [(), (7,), (3, 12, 40), (3, 12, 40), (1, 2)]
    return [
        Slot(start, end, BERLIN, resources[n % len(resources)], seats_left=1 + n % 4)
        for n, (start, end) in enumerate(zip(moments, moments[2:], strict=False))
    ]


def _dumped(body: dict) -> bytes:
    return JSONRenderer().render(body)


def test_slots_as_json_dumps_writes_them():
    slots = _slots()
    assert any(slot.start.fold for slot in slots), "the repeated hour is covered"
    assert slot_json.slots_answer(slots) == _dumped({"slots": [s.as_json() for s in slots]})
    with_seats = [{**s.as_json(), "seats_left": s.seats_left} for s in slots]
    assert slot_json.slots_answer(slots, seats=True) == _dumped({"slots": with_seats})
    assert slot_json.slots_answer([]) == b'{"slots":[]}'
    # The repeated hour keeps its two offsets apart.
    starts = [item["start"] for item in json.loads(slot_json.slots_answer(slots))["slots"]]
    assert "2026-10-25T02:15:00+02:00" in starts and "2026-10-25T02:15:00+01:00" in starts


def test_visit_slots_as_json_dumps_writes_them():
    slots = _slots()
    visits = [VisitSlot((a, b)) for a, b in pairwise(slots)]
    assert slot_json.visit_slots_answer(visits) == _dumped({"slots": [v.as_json() for v in visits]})
    assert slot_json.visit_slots_answer([]) == b'{"slots":[]}'


def test_a_slots_datetimes_are_its_microseconds_in_its_zone():
    slot = Slot(_us(datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN)), 0, BERLIN, (1,))
    assert slot.start == datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN)
    assert (slot.start.fold, slot.start.utcoffset()) == (1, timedelta(hours=1))
    assert slot.start is slot.start  # made once


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Berlin",  # the product's default: +01:00 / +02:00 at 01:00 UTC
        "America/St_Johns",  # -03:30 / -02:30: changes at xx:30 UTC
        "Australia/Lord_Howe",  # a half-hour DST
        "Pacific/Chatham",  # +12:45 / +13:45
        "Asia/Kathmandu",  # +05:45, and +05:30 before 1986
        "Europe/Dublin",  # "negative" DST in the zone data
        "Africa/Casablanca",  # clocks set back for Ramadan
        "Europe/Amsterdam",  # +00:19:32 and +00:20 before 1940: offsets with seconds
        "UTC",
    ],
)
def test_instant_text_is_isoformat_in_every_kind_of_zone(zone):
    tz = ZoneInfo(zone)
    text = instant_text(tz)
    rng = random.Random(zone)
    moments = []
    for year in (1937, 1985, 1986, 2026, 2027, 2037):
        start = _us(datetime(year, 1, 1, tzinfo=UTC))
        # Every 7.5 minutes through the year's likely transition months, plus random instants.
        for month_start in (2, 3, 9, 10):
            first = start + month_start * 30 * 86_400_000_000
            moments += [first + k * 450_000_000 for k in range(0, 40 * 24 * 8, 7)]
        moments += [start + rng.randrange(366 * 86_400_000_000) for _ in range(300)]
    moments += [m - 1 for m in moments[:200]] + [m + 1 for m in moments[:200]]
    # Changes inside a quarter hour, where nothing is assumed: Amsterdam's summer time of 1916 at 23:40:28
    # UTC (+00:19:32 to +01:19:32), Berlin's end of local mean time in 1893, Kathmandu's in 1919.
    for odd in (
        datetime(1916, 4, 30, 23, 40, 28, tzinfo=UTC),
        datetime(1893, 3, 31, 23, 6, 32, tzinfo=UTC),
        datetime(1919, 12, 31, 18, 18, 44, tzinfo=UTC),
    ):
        moments += [_us(odd) + k * 250_000 for k in range(-40, 40)]
    for moment in moments:
        seconds, micro = divmod(moment, 1_000_000)
        expected = datetime.fromtimestamp(seconds, tz).replace(microsecond=micro).isoformat()
        assert text(moment) == expected, (zone, moment)
        assert text(moment) == expected  # and again, from what it remembered


def test_the_renderer_sends_json_text_as_is_and_renders_the_rest():
    text = JSONText(b'{"slots":[]}')
    assert Renderer().render(text) == b'{"slots":[]}'
    assert Renderer().render({"a": [1, "ü"]}) == JSONRenderer().render({"a": [1, "ü"]})


@pytest.mark.parametrize(
    ("media_type", "context"),
    [("application/json; indent=2", {}), ("application/json", {"indent": 2})],
    ids=["accept-header", "renderer-context"],
)
def test_json_text_is_indented_when_an_indent_is_asked_for(media_type, context):
    data = {"slots": [{"start": "2027-03-28T01:30:00+01:00", "resources": [3, 4]}], "name": "Lüdenscheid"}
    text = JSONText(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
    indented = Renderer().render(text, media_type, context)
    assert indented == JSONRenderer().render(data, media_type, context)
    assert b'\n  "slots": [' in indented and json.loads(indented) == data
    assert Renderer().render(text, "application/json; indent=0", {}) == bytes(text)  # 0 means compact
