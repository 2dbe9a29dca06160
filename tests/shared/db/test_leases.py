"""Leases: one holder at a time, held as long as the holder runs, freed soon after a holder dies."""

import os
import signal
import subprocess
import sys
import time

from termino.shared.db.leases import KEY_PREFIX, client, lease

HOLDER = """
import django, sys, time
django.setup()
from termino.shared.db.leases import lease
with lease(sys.argv[1], ttl=float(sys.argv[2])) as held:
    print("held" if held else "busy", flush=True)
    time.sleep(60)
"""


def test_a_second_holder_is_refused_at_once_until_the_first_is_done():
    with lease("test-one-at-a-time") as first:
        started = time.monotonic()
        with lease("test-one-at-a-time") as second:
            assert (first, second) == (True, False)
        assert time.monotonic() - started < 0.5
        with lease("test-another-name") as other:
            assert other
    with lease("test-one-at-a-time") as again:
        assert again
    assert not client().exists(KEY_PREFIX + "test-one-at-a-time")


def test_a_living_holder_keeps_the_lease_past_its_ttl():
    with lease("test-long-job", ttl=0.6) as held:
        assert held
        for _ in range(6):  # 1.5 s: more than twice the ttl
            time.sleep(0.25)
            with lease("test-long-job", ttl=0.6) as other:
                assert not other


def test_a_killed_holder_frees_the_lease_within_its_ttl():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "termino.settings"}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, "test-crashed-job", "1"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        time.sleep(1.2)  # longer than the ttl: the living holder has extended it
        with lease("test-crashed-job") as held:
            assert not held
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        killed = time.monotonic()
        while True:
            with lease("test-crashed-job") as held:
                if held:
                    break
            assert time.monotonic() - killed < 2, "the lease of a killed holder did not expire"
            time.sleep(0.05)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
