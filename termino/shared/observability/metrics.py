"""Prometheus metrics: HTTP requests and latency (per process, merged across gunicorn workers), plus
queue depth, messages by status and businesses by status, read when scraped.

Under gunicorn, PROMETHEUS_MULTIPROC_DIR is set (deploy/gunicorn.conf.py) before this module is first
imported, so each worker writes its samples to files there and a scrape of any worker sees them all.
"""

import os

from django.conf import settings
from django.db.models import Count
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
        yield tenants_by_status()


def queue_names() -> list[str]:
    names = {getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")}
    for route in (getattr(settings, "CELERY_TASK_ROUTES", None) or {}).values():
        if isinstance(route, dict) and route.get("queue"):
            names.add(route["queue"])
    return sorted(names)


def tenants_by_status() -> GaugeMetricFamily:
    from termino.platform.tenancy.models import Tenant

    family = GaugeMetricFamily(
        "termino_businesses", "Businesses (and spare schemas) by status", labels=["status"]
    )
    rows = Tenant.objects.order_by().values_list("status").annotate(n=Count("pk"))
    for status, count in sorted(rows):
        family.add_metric([status], count)
    return family


def render() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(LiveCollector())
    return generate_latest(registry)
