"""Real `celery worker` processes on a Redis of their own, against the test database, for fault tests.

The broker is private to the test (its own redis-server), so the test may restart it and its workers
never pick up tasks other tests left behind.
"""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from pathlib import Path

from celery import Celery
from django.db import connection

from termino.devserver.ports import find_free_port
from termino.devserver.redis import EmbeddedRedis

ROOT = Path(__file__).resolve().parents[3]


def _database_url() -> str:
    cfg = connection.settings_dict
    return f"postgresql://{cfg['USER']}:{cfg['PASSWORD'] or ''}@{cfg['HOST']}:{cfg['PORT']}/{cfg['NAME']}"


class Broker:
    def __init__(self, data_dir: Path):
        self.redis = EmbeddedRedis(data_dir, find_free_port(), persist=False)
        # Not the current app: the project's tasks must keep sending to the session's broker.
        self.app = Celery("fault-test", broker=self.redis.url, backend=self.redis.url, set_as_current=False)

    def start(self) -> "Broker":
        self.redis.start()
        return self

    def restart(self) -> None:
        """Stop Redis and start it again on the same port: everything queued in it is gone."""
        self.redis.stop()
        self.redis.start()

    def stop(self) -> None:
        self.app.close()
        self.redis.stop()

    def tick(self) -> None:
        """Every business's due messages, at once: the send-due task fanned out to every business."""
        self.app.send_task("tenancy.fan_out", kwargs={"task_name": "notifications.send_due"})

    def dispatch(self) -> None:
        """What beat does every 30 s: a run for each business whose work the due index says is due."""
        self.app.send_task("duework.dispatch")

    def sweep(self) -> None:
        """What beat does every hour: every business's next due times written into the due index."""
        self.app.send_task("tenancy.fan_out", kwargs={"task_name": "duework.repair"})

    def env(self, **extra: str) -> dict[str, str]:
        return {"REDIS_URL": self.redis.url, "DATABASE_URL": _database_url(), **extra}

    def worker(
        self, env: dict[str, str], *, concurrency: int = 1, loglevel: str = "WARNING", output=None
    ) -> subprocess.Popen:
        """A worker process; its log goes to `output` (a file) when given, else to the test's output."""
        command = [sys.executable, "-m", "celery", "-A", "termino", "worker"]
        command += ["--concurrency", str(concurrency), "--loglevel", loglevel]
        command += ["--without-gossip", "--without-mingle"]
        command += ["-n", f"fault-{time.monotonic_ns()}@%h"]
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
            start_new_session=True,  # its own process group: killing it takes the pool children along
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the worker exited with {process.returncode}")
            if self.app.control.ping(timeout=0.5):
                return process
        kill(process)
        raise RuntimeError("the worker did not come up within 30 s")


def kill(process: subprocess.Popen) -> None:
    """SIGKILL, as the OOM killer or a node failure would: no clean-up, no acknowledgement."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def stop(process: subprocess.Popen) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        kill(process)


@contextmanager
def private_broker(data_dir: Path):
    broker = Broker(data_dir).start()
    try:
        yield broker
    finally:
        broker.stop()


@contextmanager
def running_worker(broker: Broker, env: dict[str, str]):
    process = broker.worker(env)
    try:
        yield process
    finally:
        stop(process)
