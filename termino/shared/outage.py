"""When the database or Redis is away: a fast 503 with Retry-After instead of a 500.

A PostgreSQL restart (or failover) and a Redis outage are moments, not bugs: the client should try again in a
few seconds, and a proxy or monitor should see "unavailable", not "broken". Requests fail fast because
nothing waits long for an absent server (`connect_timeout` on database connections, socket timeouts on every
Redis client), and Django's own per-request connection handling (`conn_health_checks`, closing unusable
connections) reconnects by itself once the server is back.

Exceptions reach us two ways. Those raised by a view come to `process_exception`. Those raised in another
middleware (the tenant routing reads the database; sessions and authentication do too) are turned into a 500
by Django's handler around that middleware before any outer middleware could see them; Django then sends
`got_request_exception` with the request, which `remember` uses to note the exception on the request, and
`OutageMiddleware.__call__`, the outermost application middleware, swaps that 500 for a 503. This works with
DEBUG on (where Django shows its technical 500 page, not handler500) and off alike.

What counts as an outage: `django.db.OperationalError` and `InterfaceError` (server gone, connection lost,
"the database system is starting up" or "shutting down"), Redis connection and timeout errors, and the
broker being unreachable (kombu's OperationalError). Programming errors (bad SQL, integrity violations) stay
500s: retrying would not help.
"""

import logging

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = _(
    "The service is briefly unavailable (a server is restarting). Please try again in a few seconds; "
    "nothing was changed."
)
_EXCEPTION_ATTRIBUTE = "_termino_outage"


def _outage_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [OperationalError, InterfaceError]
    try:
        import redis

        types += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    try:
        import kombu.exceptions

        types.append(kombu.exceptions.OperationalError)
    except ImportError:  # pragma: no cover - kombu comes with Celery
        pass
    return tuple(types)


OUTAGE_TYPES = _outage_types()


def is_outage(exc: BaseException | None) -> bool:
    """The exception, or one it was raised from, says a server is away."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OUTAGE_TYPES):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def unavailable_response(request):
    """503 in the endpoint's format (JSON under /api/, a small page elsewhere), with Retry-After."""
    from .guard.responses import Refusal, refusal_response

    response = refusal_response(request, Refusal(503, MESSAGE))
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def remember(sender, request=None, **kwargs) -> None:
    """got_request_exception receiver: note an outage on the request for OutageMiddleware."""
    import sys

    exc = sys.exception()
    if request is not None and is_outage(exc):
        setattr(request, _EXCEPTION_ATTRIBUTE, exc)


got_request_exception.connect(remember, dispatch_uid="termino.shared.outage.remember")


class OutageMiddleware:
    """Outermost after the probes: a request that failed because PostgreSQL or Redis was away gets a 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        exc = getattr(request, _EXCEPTION_ATTRIBUTE, None)
        if exc is not None and response.status_code >= 500:
            logger.warning("answered 503: %s: %s", type(exc).__name__, str(exc).strip()[:200])
            return unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if is_outage(exception):
            setattr(request, _EXCEPTION_ATTRIBUTE, exception)
            logger.warning("answered 503: %s: %s", type(exception).__name__, str(exception).strip()[:200])
            return unavailable_response(request)
        return None
