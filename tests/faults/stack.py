"""Real processes for the fault tests: gunicorn (deploy/gunicorn.conf.py) and Celery workers, on a Redis of
the test's own and on the session's database or a dedicated PostgreSQL server, never the session's Redis.

Requests go over plain HTTP straight to gunicorn with the business's Host header; each answer records its
status, Retry-After, body and how long it took.
"""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import psutil
from django.conf import settings

from termino.devserver.ports import find_free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
UNLIMITED = {
    "THROTTLE_PUBLIC_READ": "100000/min",
    "THROTTLE_PUBLIC_BOOKING": "100000/min",
    "THROTTLE_PUBLIC_SMS_PHONE": "100000/hour",
    "THROTTLE_PUBLIC_SMS_PHONE_PLATFORM": "100000/hour",
    "THROTTLE_PUBLIC_SMS_IP": "100000/hour",
}


@dataclass
class Answer:
    status: int  # 0: no answer (connection refused, reset or closed)
    retry_after: str | None
    body: str
    seconds: float
    at: float  # time.monotonic() when it was sent
    error: str = ""
    headers: http.client.HTTPMessage | None = None

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Web:
    process: subprocess.Popen
    port: int
    log: Path

    def request(
        self,
        host: str,
        path: str,
        *,
        method: str = "GET",
        body: dict | str | None = None,
        headers: dict | None = None,
        timeout: float = 30,
    ) -> Answer:
        began = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        sent = {"Host": host, "Accept-Language": "en", **(headers or {})}
        data = None
        if isinstance(body, dict):
            data = json.dumps(body)
            sent["Content-Type"] = "application/json"
        elif body is not None:
            data = body
        try:
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            return Answer(
                response.status,
                response.getheader("Retry-After"),
                text,
                time.monotonic() - began,
                began,
                headers=response.headers,
            )
        except (OSError, http.client.HTTPException) as exc:
            return Answer(0, None, "", time.monotonic() - began, began, error=type(exc).__name__)
        finally:
            conn.close()

    def worker_pids(self) -> list[int]:
        return sorted(child.pid for child in psutil.Process(self.process.pid).children())

    def wait_for_workers(self, count: int, timeout: float = 60) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == count:
                return pids
            time.sleep(0.1)
        raise AssertionError(f"gunicorn has {self.worker_pids()} workers, not {count}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


def web_env(*, database_url: str, redis_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"METRICS_TOKEN", "SITE_PORT", "SECURE_COOKIES", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    metrics = tmp / "prometheus"
    metrics.mkdir(parents=True, exist_ok=True)
    env.update(
        DJANGO_SETTINGS_MODULE="termino.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        BASE_DOMAIN=settings.BASE_DOMAIN,
        DEBUG="1",
        LOG_FORMAT="text",
        ACCESS_LOG_ENABLED="0",
        PROMETHEUS_MULTIPROC_DIR=str(metrics),
        GUNICORN_TIMEOUT="30",
        **UNLIMITED,
    )
    env.update(extra)
    return env


def start_web(env: dict[str, str], tmp: Path, *, workers: int = 2) -> Web:
    port = find_free_port()
    log = tmp / f"gunicorn-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "termino.wsgi"],
            cwd=ROOT,
            env={**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    web = Web(process=process, port=port, log=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{web.output()}")
        if web.request("localhost", "/healthz", timeout=2).status == 200:
            web.wait_for_workers(workers)
            return web
        time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"gunicorn did not come up:\n{web.output()}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def wait_for(condition, timeout: float, tick=None, every: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if tick:
            tick()
        time.sleep(every)
    return condition()
