"""The code base's time rule, checked on its source: wall-clock parts become an instant only in timeutils.

A local-zone datetime built by hand (`datetime.combine(day, t, tzinfo=zone)`, `.replace(tzinfo=zone)`,
`datetime.now(zone)`) is where wall-clock arithmetic and non-existent times come from: adding a timedelta
to it moves the wall clock, not time, and it accepts 02:30 on the night clocks jump from 02:00 to 03:00.
Outside `termino/shared/timeutils.py` (and the availability engine's own integer conversion, which follows
the same rules and is tested against them), such constructions fail this test.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "termino/shared/timeutils.py",
    # The engine converts wall-clock bounds itself, in integer microseconds, for speed; its module
    # docstring states the same rules as timeutils' lenient bounds, and tests/tenants/scheduling checks it.
    "termino/tenants/scheduling/availability.py",
}
UTC_NAMES = {"UTC", "utc", "timezone.utc", "datetime.UTC", "dt_timezone.utc"}


def _name(node: ast.AST) -> str:
    return ast.unparse(node)


def offences(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = _name(node.func)
        keywords = {k.arg: k.value for k in node.keywords}
        if func.endswith("combine") and ("tzinfo" in keywords or len(node.args) >= 3):
            found.append((node.lineno, "datetime.combine with a zone: use timeutils.local_at/local_instant"))
        if func.endswith(".replace") and "tzinfo" in keywords:
            value = keywords["tzinfo"]
            if (
                not (isinstance(value, ast.Constant) and value.value is None)
                and _name(value) not in UTC_NAMES
            ):
                found.append((node.lineno, ".replace(tzinfo=zone): use timeutils.local_instant"))
        if func in {"datetime.now", "datetime.datetime.now"} and (node.args or keywords):
            zone = node.args[0] if node.args else keywords.get("tz")
            if zone is not None and _name(zone) not in UTC_NAMES:
                found.append((node.lineno, "datetime.now(zone): use timeutils.now()/today(zone)"))
        naive_clock = func in {"date.today", "datetime.date.today"} or (
            func == "datetime.now" and not node.args
        )
        if naive_clock and not keywords:
            found.append((node.lineno, "naive local clock: use timeutils.now()/today(zone)"))
    return found


def test_no_module_builds_local_datetimes_by_hand():
    problems = []
    for path in sorted((ROOT / "termino").rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        if relative in ALLOWED or "/migrations/" in relative or "/devserver/" in relative:
            continue
        for line, why in offences(ast.parse(path.read_text(), filename=relative)):
            problems.append(f"{relative}:{line}: {why}")
    assert problems == [], "\n".join(problems)


def test_the_rule_catches_what_it_should():
    source = """
from datetime import datetime, date
a = datetime.combine(day, wall, tzinfo=zone)
b = datetime.combine(day, wall, zone)
c = moment.replace(tzinfo=zone)
d = datetime.now(zone)
e = date.today()
ok1 = moment.replace(tzinfo=UTC)
ok2 = moment.replace(tzinfo=None)
ok3 = datetime.combine(day, wall)
ok4 = datetime.now(UTC)
"""
    assert [line for line, _why in offences(ast.parse(source))] == [3, 4, 5, 6, 7]
