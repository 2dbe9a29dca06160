"""The `{"slots": [...]}` answers of the availability APIs, written as JSON text (see shared/json_text.py).

The same text `json.dumps` makes of `Slot.as_json` / `VisitSlot.as_json` (compact, keys in that order),
without a dict or a datetime per slot: each instant is written once from its epoch microseconds
(`instant_text`) and each set of resources once. ISO-8601 times and integers need no escaping in JSON.
"""

from collections.abc import Callable, Sequence

from termino.shared.json_text import JSONText

from .availability import Slot, VisitSlot, instant_text


def _ids_text() -> Callable[[tuple[int, ...]], str]:
    known: dict[tuple[int, ...], str] = {}

    def ids(resources: tuple[int, ...]) -> str:
        text = known.get(resources)
        if text is None:
            text = known[resources] = ",".join(str(int(pk)) for pk in resources)
        return text

    return ids


def _answer(items: list[str]) -> JSONText:
    return JSONText(('{"slots":[' + ",".join(items) + "]}").encode())


def slots_answer(slots: Sequence[Slot], *, seats: bool = False) -> JSONText:
    """`{"slots": [as_json of each]}`, with each slot's `seats_left` when `seats`."""
    if not slots:
        return _answer([])
    at, ids = instant_text(slots[0].tz), _ids_text()
    if seats:
        items = [
            f'{{"start":"{at(s.start_us)}","end":"{at(s.end_us)}","resources":[{ids(s.resources)}],'
            f'"seats_left":{int(s.seats_left)}}}'
            for s in slots
        ]
    else:
        items = [
            f'{{"start":"{at(s.start_us)}","end":"{at(s.end_us)}","resources":[{ids(s.resources)}]}}'
            for s in slots
        ]
    return _answer(items)


def visit_slots_answer(slots: Sequence[VisitSlot]) -> JSONText:
    """`{"slots": [VisitSlot.as_json of each]}`."""
    if not slots:
        return _answer([])
    at, ids = instant_text(slots[0].parts[0].tz), _ids_text()
    items = []
    for slot in slots:
        parts = slot.parts
        inner = ",".join(
            f'{{"start":"{at(p.start_us)}","end":"{at(p.end_us)}","resources":[{ids(p.resources)}]}}'
            for p in parts
        )
        items.append(
            f'{{"start":"{at(parts[0].start_us)}","end":"{at(parts[-1].end_us)}","parts":[{inner}]}}'
        )
    return _answer(items)
