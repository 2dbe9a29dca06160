"""What transaction-pooling mode costs: simple ORM reads of one business, session vs transaction mode.

Straight to PostgreSQL, the difference is the backend's own work (a `SET LOCAL search_path` parsed and run
in front of every statement, in the same round trip). Through a real PgBouncer (transaction pooling vs
session pooling) it is what a deployment sees. Modes alternate in rounds so a noisy machine hits all of
them alike. `.venv/bin/python bench/pgbouncer.py [N]` (N reads per mode, default 5000)
"""

import copy
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from _harness import bench_signup, emit, log, setup_django, summary_ms

ROUNDS = 10


@contextmanager
def pgbouncer(settings_dict: dict, pool_mode: str):
    """A PgBouncer in front of the bench database; yields the port."""
    from termino.devserver.ports import HOST, find_free_port, wait_for_port
    from termino.devserver.system_user import give_to, make_traversable, postgres_system_user, run_as_kwargs
    from termino.devserver.tools import tool

    binary, env = tool("pgbouncer")
    user = postgres_system_user()  # PgBouncer refuses to run as root
    with tempfile.TemporaryDirectory(prefix="termino-bench-pgbouncer-") as tmp:
        workdir = Path(tmp)
        make_traversable(workdir)
        give_to(workdir, user)
        (workdir / "users.txt").write_text(f'"{settings_dict["USER"]}" ""\n')
        port = find_free_port()
        (workdir / "pgbouncer.ini").write_text(
            f"[databases]\n{settings_dict['NAME']} = "
            f"host={settings_dict['HOST']} port={settings_dict['PORT']}\n"
            f"[pgbouncer]\nlisten_addr = {HOST}\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {workdir / 'users.txt'}\npool_mode = {pool_mode}\n"
            "default_pool_size = 4\nlog_connections = 0\nlog_disconnections = 0\n"
        )
        process = subprocess.Popen(
            [binary, str(workdir / "pgbouncer.ini")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **run_as_kwargs(user),
        )
        try:
            if not wait_for_port(port, timeout=10):
                raise RuntimeError("PgBouncer did not start")
            yield port
        finally:
            process.terminate()
            process.wait(timeout=10)


def main(n: int) -> None:
    setup_django("termino_bench_pgbouncer")
    from django.contrib.auth.hashers import make_password
    from django.db import connection, connections
    from django_tenants.utils import schema_context

    from termino.platform.tenancy import services
    from termino.tenants.crm.models import Customer

    log("provisioning one business with 20 customers ...")
    services.schema_pool_fill(size=1)
    tenant = services.tenant_provision(signup=bench_signup("pooling", make_password("Bench-Password-2026")))
    with schema_context(tenant.schema_name):
        ids = [Customer.objects.create(last_name=f"Kundin {i}").pk for i in range(20)]

    def add_alias(name: str, pool_mode: str, port: str | None = None) -> str:
        settings_dict = copy.deepcopy(connection.settings_dict)
        settings_dict.update(POOL_MODE=pool_mode, DISABLE_SERVER_SIDE_CURSORS=pool_mode == "transaction")
        settings_dict.update(CONN_MAX_AGE=None, CONN_HEALTH_CHECKS=False)
        if port:
            settings_dict.update(HOST="127.0.0.1", PORT=port)
        connections.settings[name] = settings_dict
        connections[name].set_schema(tenant.schema_name)
        return name

    def reads(alias: str, count: int) -> list[float]:
        times = []
        for i in range(count):
            started = time.perf_counter()
            Customer.objects.using(alias).get(pk=ids[i % len(ids)])
            times.append(time.perf_counter() - started)
        return times

    with (
        pgbouncer(connection.settings_dict, "transaction") as transaction_port,
        pgbouncer(connection.settings_dict, "session") as session_port,
    ):
        aliases = {
            "orm_read_direct_session": add_alias("direct_session", "session"),
            "orm_read_direct_transaction": add_alias("direct_transaction", "transaction"),
            "orm_read_pgbouncer_session": add_alias("pgbouncer_session", "session", str(session_port)),
            "orm_read_pgbouncer_transaction": add_alias(
                "pgbouncer_transaction", "transaction", str(transaction_port)
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in aliases}
        for alias in aliases.values():
            reads(alias, 200)  # connect, warm caches
        log(f"{n} reads per mode, in {ROUNDS} alternating rounds ...")
        for _ in range(ROUNDS):
            for name, alias in aliases.items():
                times[name] += reads(alias, n // ROUNDS)
        for alias in aliases.values():
            connections[alias].close()

    results = {
        name: summary_ms(name, seconds, total_s=round(sum(seconds), 3)) for name, seconds in times.items()
    }
    for result in results.values():
        emit(**result)
    for where in ("direct", "pgbouncer"):
        session, transaction = results[f"orm_read_{where}_session"], results[f"orm_read_{where}_transaction"]
        emit(
            bench=f"transaction_mode_overhead_{where}",
            p50_pct=round(100 * (transaction["p50_ms"] / session["p50_ms"] - 1), 1),
            total_pct=round(100 * (transaction["total_s"] / session["total_s"] - 1), 1),
            p50_us=round(1000 * (transaction["p50_ms"] - session["p50_ms"]), 1),
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
