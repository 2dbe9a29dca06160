"""The one door of webhooks to the network: one POST, to an address checked by `targets`.

The connection goes to the address that was checked (not to a second DNS answer), with the host name in
the Host header and for TLS (SNI and certificate check). No redirects are followed (a 3xx is a failure),
timeouts are short, and only the start of the answer is read.
"""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from . import targets

EXCERPT_BYTES = 500
USER_AGENT = "Termino-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    excerpt: str = ""
    error: str = ""
    duration_ms: int = 0


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, *, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection(
            (self._address, self.port), timeout=settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS
        )
        self.sock.settimeout(self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, **kwargs):
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection(
            (self._address, self.port), timeout=settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS
        )
        sock.settimeout(self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(*, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url`; never raises for network trouble (the answer says what went wrong)."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        scheme, host, port, addresses = targets.resolve(url)
    except targets.TargetRefused as exc:
        return Answer(status_code=None, error=str(exc))
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    conn = cls(host, port, address=addresses[0], timeout=settings.WEBHOOKS_TIMEOUT_SECONDS)
    try:
        conn.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        response = conn.getresponse()
        excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
        return Answer(status_code=response.status, excerpt=excerpt, duration_ms=elapsed())
    except (OSError, http.client.HTTPException) as exc:
        return Answer(status_code=None, error=(str(exc) or type(exc).__name__)[:300], duration_ms=elapsed())
    finally:
        conn.close()
