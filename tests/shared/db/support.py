"""A real PgBouncer in front of the test database, and database aliases added to Django for a test."""

import copy
import secrets
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import connection, connections
from django_tenants.utils import schema_context

from termino.devserver.ports import HOST, find_free_port, port_answers
from termino.devserver.system_user import give_to, make_traversable, postgres_system_user, run_as_kwargs
from termino.devserver.tools import tool
from termino.tenants.crm.models import Customer

CONFIG = """\
[databases]
{name} = host={db_host} port={db_port} dbname={name}

[pgbouncer]
listen_addr = {host}
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {userlist}
pool_mode = {pool_mode}
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_db_connections = {pool_size}
max_client_conn = 100
server_reset_query = DISCARD ALL
log_connections = 0
log_disconnections = 0
"""


@contextmanager
def pgbouncer(*, pool_mode: str, pool_size: int) -> Iterator[dict]:
    """Run PgBouncer on a free port in front of the test database; yields the settings dict to reach it."""
    try:
        binary, env = tool("pgbouncer")
    except FileNotFoundError as exc:
        raise AssertionError(f"these tests need a real PgBouncer: {exc}") from exc
    target = connection.settings_dict
    user = postgres_system_user()  # PgBouncer refuses to run as root, as PostgreSQL does
    workdir = Path(tempfile.mkdtemp(prefix="termino-pgbouncer-"))
    make_traversable(workdir)
    give_to(workdir, user)
    userlist = workdir / "userlist.txt"
    userlist.write_text(f'"{target["USER"]}" ""\n')
    port = find_free_port()
    ini = workdir / "pgbouncer.ini"
    ini.write_text(
        CONFIG.format(
            name=target["NAME"],
            db_host=target["HOST"] or HOST,
            db_port=target["PORT"],
            host=HOST,
            port=port,
            userlist=userlist,
            pool_mode=pool_mode,
            pool_size=pool_size,
        )
    )
    log = (workdir / "pgbouncer.log").open("w")
    process = subprocess.Popen(
        [binary, str(ini)], env=env, stdout=log, stderr=subprocess.STDOUT, **run_as_kwargs(user)
    )
    try:
        deadline = time.monotonic() + 10
        while not port_answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"PgBouncer did not start: {(workdir / 'pgbouncer.log').read_text()}")
            time.sleep(0.05)
        settings_dict = copy.deepcopy(target)
        settings_dict.update(HOST=HOST, PORT=str(port), CONN_MAX_AGE=0, CONN_HEALTH_CHECKS=False)
        yield settings_dict
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()


def connect(settings_dict: dict, **options) -> psycopg.Connection:
    """A plain psycopg connection (autocommit) to the server a Django settings dict names."""
    return psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"],
        user=settings_dict["USER"],
        dbname=settings_dict["NAME"],
        autocommit=True,
        **options,
    )


def pool_settings(settings_dict: dict, pool_mode: str) -> dict:
    """A copy of `settings_dict` for our backend in `pool_mode`, as settings.py configures it."""
    settings_dict = copy.deepcopy(settings_dict)
    settings_dict.update(POOL_MODE=pool_mode, DISABLE_SERVER_SIDE_CURSORS=pool_mode == "transaction")
    return settings_dict


@contextmanager
def database_alias(settings_dict: dict) -> Iterator[str]:
    """`settings_dict` as a Django database alias for the ORM (`.using(alias)`), removed afterwards.

    Threads get their own connection under the alias (Django's connections are per thread) and must close
    it themselves; this closes the calling thread's.
    """
    alias = f"test_{secrets.token_hex(4)}"
    connections.settings[alias] = copy.deepcopy(settings_dict)  # from a configured entry: every key is set
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@dataclass
class Marked:
    """Committed customers of the businesses A and B whose last names start with `marker`."""

    marker: str
    names: dict[str, list[str]]  # schema -> last names


@contextmanager
def marked_customers(counts: dict[str, int]) -> Iterator[Marked]:
    """Commit `counts[schema]` customers in each schema, named after it; delete them afterwards."""
    marker = f"pgb{secrets.token_hex(3)}-"
    names: dict[str, list[str]] = {}
    try:
        for schema, count in counts.items():
            with schema_context(schema):
                names[schema] = [f"{marker}{schema}-{n}" for n in range(count)]
                Customer.objects.bulk_create(Customer(last_name=name) for name in names[schema])
        yield Marked(marker=marker, names=names)
    finally:
        for schema in counts:
            with schema_context(schema):
                Customer.objects.filter(last_name__startswith=marker).delete()


def prepared_statements(containing: str) -> dict[str, tuple[int, int]]:
    """{schema of the business it names, or "shared": (generic plans used, custom plans made)} of the
    statements prepared on the test's connection whose text contains `containing`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE strpos(statement, %s) > 0",
            [containing],
        )
        rows = cursor.fetchall()
    schemas = [business.schema for business in pytest.termino_businesses]
    return {
        next((s for s in schemas if f'"{s}".' in text), "shared"): (generic, custom)
        for text, generic, custom in rows
    }
