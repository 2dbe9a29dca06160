"""The suite never reads the real clock: every test runs on the pinned one (tests/clock.py).

These checks fail when something reaches around the pin: this process or a Python subprocess on the
machine's time, SQL or Redis asked for the time (their clocks are the machine's), or a test dropping the
variables through which subprocesses learn the pinned time.
"""

import ast
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from termino.shared import timeutils

from . import clock

ROOT = Path(__file__).resolve().parents[1]
CODE = sorted((ROOT / "termino").rglob("*.py"))
TESTS = sorted((ROOT / "tests").rglob("*.py"))
BENCH = sorted((ROOT / "bench").rglob("*.py"))

# Database and Redis functions that read the server's own clock.
SERVER_CLOCKS = re.compile(
    r"\b(now\(\)|current_timestamp|current_date|current_time\b|localtimestamp|localtime\b|clock_timestamp"
    r"|statement_timestamp|transaction_timestamp|timeofday)",
    re.IGNORECASE,
)
# Places in tests that run a subprocess without the clock hook, each with its reason.
UNPINNED_SUBPROCESSES = {
    "tests/devserver/fake_project.py": "runs `make run`'s supervisor: it serves, it reads no business time",
}


def test_this_process_runs_on_the_pinned_clock(pinned_now):
    assert pinned_now == clock.DEFAULT
    for reading in (
        datetime.now(UTC),
        datetime.fromtimestamp(time.time(), UTC),
        timezone.now(),
        timeutils.now(),
    ):
        assert abs(reading - clock.DEFAULT) < timedelta(minutes=5), reading


@pytest.mark.clock
def test_each_matrix_instant_is_pinned(pinned_now):
    assert abs(timezone.now() - pinned_now) < timedelta(minutes=5)
    assert pinned_now == clock.DEFAULT or pinned_now in clock.MATRIX.values()


def test_python_subprocesses_share_the_pinned_clock():
    output = subprocess.run(
        [sys.executable, "-c", "import time; print(time.time())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    seen = datetime.fromtimestamp(float(output), UTC)
    assert abs(seen - timezone.now()) < timedelta(minutes=1)


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _looks_like_sql(text: str) -> bool:
    return bool(re.search(r"\b(select|insert|update|delete|default|where|values)\b", text, re.IGNORECASE))


def test_no_sql_asks_the_database_for_the_time():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in CODE + TESTS + BENCH
        if path.name != "test_clock_discipline.py"
        for line, text in _strings(path)
        if _looks_like_sql(text) and SERVER_CLOCKS.search(text)
    ]
    assert found == [], "pass the time from timeutils.now() as a parameter instead"


def test_no_code_asks_redis_for_the_time():
    pattern = re.compile(r"\.time\(\)|['\"]TIME['\"]")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in CODE + TESTS
        if path.name != "test_clock_discipline.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line) and "time.time()" not in line and "redis" in line.lower()
    ]
    assert found == []


def test_nothing_escapes_the_pinned_clock():
    escaping = [
        str(path.relative_to(ROOT))
        for path in TESTS
        if path.name not in {"clock.py", "test_clock_discipline.py"} and "escape_hatch" in path.read_text()
    ]
    assert escaping == []


def test_subprocesses_keep_the_clock_hook_unless_declared():
    # A test that filters PYTHONPATH or TERMINO_* out of a subprocess's environment must put the hook
    # back (tests/clock.py HOOK_DIR) or be declared above with its reason.
    filters = re.compile(r"(startswith\(|not in [({])[^)}]*(PYTHONPATH|TERMINO_)")
    dropping = {
        str(path.relative_to(ROOT))
        for path in TESTS
        if path.parent.name != "clockhook"
        and path.name not in {"clock.py", "test_clock_discipline.py"}
        and filters.search(path.read_text())
        and "HOOK_DIR" not in path.read_text()
    }
    assert dropping == set(UNPINNED_SUBPROCESSES)


def test_the_hook_is_on_the_path_of_every_subprocess():
    assert str(clock.HOOK_DIR) in os.environ["PYTHONPATH"].split(os.pathsep)
    pinned, real = (float(part) for part in os.environ[clock.ENV].split("@"))
    assert abs(pinned - clock.DEFAULT.timestamp()) < 1
    assert real > 0
