"""start_test_services: throw-away servers per checkout, tolerant of parallel and killed runs."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import redis

from termino.devserver.pidfiles import read_pid

from .conftest import gone

REPO = Path(__file__).resolve().parents[2]

# Another test run in its own process: starts the services for ROOT, prints the URLs, then either dies
# without cleaning up (argv "killed") or holds them until its stdin is closed.
OTHER_RUN = """
import os, sys
from pathlib import Path
from termino.devserver.testing import start_test_services, stop_test_services
print(*start_test_services(Path(sys.argv[1])), flush=True)
if sys.argv[2] == "killed":
    os._exit(0)
sys.stdin.read()
stop_test_services()
"""


def other_run(root: Path, mode: str, **env: str) -> subprocess.Popen:
    # In a process of its own: this test session's services are managed by the same module-level state.
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.Popen(
        [sys.executable, "-c", OTHER_RUN, str(root), mode],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**environ, **env},
    )


def urls_of(run: subprocess.Popen) -> list[str]:
    return run.stdout.readline().split()


def assert_usable(database_url: str, redis_url: str) -> None:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        assert conn.execute("SHOW fsync").fetchone() == ("off",)
    assert redis.Redis.from_url(redis_url).ping()


def test_uses_urls_from_the_environment(tmp_path: Path):
    run = other_run(
        tmp_path, "hold", DATABASE_URL="postgresql://db.example/x", REDIS_URL="redis://cache.example/0"
    )
    assert urls_of(run) == ["postgresql://db.example/x", "redis://cache.example/0"]
    run.communicate("", timeout=30)
    assert not (tmp_path / ".run").exists()


def test_two_runs_in_one_checkout_and_a_killed_run(tmp_path: Path):
    # A run that is still going holds the first slots: the second run gets the second ones, on other ports.
    holder = other_run(tmp_path, "hold")
    their_urls = urls_of(holder)
    second = other_run(tmp_path, "hold")
    ours = urls_of(second)
    assert set(ours).isdisjoint(their_urls)
    assert ours[0].endswith("/postgres")
    assert (tmp_path / ".run" / "test-pg-2" / "pgdata" / "PG_VERSION").exists()
    assert_usable(*ours)
    assert_usable(*their_urls)
    holder.communicate("", timeout=30)
    second.communicate("", timeout=30)

    # A run killed without cleaning up leaves its servers behind; the next run stops them and starts
    # its own on fresh ports.
    killed = other_run(tmp_path, "killed")
    leftover_urls = urls_of(killed)
    killed.wait(30)
    slot = tmp_path / ".run" / "test-pg"
    leftover_pids = (
        read_pid(slot / "pgdata" / "postmaster.pid"),
        read_pid(tmp_path / ".run" / "test-redis" / "redis.pid"),
    )
    assert None not in leftover_pids

    fresh_run = other_run(tmp_path, "hold")
    fresh = urls_of(fresh_run)
    assert set(fresh).isdisjoint(leftover_urls)
    assert all(gone(pid) for pid in leftover_pids)
    assert_usable(*fresh)
    new_pg_pid = read_pid(slot / "pgdata" / "postmaster.pid")
    fresh_run.communicate("", timeout=30)
    assert gone(new_pg_pid)
