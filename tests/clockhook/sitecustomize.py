"""Pins the clock of a Python subprocess started by the test suite (see tests/clock.py).

TERMINO_TEST_CLOCK is "<pinned epoch>@<real epoch when pinned>": the process travels to the pinned instant
plus the real time passed since, ticking, so it shares the parent test's "now".
"""

import os

_value = os.environ.get("TERMINO_TEST_CLOCK")
if _value:
    import time

    import time_machine

    _pinned, _real = (float(part) for part in _value.split("@"))
    time_machine.travel(_pinned + (time.time() - _real), tick=True).start()
