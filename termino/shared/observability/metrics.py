"""Prometheus metrics: HTTP requests and latency (per process, merged across gunicorn workers), plus
queue depth, messages by status and businesses by status, read when scraped.

Under gunicorn, PROMETHEUS_MULTIPROC_DIR is set (deploy/gunicorn.conf.py) before this module is first
imported, so each worker writes its samples to files there and a scrape of any worker sees them all.
"""

import os

from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from . import counters
from .redis_client import client

REQUESTS = Counter(
    "termino_http_requests",
    "HTTP requests answered, by method, route and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "termino_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


class LiveCollector:
    """What is read fresh at every scrape: Celery queue lengths, message counters, businesses by status."""

    def collect(self):
        queues = GaugeMetricFamily(
            "termino_queue_length", "Tasks waiting in a Celery queue", labels=["queue"]
        )
        broker = client(settings.CELERY_BROKER_URL)
        for queue in queue_names():
            queues.add_metric([queue], broker.llen(queue))
        yield queues
        messages = CounterMetricFamily(
            "termino_messages",
            "Outbox messages handled by the workers, by channel and outcome",
            labels=["channel", "status"],
        )
        for (channel, status), count in sorted(counters.messages_read().items()):
            messages.add_metric([channel, status], count)
        yield messages
        for collector in _extra_collectors:
            yield from collector()


def queue_names() -> list[str]:
    names = {getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")}
    for route in (getattr(settings, "CELERY_TASK_ROUTES", None) or {}).values():
        if isinstance(route, dict) and route.get("queue"):
            names.add(route["queue"])
    return sorted(names)


# Gauges the platform adds (businesses by status): shared code names no platform model.
_extra_collectors: list = []


def register_live(collector) -> None:
    """Add a function that yields metric families read fresh at every scrape (e.g. from an app's ready())."""
    if collector not in _extra_collectors:
        _extra_collectors.append(collector)


def render() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(LiveCollector())
    return generate_latest(registry)
