"""The availability answers written as JSON text say exactly what json.dumps of the slots' dicts says."""

import json
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from rest_framework.renderers import JSONRenderer

from termino.shared.json_text import JSONText, Renderer
from termino.tenants.scheduling import slot_json
from termino.tenants.scheduling.availability import Slot, VisitSlot

BERLIN = ZoneInfo("Europe/Berlin")


def _instants() -> list[datetime]:
    """Quarter hours through Berlin's autumn night (02:00-03:00 twice), odd microseconds, a year end."""
    night = datetime(2026, 10, 25, 0, 0, tzinfo=ZoneInfo("UTC"))
    moments = [(night + timedelta(minutes=15 * n)).astimezone(BERLIN) for n in range(12)]
    moments += [
        datetime(2026, 12, 31, 23, 45, tzinfo=BERLIN),
        datetime(2027, 1, 1, 0, 0, 0, 1, tzinfo=BERLIN),
        datetime(2027, 3, 28, 1, 59, 59, 999999, tzinfo=BERLIN),
        datetime(2027, 3, 28, 3, 0, tzinfo=BERLIN),
    ]
    assert any(m.fold for m in moments), "the repeated hour is covered"
    return moments


def _slots() -> list[Slot]:
    moments = _instants()
    resources = [(), (7,), (3, 12, 40), (3, 12, 40), (1, 2)]
    return [
        Slot(start, end, resources[n % len(resources)], seats_left=1 + n % 4)
        for n, (start, end) in enumerate(zip(moments, moments[2:], strict=False))
    ]


def _dumped(body: dict) -> bytes:
    return JSONRenderer().render(body)


def test_slots_as_json_dumps_writes_them():
    slots = _slots()
    assert slot_json.slots_answer(slots) == _dumped({"slots": [s.as_json() for s in slots]})
    with_seats = [{**s.as_json(), "seats_left": s.seats_left} for s in slots]
    assert slot_json.slots_answer(slots, seats=True) == _dumped({"slots": with_seats})
    assert slot_json.slots_answer([]) == b'{"slots":[]}'
    # The repeated hour keeps its two offsets apart.
    starts = [item["start"] for item in json.loads(slot_json.slots_answer(slots))["slots"]]
    assert "2026-10-25T02:15:00+02:00" in starts and "2026-10-25T02:15:00+01:00" in starts


def test_visit_slots_as_json_dumps_writes_them():
    slots = _slots()
    visits = [VisitSlot(a.start, b.end, (a, b)) for a, b in pairwise(slots)]
    assert slot_json.visit_slots_answer(visits) == _dumped({"slots": [v.as_json() for v in visits]})


def test_the_renderer_sends_json_text_as_is_and_renders_the_rest():
    text = JSONText(b'{"slots":[]}')
    assert Renderer().render(text) == b'{"slots":[]}'
    assert Renderer().render({"a": [1, "ü"]}) == JSONRenderer().render({"a": [1, "ü"]})
