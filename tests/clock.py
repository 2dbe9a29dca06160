"""The suite's clock: every test runs with "now" pinned, never on the machine's real time.

Each test starts at `DEFAULT` (a plain Wednesday morning in Berlin, in January) unless it is marked
`@pytest.mark.clock`: those are the time-sensitive tests (reminders, cut-offs, holds, minimum notice, the
week strip, retention, the calendar's "today"), and they run once at every instant of `MATRIX` — weekend
evenings, both daylight-saving change nights of 2027, a year end, a leap day and the start of a week
(browser tests at the four instants of `BROWSER_MATRIX`).

The pin reaches every clock the code under test reads:
- this process, through time-machine (ticking, so timeouts and polling still work);
- Python subprocesses (workers, gunicorn, manage.py), through `tests/clockhook/sitecustomize.py`, which
  reads `TERMINO_TEST_CLOCK` from the environment at start-up and travels to the same instant;
- Chromium, whose contexts get Playwright's clock installed at the same instant (tests/e2e/conftest.py).
PostgreSQL's and Redis's own clocks are never asked for the time (tests/test_clock_discipline.py).
"""

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

BERLIN = ZoneInfo("Europe/Berlin")
ENV = "TERMINO_TEST_CLOCK"
HOOK_DIR = Path(__file__).resolve().parent / "clockhook"


def _berlin(text: str, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN, fold=fold).astimezone(UTC)


DEFAULT = _berlin("2027-01-13 10:00")
# Session set-up (migrations, businesses A and B) happens an hour before: what it creates is never "in the
# future" of a test. Every instant of MATRIX lies after it, and within weeks to months of it.
SESSION_START = _berlin("2027-01-13 09:00")

MATRIX = {
    "sat-2030": _berlin("2027-01-16 20:30"),
    "sun-2359": _berlin("2027-01-17 23:59"),
    "mon-0000": _berlin("2027-01-18 00:00"),
    # Spring forward, 28 March 2027: 02:00 CET → 03:00 CEST; "02:30" is the instant 01:30 UTC (03:30 CEST).
    "spring-0159": _berlin("2027-03-28 01:59"),
    "spring-0230": datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
    "spring-0301": _berlin("2027-03-28 03:01"),
    # Fall back, 31 October 2027: 03:00 CEST → 02:00 CET; 02:30 happens twice, both are pinned.
    "autumn-0159": _berlin("2027-10-31 01:59"),
    "autumn-0230-first": _berlin("2027-10-31 02:30", fold=0),
    "autumn-0230-second": _berlin("2027-10-31 02:30", fold=1),
    "autumn-0301": _berlin("2027-10-31 03:01"),
    "year-end-2359": _berlin("2027-12-31 23:59"),
    "leap-day": _berlin("2028-02-29 12:00"),
}


# Browser tests marked `clock` run at these instants of MATRIX only (each costs a Chromium session of five
# to ten seconds): a weekend's last minute, the skipped and the repeated hour, the year end. What they
# show is computed by server code whose own tests run at every instant. A browser test with variants (a
# locale, a phone) runs each of these instants in one variant, in turn, and DEFAULT in every variant: the
# page's layout and language do not change with the date, so each instant and each variant is covered
# without their product (`--clock-matrix=full` runs the product).
BROWSER_MATRIX = ("sun-2359", "spring-0230", "autumn-0230-second", "year-end-2359")


def browser_variant(item) -> tuple | None:
    """The variant a clock-pinned browser test runs in (its parameters other than the instant), or None for
    any other test."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or "pinned_now" not in callspec.params or item.get_closest_marker("browser") is None:
        return None
    return tuple(sorted((k, repr(v)) for k, v in callspec.params.items() if k != "pinned_now")) or None


class Pin:
    """One pinned clock: this process travels there (ticking); subprocesses learn it from the environment."""

    def __init__(self, moment: datetime):
        self.moment = moment
        self._traveller = None
        self._previous_env = None

    def start(self) -> "Pin":
        hatch = time_machine.escape_hatch
        real = hatch.time.time() if hatch.is_travelling() else time.time()
        self._traveller = time_machine.travel(self.moment, tick=True)
        self._traveller.start()
        self._previous_env = os.environ.get(ENV)
        os.environ[ENV] = f"{self.moment.timestamp():.6f}@{real:.6f}"
        return self

    def stop(self) -> None:
        self._traveller.stop()
        if self._previous_env is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = self._previous_env


def install_subprocess_hook() -> None:
    """Python subprocesses import tests/clockhook/sitecustomize.py first, which applies TERMINO_TEST_CLOCK."""
    paths = [str(HOOK_DIR), *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
