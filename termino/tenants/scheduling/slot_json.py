"""The `{"slots": [...]}` answers of the availability APIs, written as JSON text (see shared/json_text.py).

The same text `json.dumps` makes of `Slot.as_json` / `VisitSlot.as_json` (compact, keys in that order),
without a dict per slot: each instant is formatted once (`isoformat_cached`) and each set of resources
once. ISO-8601 times and integers need no escaping in JSON.
"""

from collections.abc import Callable, Sequence

from termino.shared.json_text import JSONText

from .availability import Slot, VisitSlot, isoformat_cached


def _ids_text() -> Callable[[tuple[int, ...]], str]:
    known: dict[tuple[int, ...], str] = {}

    def ids(resources: tuple[int, ...]) -> str:
        text = known.get(resources)
        if text is None:
            text = known[resources] = ",".join(str(int(pk)) for pk in resources)
        return text

    return ids


def slots_answer(slots: Sequence[Slot], *, seats: bool = False) -> JSONText:
    """`{"slots": [as_json of each]}`, with each slot's `seats_left` when `seats`."""
    iso, ids = isoformat_cached(), _ids_text()
    if seats:
        items = [
            f'{{"start":"{iso(s.start)}","end":"{iso(s.end)}","resources":[{ids(s.resources)}],'
            f'"seats_left":{int(s.seats_left)}}}'
            for s in slots
        ]
    else:
        items = [
            f'{{"start":"{iso(s.start)}","end":"{iso(s.end)}","resources":[{ids(s.resources)}]}}'
            for s in slots
        ]
    return JSONText(('{"slots":[' + ",".join(items) + "]}").encode())


def visit_slots_answer(slots: Sequence[VisitSlot]) -> JSONText:
    """`{"slots": [VisitSlot.as_json of each]}`."""
    iso, ids = isoformat_cached(), _ids_text()
    items = []
    for slot in slots:
        parts = slot.parts
        inner = ",".join(
            f'{{"start":"{iso(p.start)}","end":"{iso(p.end)}","resources":[{ids(p.resources)}]}}'
            for p in parts
        )
        items.append(f'{{"start":"{iso(parts[0].start)}","end":"{iso(parts[-1].end)}","parts":[{inner}]}}')
    return JSONText(('{"slots":[' + ",".join(items) + "]}").encode())
