"""EmbeddedPostgres against real server processes in temp dirs."""

import os
from pathlib import Path

import psycopg
import pytest

from termino.devserver.errors import ServiceError
from termino.devserver.postgres import EmbeddedPostgres

from .conftest import dead_pid, gone


def query(url: str, sql: str):
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else None


def test_starts_answers_and_keeps_data_across_restarts(tmp_path: Path, port: int, servers: list):
    pg = EmbeddedPostgres(tmp_path / "pgdata", port)
    servers.append(pg)
    pg.start()
    assert pg.started_by_us
    assert pg.url == f"postgresql://postgres@127.0.0.1:{port}/postgres"
    assert query(pg.url, "SHOW max_connections") == [("200",)]
    assert query(pg.url, "SHOW max_locks_per_transaction") == [("256",)]
    assert query(pg.url, "SHOW fsync") == [("on",)]
    pg.ensure_database("termino")
    pg.ensure_database("termino")  # idempotent
    query(pg.url_for("termino"), "CREATE TABLE kept (value text); INSERT INTO kept VALUES ('still here')")
    pid = pg.running_pid()
    pg.stop()
    assert gone(pid)
    assert not pg.is_running()

    again = EmbeddedPostgres(tmp_path / "pgdata", port)
    servers.append(again)
    with again:
        assert query(again.url_for("termino"), "SELECT value FROM kept") == [("still here",)]
    assert not again.is_running()


def test_fast_mode_turns_durability_off(tmp_path: Path, port: int, servers: list):
    pg = EmbeddedPostgres(tmp_path / "pgdata", port, fast=True)
    servers.append(pg)
    pg.start()
    assert (
        query(
            pg.url,
            "SELECT setting FROM pg_settings WHERE name IN "
            "('fsync', 'synchronous_commit', 'full_page_writes') ORDER BY name",
        )
        == [("off",)] * 3
    )


def test_port_taken_by_another_process(tmp_path: Path, occupied_port: int):
    pg = EmbeddedPostgres(tmp_path / "pgdata", occupied_port)
    with pytest.raises(ServiceError) as error:
        pg.start()
    message = str(error.value)
    assert f"port {occupied_port} is taken by another process" in message
    assert "TERMINO_PG_PORT" in message and "DATABASE_URL" in message
    assert not pg.started_by_us
    assert not (tmp_path / "pgdata" / "PG_VERSION").exists()  # failed before initdb


@pytest.mark.parametrize("owner", ["dead process", "unrelated process"])
def test_stale_pid_file_is_removed(tmp_path: Path, port: int, servers: list, capsys, owner: str):
    pg = EmbeddedPostgres(tmp_path / "pgdata", port, fast=True)
    servers.append(pg)
    pg.start()
    pg.stop()
    stale_pid = dead_pid() if owner == "dead process" else os.getpid()
    # The layout PostgreSQL writes: pid, data dir, start time, port, socket dir, address, shmem, status.
    pg.pid_file.write_text(
        f"{stale_pid}\n{pg.data_dir}\n1700000000\n{port}\n{pg.socket_dir}\n127.0.0.1\n"
        f"  1234  5678\nready   \n"
    )
    capsys.readouterr()

    pg.start()

    assert pg.started_by_us
    assert query(pg.url, "SELECT 1") == [(1,)]
    err = capsys.readouterr().err
    assert "removing stale pid file left by a crashed run" in err
    assert str(pg.pid_file) in err


def test_reuses_running_server_without_owning_it(tmp_path: Path, port: int, servers: list):
    owner = EmbeddedPostgres(tmp_path / "pgdata", port, fast=True)
    servers.append(owner)
    owner.start()

    guest = EmbeddedPostgres(tmp_path / "pgdata", port, fast=True)
    guest.start()
    assert not guest.started_by_us
    assert guest.is_running()
    guest.stop()  # must leave the owner's server alone
    assert query(owner.url, "SELECT 1") == [(1,)]

    with pytest.raises(ServiceError, match=f"already running on port {port}"):
        EmbeddedPostgres(tmp_path / "pgdata", port + 1).start()

    owner.stop()
    assert not owner.is_running()


def test_long_data_dir_gets_a_short_socket_dir(tmp_path: Path, port: int, servers: list):
    data_dir = tmp_path / ("long-" * 20) / "pgdata"
    pg = EmbeddedPostgres(data_dir, port, fast=True)
    servers.append(pg)
    assert pg.socket_dir.name.startswith("termino-pg-")
    assert pg.socket_dir.parent == Path("/tmp")  # noqa: S108 - that short dir is the point
    pg.start()
    assert (pg.socket_dir / f".s.PGSQL.{port}").is_socket()
    assert query(f"postgresql://postgres@/postgres?host={pg.socket_dir}&port={port}", "SELECT 1") == [(1,)]
