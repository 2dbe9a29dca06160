"""gunicorn settings for the web process: `gunicorn -c deploy/gunicorn.conf.py termino.wsgi`.

Every knob comes from the environment, with defaults for one container behind one proxy (nginx or an
ingress). gunicorn reads this file in the master, before any worker exists.
"""

import os
from pathlib import Path


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use, not the host's
    except AttributeError:
        return os.cpu_count() or 1


def _debug() -> bool:
    # The same reading as termino/settings.py, so the log format follows the app's.
    return os.environ.get("DEBUG", "1").strip().lower() in {"1", "true", "yes", "on"}


# --- Listening and workers ---------------------------------------------------------------------------
bind = [f"0.0.0.0:{_int('PORT', 8000)}"]
# 2 × cores + 1, capped: every worker keeps its own database connection, and a connection caches catalog
# entries of every schema it touched, so more workers cost memory long before they add throughput.
# In Kubernetes the CPU limit is not visible here: set WEB_CONCURRENCY to match it.
workers = _int("WEB_CONCURRENCY", min(2 * _cores() + 1, 8))
# gthread even with one thread: idle keep-alive connections from the proxy wait in the worker's poller
# instead of being closed after every response (the sync worker cannot keep a connection open). Measured
# against sync workers (bench/booking_load.py through nginx): at a person's pace p95 67-112 ms (three runs)
# against 179-259 (two), 13-16 ms of CPU a request against 19-20; when saturated 62-75 requests/s against
# 86-89 (a busy gthread worker still takes connections, so some queue behind it while another idles).
# Where throughput at saturation matters more: GUNICORN_CMD_ARGS="--worker-class sync".
# Only behind the proxy: a client holding kept-alive connections of its own straight to the workers waits
# on a busy one while others idle (booking p95 543 ms; through nginx, which reuses the connection freed
# last, 105).
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
# Shorter than Kubernetes' default 30 s termination grace period, so requests in flight finish first.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
# Longer than the proxy keeps idle upstream connections (nginx: 60 s, deploy/nginx/termino.conf): the
# proxy closes first, so it never sends a request on a connection gunicorn is closing (a 502).
keepalive = _int("GUNICORN_KEEPALIVE", 75)
# Recycle workers now and then, against slow growth of the Python process. Rarely: a recycled worker loses
# its connection, whose catalog entries of the businesses it served (bounded by CONN_MAX_SCHEMAS) were
# what made their requests cheap. The jitter keeps the workers from restarting all at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 50_000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 5_000)
# The heartbeat file is touched constantly; on tmpfs that never blocks on a disk (and / may be read-only).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp"  # noqa: S108
# Whose X-Forwarded-Proto gunicorn believes (wsgi.url_scheme). Django reads the header itself
# (SECURE_PROXY_SSL_HEADER with NUM_PROXIES); behind an ingress set this to its network or "*".
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Each worker imports the app after the fork: no database or Redis connection is ever shared between
# processes, every worker opens its own Prometheus sample files, and a recycled worker (max_requests)
# starts clean. Costs a second or two of start-up per worker and the copy-on-write memory sharing.
preload_app = False

# --- Logging -----------------------------------------------------------------------------------------
# The app logs every request itself (route, status, duration, request id), without IP addresses.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
if os.environ.get("LOG_FORMAT", "text" if _debug() else "json") == "json":
    # gunicorn's own lines (start, worker boot and timeout) as JSON objects, like the app's.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            # The fields of termino.shared.observability.logs.JsonFormatter, without importing termino
            # (and with it Celery and Django) into the master.
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
        },
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
    }

# --- Prometheus, multi-process -----------------------------------------------------------------------
# Set here, in the master, so every worker inherits it before anything imports prometheus_client.
METRICS_DIR = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/termino-prometheus"))  # noqa: S108


def on_starting(server):
    """Samples of a previous master's workers would be added to this one's: start empty."""
    METRICS_DIR.mkdir(parents=True, exist_ok=True)
    for stale in METRICS_DIR.glob("*.db"):
        stale.unlink(missing_ok=True)


def child_exit(server, worker):
    """A dead worker's live gauges must stop counting; its counters and histograms stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Ready before the first request: views imported, templates compiled, start-up objects frozen out of
    the garbage collector's way (termino/shared/warmup.py)."""
    from termino.shared.warmup import warm

    try:
        done = warm()
    except Exception:  # a worker that could not warm up still serves, only slower at first
        worker.log.exception("Worker warm-up failed; serving without it")
        return
    worker.log.info(
        "Worker ready: %(templates)d templates compiled, %(frozen_objects)d objects frozen, in %(ms)d ms",
        done,
    )
