"""The request id of the work in hand, for log lines and for tasks queued while handling a request."""

import re
import uuid
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")

# An id handed in by a proxy (X-Request-ID) is kept only if it is short and plain: it ends up in logs.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{8,128}")


def accept_or_new(offered: str | None) -> str:
    if offered and _ACCEPTED.fullmatch(offered):
        return offered
    return uuid.uuid4().hex
