"""Probes, metrics and the request id: first in the middleware chain, on every host.

Kubernetes probes and Prometheus reach a pod by its IP over plain HTTP, so /healthz, /readyz and /metrics
are answered here, before tenant routing (which would not know the host) and the HTTPS redirect.
"""

import ipaddress
import logging
import secrets
import time

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from . import metrics
from .context import accept_or_new, request_id
from .health import readiness

logger = logging.getLogger("termino.requests")


class OperationsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path == "/healthz":
            return HttpResponse("ok\n", content_type="text/plain")
        if path == "/readyz":
            problems = readiness()
            return JsonResponse(
                {"ready": not problems, "problems": problems}, status=503 if problems else 200
            )
        if path == "/metrics":
            if not metrics_allowed(request):
                return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
            return HttpResponse(metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")

        token = request_id.set(accept_or_new(request.META.get("HTTP_X_REQUEST_ID")))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            identity = request_id.get()
            response["X-Request-ID"] = identity
            # Counted and logged when the server closes the response, after the client has it: neither
            # the metrics files nor the log line are part of any request's latency.
            response._resource_closers.append(lambda: _record(request, response, elapsed, identity))
            return response
        finally:
            request_id.reset(token)


def _record(request, response, elapsed: float, identity: str) -> None:
    token = request_id.set(identity)  # the log line carries the request's id
    try:
        route = _route(request)
        metrics.observe(request.method, route, response.status_code, elapsed)
        # The route pattern, never the path: paths carry booking and invitation tokens.
        logger.info(
            "%s %s %s %.1fms",
            request.method,
            route,
            response.status_code,
            elapsed * 1000,
            extra={
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 1),
            },
        )
    finally:
        request_id.reset(token)


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + match.route if match.route else match.view_name or "unmatched"


def metrics_allowed(request) -> bool:
    """With METRICS_TOKEN: the bearer token. Without: a direct caller on loopback or a private network.

    A request that came through a proxy (it carries X-Forwarded-For) is from outside, whatever its
    REMOTE_ADDR: behind an ingress every request arrives from a private address.
    """
    expected = settings.METRICS_TOKEN
    if expected:
        offered = request.headers.get("Authorization", "")
        return secrets.compare_digest(offered.encode(), f"Bearer {expected}".encode())
    if "HTTP_X_FORWARDED_FOR" in request.META:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return address.is_loopback or any(address in network for network in CLUSTER_NETWORKS)


# RFC 1918 and IPv6 unique local addresses: where pods and scrapers live. (ipaddress' is_private would
# also admit documentation and other reserved ranges.)
CLUSTER_NETWORKS = [
    ipaddress.ip_network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
]
