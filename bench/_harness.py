"""Shared set-up for the benchmarks: a fresh database on the embedded (or configured) server, migrated.

Each benchmark prints one JSON line per measure on stdout; progress goes to stderr.
"""

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from termino.devserver.ports import find_free_port, port_answers  # noqa: E402 - needs ROOT on the path


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def emit(**measure) -> None:
    print(json.dumps(measure), flush=True)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(name: str, seconds: list[float], **extra) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "bench": name,
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "n": len(ms),
        **extra,
    }


def setup_django(database: str = "termino_bench") -> None:
    """Start throw-away services unless DATABASE_URL/REDIS_URL are set, create `database` afresh, migrate."""
    import psycopg
    from psycopg import sql

    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        from termino.devserver.testing import start_test_services

        database_url, redis_url = start_test_services(ROOT)
        os.environ.setdefault("DATABASE_URL", database_url)
        os.environ.setdefault("REDIS_URL", redis_url)
    server_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    os.environ["DATABASE_URL"] = f"{server_url}/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "termino.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only")

    import django
    from django.core.management import call_command

    django.setup()
    log(f"migrating {database} ...")
    call_command("migrate_schemas", interactive=False, verbosity=0)


def bench_signup(slug: str, password_hash: str):
    """A valid signup for a throw-away business (Django must be set up)."""
    from termino.platform.tenancy.services import BusinessSignup

    return BusinessSignup(
        slug=slug,
        company_name=f"Bench {slug}",
        owner_name="Bea Bench",
        email=f"bea@{slug}.example",
        password_hash=password_hash,
        phone="+493012345678",
        street="Benchweg 1",
        postcode="10115",
        city="Berlin",
        country="DE",
    )


# What nginx adds in production (deploy/nginx/termino.conf): the benches' gunicorn trusts one proxy, so
# requests count as HTTPS and are not redirected (SECURE_SSL_REDIRECT is on without DEBUG).
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


@contextlib.contextmanager
def gunicorn(workers: int = 2, config: bool = False, **env: str):
    """Serve termino.wsgi with gunicorn on a free port, as in production behind one proxy; yields the port.

    With `config`, deploy/gunicorn.conf.py as deployed (gthread workers, keep-alive, warm-up), and only
    once every worker has warmed up (its "Worker ready" line; termino/shared/warmup.py): a measure that
    starts while workers still boot measures their start. gunicorn's log then goes to a file, printed to
    stderr if it does not start."""
    import tempfile

    port = find_free_port()
    conf = ["-c", str(ROOT / "deploy" / "gunicorn.conf.py")] if config else []
    command = [sys.executable, "-m", "gunicorn", *conf, "termino.wsgi", "-b", f"127.0.0.1:{port}",
               "-w", str(workers), "--log-level", "info" if config else "warning"]  # fmt: skip
    env = {**os.environ, "NUM_PROXIES": "1", **env}
    if not config:
        with _serving(command, port, "gunicorn", 30, cwd=ROOT, env=env):
            yield port
        return
    with tempfile.NamedTemporaryFile(prefix="termino-bench-gunicorn-", suffix=".log") as log_file:
        log_path = Path(log_file.name)

        def ready() -> bool:
            return log_path.read_text(errors="replace").count("Worker ready: ") >= workers

        try:
            with _serving(command, port, "gunicorn", 60, cwd=ROOT, env=env, stderr=log_file, ready=ready):
                yield port
        except RuntimeError:
            sys.stderr.write(log_path.read_text(errors="replace")[-5000:])
            raise


@contextlib.contextmanager
def _serving(command: list[str], port: int, what: str, timeout: float, ready=None, **popen):
    """Run `command` until the block ends, once it listens on `port` (and `ready()`, if given) within
    `timeout` seconds."""
    server = subprocess.Popen(command, **popen)
    try:
        deadline = time.monotonic() + timeout
        while not port_answers(port) or (ready is not None and not ready()):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"{what} did not listen on port {port}")
            time.sleep(0.05)
        yield
    finally:
        server.terminate()
        server.wait(10)


NGINX_HASHING = """\
{user}worker_processes 1;
pid {tmp}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 512; }}
http {{
{temp_paths}
  access_log off;
  upstream web {{
    hash $host consistent;
{servers}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://web;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $http_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;
    }}
  }}
}}
"""


@contextlib.contextmanager
def host_hashing_proxy(ports: list[int]):
    """nginx in front of `ports`, sending each Host to the same one (`hash $host consistent`), as the
    ingress does with the chart's ingress.hostAffinity; yields nginx's port. It passes the client's
    X-Forwarded-* through unchanged, so the app sees what one proxy in front of it would tell."""
    import pwd
    import tempfile

    from termino.devserver.tools import tool

    binary, env = tool("nginx")
    port = find_free_port()
    with tempfile.TemporaryDirectory(prefix="termino-bench-nginx-") as tmp:
        kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        for kind in kinds:
            os.mkdir(f"{tmp}/{kind}")
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(
            NGINX_HASHING.format(
                # Started by root, nginx's worker would switch to `nobody`, who cannot use the directory.
                user=f"user {pwd.getpwuid(os.getuid()).pw_name};\n" if os.geteuid() == 0 else "",
                tmp=tmp,
                port=port,
                servers="\n".join(f"    server 127.0.0.1:{p};" for p in ports),
                temp_paths="\n".join(f"  {kind}_temp_path {tmp}/{kind};" for kind in kinds),
            )
        )
        command = [binary, "-p", tmp, "-c", str(conf), "-g", "daemon off;"]
        with _serving(command, port, "nginx", 10, env=env, start_new_session=True):
            yield port
