"""`python -m termino.devserver services|run` as a real subprocess in a fake project root."""

import signal
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from termino.devserver.pidfiles import read_pid
from termino.devserver.ports import find_free_port, port_is_free

from .conftest import gone
from .fake_project import LOGINS, Supervisor, clean_env, make_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


@pytest.fixture
def supervisors() -> Iterator[list[Supervisor]]:
    started: list[Supervisor] = []
    yield started
    for supervisor in started:
        supervisor.kill()


def test_services_start_and_stop_on_ctrl_c(project: Path, tmp_path: Path, supervisors: list):
    run_dir = tmp_path / "state"
    pg_port, redis_port = find_free_port(), find_free_port()
    env = clean_env(
        TERMINO_RUN_DIR=str(run_dir), TERMINO_PG_PORT=str(pg_port), TERMINO_REDIS_PORT=str(redis_port)
    )
    supervisor = Supervisor("services", project, env)
    supervisors.append(supervisor)

    redis_line = supervisor.wait_for("export REDIS_URL=")
    database_url = f"postgresql://postgres@127.0.0.1:{pg_port}/termino"
    assert f"export DATABASE_URL={database_url}" in supervisor.output
    assert redis_line == f"export REDIS_URL=redis://127.0.0.1:{redis_port}/0"
    assert f"PostgreSQL: embedded, 127.0.0.1:{pg_port}, data in {run_dir / 'pgdata'}" in supervisor.output
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("termino",)
    assert redis.Redis(port=redis_port).ping()
    pg_pid = read_pid(run_dir / "pgdata" / "postmaster.pid")
    redis_pid = read_pid(run_dir / "redis" / "redis.pid")

    assert supervisor.stop(signal.SIGINT) == 0
    assert supervisor.lines[-1] == "stopped"
    assert gone(pg_pid) and gone(redis_pid)
    assert port_is_free(pg_port) and port_is_free(redis_port)


def test_run_starts_everything_and_stops_on_sigterm(project: Path, supervisors: list):
    pg_port, redis_port, web_port = find_free_port(), find_free_port(), find_free_port()
    env = clean_env(
        TERMINO_PG_PORT=str(pg_port),
        TERMINO_REDIS_PORT=str(redis_port),
        TERMINO_WEB_PORT=str(web_port),
        TERMINO_RUN_DIR=".run",
        TERMINO_NORELOAD="1",
    )
    supervisor = Supervisor("run", project, env)
    supervisors.append(supervisor)

    supervisor.wait_for(f"http://demo.localhost:{web_port}/book/")
    output = supervisor.output
    assert "PostgreSQL: embedded, 127.0.0.1:" in output and "data in .run/pgdata" in output
    assert f"DATABASE_URL=postgresql://postgres@127.0.0.1:{pg_port}/termino" in output
    assert f"REDIS_URL=redis://127.0.0.1:{redis_port}/0" in output
    order = [
        output.index(f"fake manage.py {step}")
        for step in ("migrate_schemas --noinput", "fill_schema_pool", "seed_demo")
    ]
    assert order == sorted(order)
    for url in (
        f"http://localhost:{web_port}/",
        f"http://demo.localhost:{web_port}/",
        f"http://localhost:{web_port}/staff/",
    ):
        assert url in output
    for login in LOGINS:
        assert f"{login['username']} / {login['password']}" in output
    supervisor.wait_for("[worker] fake celery worker ready")
    supervisor.wait_for("[beat] fake celery beat ready")
    pg_pid = read_pid(project / ".run" / "pgdata" / "postmaster.pid")

    assert supervisor.stop(signal.SIGTERM) == 0
    assert "[worker] fake celery worker: warm shutdown" in supervisor.output
    assert supervisor.lines[-1] == "stopped"
    assert port_is_free(web_port) and port_is_free(redis_port) and port_is_free(pg_port)
    assert gone(pg_pid)


def test_run_stops_when_a_child_dies(project: Path, supervisors: list):
    env = clean_env(
        DATABASE_URL="postgresql://postgres@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:1/0",
        TERMINO_WEB_PORT=str(find_free_port()),
        FAKE_BEAT_EXIT="2",
    )
    supervisor = Supervisor("run", project, env)
    supervisors.append(supervisor)

    assert supervisor.finish() == 1
    output = supervisor.output
    assert "PostgreSQL: using DATABASE_URL" in output and "Redis: using REDIS_URL" in output
    assert "error: beat (python -m celery -A termino beat" in output and "exited with code 2" in output
    assert supervisor.lines[-1] == "stopped"


def test_run_stops_when_a_setup_step_fails(project: Path, supervisors: list):
    env = clean_env(
        DATABASE_URL="postgresql://postgres@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:1/0",
        TERMINO_WEB_PORT=str(find_free_port()),
        FAKE_MIGRATE_EXIT="3",
    )
    supervisor = Supervisor("run", project, env)
    supervisors.append(supervisor)

    assert supervisor.finish() == 1
    output = supervisor.output
    assert "`python manage.py migrate_schemas --noinput` failed (exited with code 3)" in output
    assert "fill_schema_pool" not in output
    assert "[web]" not in output
