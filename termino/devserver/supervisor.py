"""`make run`: embedded services, migrations and demo data, then web + Celery worker + beat in one terminal.

Environment:
  DATABASE_URL / REDIS_URL          use these servers instead of starting embedded ones
  TERMINO_PG_PORT (54329)           port of the embedded PostgreSQL
  TERMINO_REDIS_PORT (63799)        port of the embedded Redis
  TERMINO_WEB_PORT (8000)           port of runserver
  TERMINO_NORELOAD                  set to run runserver without autoreload
  TERMINO_RUN_DIR (./.run)          where data, logs and the beat schedule live
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .banner import welcome_box
from .children import Child, describe_exit, say, stop_children
from .errors import ServiceError
from .ports import HOST, parse_port, port_answers, port_is_free
from .postgres import EmbeddedPostgres
from .redis import EmbeddedRedis

DEFAULT_PG_PORT = 54329
DEFAULT_REDIS_PORT = 63799
DEFAULT_WEB_PORT = 8000
DATABASE_NAME = "termino"
CHILD_STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class DevConfig:
    root: Path
    run_dir: Path
    database_url: str | None
    redis_url: str | None
    pg_port: int
    redis_port: int
    web_port: int
    noreload: bool

    @classmethod
    def from_env(cls, root: Path, environ: dict[str, str] | None = None) -> "DevConfig":
        env = os.environ if environ is None else environ
        run_dir = Path(env.get("TERMINO_RUN_DIR") or root / ".run")
        return cls(
            root=root,
            run_dir=run_dir if run_dir.is_absolute() else root / run_dir,
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            pg_port=parse_port(env.get("TERMINO_PG_PORT"), DEFAULT_PG_PORT, "TERMINO_PG_PORT"),
            redis_port=parse_port(env.get("TERMINO_REDIS_PORT"), DEFAULT_REDIS_PORT, "TERMINO_REDIS_PORT"),
            web_port=parse_port(env.get("TERMINO_WEB_PORT"), DEFAULT_WEB_PORT, "TERMINO_WEB_PORT"),
            noreload=env.get("TERMINO_NORELOAD", "").strip().lower() not in ("", "0", "false", "no"),
        )


def shown(path: Path) -> str:
    """A path as the developer would type it: relative to the current directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class StopRequest:
    """SIGINT/SIGTERM only set a flag that the loops check: an exception raised at a random point could
    leave a server half-started and unowned, i.e. never stopped."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def install(self) -> "StopRequest":
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, _frame) -> None:
        if self.signum is None:
            self.signum = signum

    @property
    def requested(self) -> bool:
        return self.signum is not None


class DevServices:
    """PostgreSQL and Redis for development: embedded ones unless DATABASE_URL / REDIS_URL are given."""

    def __init__(self, config: DevConfig):
        self.config = config
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self.database_url = config.database_url
        self.redis_url = config.redis_url

    def start(self) -> None:
        config = self.config
        config.run_dir.mkdir(parents=True, exist_ok=True)
        if self.database_url:
            say("PostgreSQL: using DATABASE_URL")
        else:
            data_dir = config.run_dir / "pgdata"
            self.postgres = EmbeddedPostgres(data_dir, config.pg_port)
            self.postgres.start()
            self.postgres.ensure_database(DATABASE_NAME)
            self.database_url = self.postgres.url_for(DATABASE_NAME)
            reused = "" if self.postgres.started_by_us else " (already running, reused)"
            say(f"PostgreSQL: embedded, {HOST}:{config.pg_port}, data in {shown(data_dir)}{reused}")
        if self.redis_url:
            say("Redis: using REDIS_URL")
        else:
            data_dir = config.run_dir / "redis"
            self.redis = EmbeddedRedis(data_dir, config.redis_port)
            self.redis.start()
            self.redis_url = self.redis.url
            reused = "" if self.redis.started_by_us else " (already running, reused)"
            say(f"Redis: embedded, {HOST}:{config.redis_port}, data in {shown(data_dir)}{reused}")

    def problem(self) -> str | None:
        """Why the embedded services are no longer usable, or None while they run."""
        if self.postgres is not None and not self.postgres.is_running():
            return f"PostgreSQL stopped unexpectedly; see {shown(self.postgres.log_file)}"
        if self.redis is not None and not self.redis.is_running():
            return f"Redis stopped unexpectedly; see {shown(self.redis.log_file)}"
        return None

    def stop(self) -> None:
        """Stop the servers this run started (a reused server belongs to whoever started it)."""
        for service in (self.redis, self.postgres):
            if service is None:
                continue
            try:
                service.stop()
            except ServiceError as exc:
                say(f"error: {exc}", err=True)

    def child_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url or "",
            "REDIS_URL": self.redis_url or "",
            # So seed_demo writes demo-logins.json where the welcome box looks for it.
            "TERMINO_RUN_DIR": str(self.config.run_dir),
            "PYTHONUNBUFFERED": "1",
        }


def setup_steps(python: str) -> list[tuple[str, list[str]]]:
    return [
        ("Applying migrations", [python, "manage.py", "migrate_schemas", "--noinput"]),
        ("Filling the schema pool", [python, "manage.py", "fill_schema_pool"]),
        ("Seeding the demo business", [python, "manage.py", "seed_demo"]),
    ]


def child_commands(python: str, config: DevConfig) -> list[tuple[str, list[str]]]:
    runserver = [python, "manage.py", "runserver", f"{HOST}:{config.web_port}"]
    if config.noreload:
        runserver.append("--noreload")
    celery = [python, "-m", "celery", "-A", "termino"]
    schedule = str(config.run_dir / "celerybeat-schedule")
    return [
        ("web", runserver),
        ("worker", [*celery, "worker", "--loglevel=INFO", "--concurrency=2"]),
        ("beat", [*celery, "beat", "--loglevel=INFO", "--schedule", schedule]),
    ]


def _command_text(args: Sequence[str]) -> str:
    return " ".join(["python", *args[1:]])


def run_step(title: str, args: list[str], *, env: dict[str, str], cwd: Path, stop: StopRequest) -> int | None:
    """Run one setup command in the foreground; its exit code, or None if we were asked to stop."""
    say(f"==> {title}: {_command_text(args)}")
    # Same process group as us on purpose: a Ctrl-C interrupts a long migration right away.
    process = subprocess.Popen(args, env=env, cwd=cwd)
    while process.poll() is None:
        if stop.requested:
            process.terminate()
            try:
                process.wait(CHILD_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            return None
        time.sleep(0.1)
    return None if stop.requested else process.returncode


def run(config: DevConfig) -> int:
    """`python -m termino.devserver run`; returns the exit code."""
    stop = StopRequest().install()
    services = DevServices(config)
    children: list[Child] = []
    python = sys.executable
    try:
        if not (config.root / "manage.py").exists():
            raise ServiceError(f"No manage.py in {config.root}; run `make run` from the project root.")
        if not port_is_free(config.web_port):
            raise ServiceError(
                f"Port {config.web_port} for the web server is taken by another process (another "
                f"`make run`?); stop it or set TERMINO_WEB_PORT to a free port."
            )
        services.start()
        env = services.child_env()
        for title, args in setup_steps(python):
            if stop.requested:
                return 0
            code = run_step(title, args, env=env, cwd=config.root, stop=stop)
            if code is None:
                return 0
            if code != 0:
                say(
                    f"error: `{_command_text(args)}` failed ({describe_exit(code)}); see its output above. "
                    f"Fix the problem and run `make run` again.",
                    err=True,
                )
                return 1
        for name, args in child_commands(python, config):
            child = Child(name, args, env=env, cwd=config.root)
            child.start()
            children.append(child)
        return _watch(children, services, config, stop)
    except ServiceError as exc:
        say(f"error: {exc}", err=True)
        return 1
    finally:
        say("stopping ...")
        stop_children(children, CHILD_STOP_TIMEOUT)
        services.stop()
        say("stopped")


def _watch(children: list[Child], services: DevServices, config: DevConfig, stop: StopRequest) -> int:
    welcomed = False
    while not stop.requested:
        for child in children:
            code = child.poll()
            if code is not None:
                child.finish_output()
                say(f"error: {child.name} ({_command_text(child.args)}) {describe_exit(code)}", err=True)
                return 1
        problem = services.problem()
        if problem:
            say(f"error: {problem}", err=True)
            return 1
        if not welcomed and port_answers(config.web_port):
            say(welcome_box(config.web_port, _logins_file(config)))
            welcomed = True
        time.sleep(0.2)
    return 0


def _logins_file(config: DevConfig) -> Path:
    # seed_demo may write to the project's .run even when TERMINO_RUN_DIR points elsewhere.
    candidates = [config.run_dir / "demo-logins.json", config.root / ".run" / "demo-logins.json"]
    return next((path for path in candidates if path.exists()), candidates[0])


def services_only(config: DevConfig) -> int:
    """`python -m termino.devserver services`: PostgreSQL and Redis only, until Ctrl-C."""
    stop = StopRequest().install()
    services = DevServices(config)
    try:
        services.start()
        say(f"export DATABASE_URL={services.database_url}")
        say(f"export REDIS_URL={services.redis_url}")
        say("Press Ctrl-C to stop.")
        while not stop.requested:
            problem = services.problem()
            if problem:
                say(f"error: {problem}", err=True)
                return 1
            time.sleep(0.2)
        return 0
    except ServiceError as exc:
        say(f"error: {exc}", err=True)
        return 1
    finally:
        services.stop()
        say("stopped")
