"""Throw-away PostgreSQL and Redis for the test suite, used when DATABASE_URL / REDIS_URL are unset.

Each test run claims a slot directory under <root>/.run (test-pg, test-redis; test-pg-2 ... when a second
run in the same checkout, e.g. a pytest-xdist worker, holds the first) by taking an flock on it for the
life of the process. Data dirs stay between runs so initdb runs only once per slot; ports are picked
afresh each run, so runs in different checkouts never collide.

A server still running in a slot we could lock was left by a run that was killed (the kernel released
its lock when it died). We stop it and start our own rather than reuse it: it runs on the port picked by
that dead run and nobody would ever stop it otherwise.
"""

import atexit
import fcntl
import os
import shutil
from pathlib import Path
from typing import IO

from .errors import PortTakenError, ServiceError
from .ports import find_free_port
from .postgres import EmbeddedPostgres
from .redis import EmbeddedRedis

MAX_SLOTS = 32
PORT_ATTEMPTS = 3

_started: list[EmbeddedPostgres | EmbeddedRedis] = []
_locks: list[IO] = []
_urls: tuple[str, str] | None = None
_atexit_registered = False


def start_test_services(root: Path) -> tuple[str, str]:
    """(database_url, redis_url) for the tests: from the environment if set, else throw-away embedded
    servers under root/.run. The database URL names the `postgres` database. Idempotent per process."""
    global _urls, _atexit_registered
    if _urls is not None:
        return _urls
    if not _atexit_registered:
        atexit.register(stop_test_services)  # safety net: callers should stop us themselves
        _atexit_registered = True
    database_url = os.environ.get("DATABASE_URL") or _start_postgres(Path(root) / ".run")
    redis_url = os.environ.get("REDIS_URL") or _start_redis(Path(root) / ".run")
    _urls = (database_url, redis_url)
    return _urls


def stop_test_services() -> None:
    """Stop what start_test_services started (idempotent)."""
    global _urls
    while _started:
        _started.pop().stop()
    while _locks:
        _locks.pop().close()  # closing releases the flock
    _urls = None


def _claim_slot(run_dir: Path, name: str) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    for number in range(1, MAX_SLOTS + 1):
        slot = run_dir / (name if number == 1 else f"{name}-{number}")
        lock = (run_dir / f".{slot.name}.lock").open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        _locks.append(lock)
        return slot
    raise ServiceError(f"All {MAX_SLOTS} test service slots under {run_dir} are in use by other test runs.")


def _start(make, data_dir: Path) -> str:
    """Start a fresh server on a free port; retry when another process grabs the port in between, and
    once from an empty data dir if the kept one is unusable (it only ever holds throw-away data)."""
    wiped = False
    port_attempts = 0
    while True:
        server = make(find_free_port())
        server.stop_leftover()
        try:
            server.start()
        except PortTakenError:
            port_attempts += 1
            if port_attempts >= PORT_ATTEMPTS:
                raise
            continue
        except ServiceError:
            if wiped or not data_dir.exists():
                raise
            shutil.rmtree(data_dir)
            wiped = True
            continue
        _started.append(server)
        return server.url


def _start_postgres(run_dir: Path) -> str:
    slot = _claim_slot(run_dir, "test-pg")
    data_dir = slot / "pgdata"
    return _start(lambda port: EmbeddedPostgres(data_dir, port, fast=True), data_dir)


def _start_redis(run_dir: Path) -> str:
    slot = _claim_slot(run_dir, "test-redis")
    return _start(lambda port: EmbeddedRedis(slot, port, persist=False), slot)
