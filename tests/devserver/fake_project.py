"""A stand-in project root for running the supervisor as a subprocess, independent of the real app.

It holds a fake manage.py and a fake `celery` package (cwd comes first on sys.path for `python -m` and for
scripts, so the children pick them up), and a `termino` shim whose __path__ also points at the real
package, so `python -m termino.devserver` runs the real supervisor without importing the real app.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REAL_TERMINO = Path(__file__).resolve().parents[2] / "termino"

MANAGE_PY = """
import http.server, json, os, sys
from pathlib import Path

command = sys.argv[1]
print("fake manage.py " + " ".join(sys.argv[1:]), flush=True)
if command == "migrate_schemas":
    print("DATABASE_URL=" + os.environ["DATABASE_URL"], flush=True)
    print("REDIS_URL=" + os.environ["REDIS_URL"], flush=True)
    sys.exit(int(os.environ.get("FAKE_MIGRATE_EXIT", "0")))
if command == "seed_demo":
    Path(os.environ["TERMINO_RUN_DIR"], "demo-logins.json").write_text(json.dumps(LOGINS))
if command == "runserver":
    if os.environ.get("FAKE_WEB_EXIT"):
        sys.exit(int(os.environ["FAKE_WEB_EXIT"]))
    host, port = sys.argv[2].rsplit(":", 1)
    http.server.HTTPServer((host, int(port)), http.server.SimpleHTTPRequestHandler).serve_forever()
"""

CELERY_MAIN = """
import os, signal, sys, time

role = sys.argv[sys.argv.index("-A") + 2]
print(f"fake celery {role} ready", flush=True)
if os.environ.get(f"FAKE_{role.upper()}_EXIT"):
    sys.exit(int(os.environ[f"FAKE_{role.upper()}_EXIT"]))


def warm_shutdown(*_):
    print(f"fake celery {role}: warm shutdown", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, warm_shutdown)
while True:
    time.sleep(1)
"""

LOGINS = [
    {"where": "Demo backoffice", "username": "owner@demo.example", "password": "Demo-Pass-1"},
    {"where": "Superadmin", "username": "admin", "password": "Admin-Pass-1"},
]


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "manage.py").write_text(f"LOGINS = {json.dumps(LOGINS)}\n{MANAGE_PY}")
    (root / "celery").mkdir()
    (root / "celery" / "__init__.py").write_text("")
    (root / "celery" / "__main__.py").write_text(CELERY_MAIN)
    (root / "termino").mkdir()
    (root / "termino" / "__init__.py").write_text(f"__path__.append({str(REAL_TERMINO)!r})\n")
    return root


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "PYTHONPATH") and not key.startswith("TERMINO_")
    }
    env.update(extra)
    return env


class Supervisor:
    """`python -m termino.devserver <command>` in a project root, its output collected line by line."""

    def __init__(self, command: str, root: Path, env: dict[str, str]):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "termino.devserver", command],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} did not appear; output so far:\n{self.output}")

    def stop(self, signum: int = signal.SIGINT, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.finish(timeout)

    def finish(self, timeout: float = 30) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.stop(signal.SIGINT, 30)
