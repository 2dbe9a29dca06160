"""Long-running child processes of `make run` (web, worker, beat) with their output prefixed by name."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

_output_lock = threading.Lock()


def say(text: str = "", *, err: bool = False) -> None:
    """Print a whole line at once; reader threads print concurrently."""
    stream = sys.stderr if err else sys.stdout
    with _output_lock:
        stream.write(text + "\n")
        stream.flush()


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class Child:
    """One child in its own process group, so the terminal's Ctrl-C reaches only the supervisor, which then
    stops the children in order; its stdout and stderr are printed line by line as `[name] ...`."""

    def __init__(self, name: str, args: Sequence[str], *, env: dict[str, str], cwd: Path):
        self.name = name
        self.args = list(args)
        self._env = env
        self._cwd = cwd
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self._env,
            cwd=self._cwd,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._relay, name=f"relay-{self.name}", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def poll(self) -> int | None:
        return self._process.poll() if self._process else None

    def wait(self) -> int | None:
        return self._process.wait() if self._process else None

    def finish_output(self, timeout: float = 2.0) -> None:
        if self._reader is not None:
            self._reader.join(timeout)

    def signal_group(self, signum: int) -> None:
        """Signal the whole group: runserver's autoreloader leaves its server child behind otherwise."""
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signum)

    def group_alive(self) -> bool:
        if self._process is None:
            return False
        if self._process.poll() is None:
            return True
        try:
            os.killpg(self._process.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def _relay(self) -> None:
        prefix = f"[{self.name}] "
        for raw in iter(self._process.stdout.readline, b""):
            say(prefix + raw.decode(errors="replace").rstrip("\r\n"))
        self._process.stdout.close()


def stop_children(children: Sequence[Child], timeout: float = 10.0) -> None:
    """SIGTERM every child's group, wait up to `timeout` seconds for all of them, then SIGKILL the rest."""
    running = [child for child in children if child.group_alive()]
    for child in running:
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(child.group_alive() for child in running) and time.monotonic() < deadline:
        time.sleep(0.1)
    for child in running:
        if child.group_alive():
            say(f"{child.name} did not stop within {timeout:.0f} s; killing it", err=True)
            child.signal_group(signal.SIGKILL)
    for child in running:
        child.wait()
        child.finish_output()
