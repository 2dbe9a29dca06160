"""Access log: one entry per request pushed to Redis, never a database write on the request's path.

Goes right after the tenant routing middleware (it needs `request.tenant`; hosts the router answers itself,
unknown ones and closed businesses, are not logged). An entry is pushed once the answer is sent, and logging
can never fail a request or delay the next one by more than the Redis timeout: every error is swallowed,
logged once, and logging pauses for a few seconds.
"""

import logging
from datetime import UTC, datetime

from django.conf import settings

from . import buffer, recording

logger = logging.getLogger(__name__)


class AccessLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        at = datetime.now(UTC)
        response = self.get_response(request)
        if getattr(settings, "ACCESS_LOG_ENABLED", True) and recording.is_logged(request.path):
            # Recorded when the server closes the response, i.e. after the client has it: the Redis round
            # trip is not part of any request's latency (the test client closes responses too).
            response._resource_closers.append(lambda: self.record(request, response, at))
        return response

    @staticmethod
    def record(request, response, at) -> None:
        if not buffer.breaker.allows():
            return
        try:
            entry = recording.entry_for(request, response, at=at)
            if entry is not None:
                buffer.push(entry)
        except Exception:
            if buffer.breaker.trip():
                logger.warning("access log: could not record a request; pausing", exc_info=True)
