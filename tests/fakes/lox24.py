"""A local fake of LOX24's SMS API for tests: a real HTTP server on 127.0.0.1 (free port) in a thread.

    with FakeLox24() as fake:
        gateway = Lox24Gateway(fake.url, fake.token)
        gateway.send(...)
        fake.messages        # every accepted JSON body, exactly as received
        fake.ids             # the uuid given to each of them, in the same order
        fake.fail_next(503, times=2)
        fake.stall_next(2.0)  # the next request waits 2 s before it is answered
        fake.delay_replies(0.5)  # accept at once, answer half a second later
        fake.delivery_payload(provider_id, 1)   # an `sms.delivery` webhook event

It speaks `POST /sms` and `GET /sms` (the postbox, filtered) as documented (https://doc.lox24.eu/api/operations/api_sms_post_collection/):
header `X-LOX24-AUTH-TOKEN` (else 401), JSON body validated with the documented rules (sender_id
`^(\\+?[1-9]\\d{0,14}|[a-zA-Z0-9 ]{1,11})$`, phone E.164, text up to 1530 characters or 670 when it needs
Unicode, service_code), 201 Created with the SMS resource and a fresh uuid, header X-LOX24-REQUEST-ID.
Wrong JSON or wrong types answer 400, values that break a rule answer 422 with a list of violations.
The exact shape of LOX24's error bodies is not documented; the fake uses API Platform's (hydra) shape.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from termino.shared.sms.segments import is_gsm7
from tests.fakes.serving import serve_in_thread, stop_serving

SENDER_ID_RE = re.compile(r"^(\+?[1-9]\d{0,14}|[a-zA-Z0-9 ]{1,11})$")
PHONE_RE = re.compile(r"^\+[1-9]\d{1,14}$")
SERVICE_CODES = frozenset({"direct", "economy"})
MAX_TEXT, MAX_TEXT_UNICODE = 1530, 670
PAGE_SIZE = 30  # API Platform's default page size

_ERROR_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_ERROR_DESCRIPTIONS = {
    401: "Client ID or API key isn't active or invalid!",
    402: "There isn't enough money on your account to send this message.",
    403: "Account isn't activated. Please wait or contact to support!",
}


def _error_body(status: int, description: str | None = None) -> dict[str, Any]:
    return {
        "@context": "/contexts/Error",
        "@type": "hydra:Error",
        "hydra:title": _ERROR_TITLES.get(status, "An error occurred"),
        "hydra:description": description or _ERROR_DESCRIPTIONS.get(status, "An error occurred"),
    }


def _violations_body(violations: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "@context": "/contexts/ConstraintViolationList",
        "@type": "ConstraintViolationList",
        "hydra:title": "An error occurred",
        "hydra:description": "\n".join(f"{path}: {message}" for path, message in violations),
        "violations": [{"propertyPath": path, "message": message} for path, message in violations],
    }


def _validate(body: Any) -> tuple[int, dict[str, Any]] | None:
    """None if the body is acceptable, else (status, error body)."""
    if not isinstance(body, dict):
        return 400, _error_body(400, "The request body must be a JSON object.")
    for field in ("sender_id", "phone", "text", "service_code"):
        if field in body and not isinstance(body[field], str):
            return 400, _error_body(400, f'The type of the "{field}" attribute must be "string".')
    delivery_at = body.get("delivery_at")
    if delivery_at is not None and (isinstance(delivery_at, bool) or not isinstance(delivery_at, int)):
        return 400, _error_body(400, 'The type of the "delivery_at" attribute must be "int".')
    callback_data = body.get("callback_data")
    if callback_data is not None and not isinstance(callback_data, str):
        return 400, _error_body(400, 'The type of the "callback_data" attribute must be "string".')

    violations: list[tuple[str, str]] = []
    sender_id, phone, text = body.get("sender_id"), body.get("phone"), body.get("text")
    if not sender_id:
        violations.append(("sender_id", "This value should not be blank."))
    elif not SENDER_ID_RE.match(sender_id):
        violations.append(("sender_id", "This value is not valid."))
    if not phone:
        violations.append(("phone", "This value should not be blank."))
    elif not PHONE_RE.match(phone):
        violations.append(("phone", "This value is not a valid phone number."))
    if not text:
        violations.append(("text", "This value should not be blank."))
    else:
        limit = MAX_TEXT if is_gsm7(text) else MAX_TEXT_UNICODE
        if len(text) > limit:
            violations.append(("text", f"This value is too long. It should have {limit} characters or less."))
    service_code = body.get("service_code", "direct")
    if service_code not in SERVICE_CODES:
        violations.append(("service_code", "The value you selected is not a valid choice."))
    if delivery_at is not None and delivery_at < 0:
        violations.append(("delivery_at", "This value should be either positive or zero."))
    if violations:
        return 422, _violations_body(violations)
    return None


class FakeLox24:
    def __init__(self, token: str | None = None):
        self.token = token or f"{secrets.randbelow(9_000_000) + 1_000_000}:{secrets.token_hex(16)}"
        self.messages: list[dict[str, Any]] = []
        self.ids: list[str] = []
        self.requests = 0  # every request that reached the server, accepted or not
        self._resources: dict[str, dict[str, Any]] = {}
        self._failures: list[int] = []
        self._stalls: list[float] = []
        self._reply_delay = 0.0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> FakeLox24:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = serve_in_thread(self._server, name="fake-lox24")
        return self

    def stop(self) -> None:
        self._closing.set()  # wakes stalled requests
        if self._server is not None:
            stop_serving(self._server)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLox24:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeLox24 is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- behaviour ----------------------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next `times` requests with `status` (after the auth check) and record nothing."""
        with self._lock:
            self._failures.extend([status] * times)

    def stall_next(self, seconds: float, times: int = 1) -> None:
        """Wait `seconds` before handling each of the next `times` requests. The request is then handled
        as usual, so, as at a real provider, a message whose client gave up may still be accepted."""
        with self._lock:
            self._stalls.extend([seconds] * times)

    def delay_replies(self, seconds: float) -> None:
        """Accept each message at once but answer only `seconds` later: a client that dies or gives up
        meanwhile leaves a message that went out without the client knowing its id."""
        self._reply_delay = seconds

    def delivery_payload(
        self, provider_id: str, code: int, *, callback_data: str | None = None, status_code: int = 100
    ) -> dict[str, Any]:
        """An `sms.delivery` event as LOX24 posts it to a webhook (https://doc.lox24.eu/info/notifications/).
        The callback_data defaults to the one sent with that message."""
        resource = self._resources.get(provider_id)
        if callback_data is None and resource is not None:
            callback_data = resource.get("callback_data")
        return {
            "id": str(uuid.uuid4()),
            "api_version": "2022-05-25",
            "name": "sms.delivery",
            "created_at": int(time.time()),
            "attempt_total": 4,
            "attempt_number": 1,
            "data": {
                "id": provider_id,
                "key_id": 8207,
                "dlr_code": code,
                "status_code": status_code,
                "callback_data": callback_data,
            },
            "notification_task_id": str(uuid.uuid4()),
        }

    # --- request handling ---------------------------------------------------------------------------

    def _take(self, queue: list) -> Any:
        with self._lock:
            return queue.pop(0) if queue else None

    def _accept(self, body: dict[str, Any]) -> dict[str, Any]:
        provider_id = str(uuid.uuid4())
        now = int(time.time())
        text = body["text"]
        resource = {
            "@context": "/contexts/Sms",
            "@id": f"/sms/{provider_id}",
            "@type": "Sms",
            "uuid": provider_id,
            "sender_id": body["sender_id"],
            "phone": body["phone"],
            "text": text,
            "service_code": body.get("service_code", "direct"),
            "delivery_at": body.get("delivery_at") or now,
            "callback_data": body.get("callback_data"),
            "is_unicode": not is_gsm7(text),
            "status_code": 100,
            "dlr_code": 0,
            "created_at": now,
        }
        with self._lock:
            self.messages.append(body)
            self.ids.append(provider_id)
            self._resources[provider_id] = resource
        return resource

    def _search(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        """`GET /sms`: the postbox, newest first, with the documented partial text filters (`phone`,
        `text`), range filters on `created_at` and pages of PAGE_SIZE (`page`, from 1)."""

        def first(name: str) -> str | None:
            return query[name][0] if query.get(name) else None

        with self._lock:
            items = list(self._resources.values())
        items.sort(key=lambda r: r["created_at"], reverse=True)
        for field in ("phone", "text"):
            needle = first(field)
            if needle:
                items = [r for r in items if needle.lower() in r[field].lower()]
        for op, keep in (("gte", int.__ge__), ("gt", int.__gt__), ("lte", int.__le__), ("lt", int.__lt__)):
            bound = first(f"created_at[{op}]")
            if bound is not None and bound.lstrip("-").isdigit():
                items = [r for r in items if keep(r["created_at"], int(bound))]
        page = int(first("page") or 1) if (first("page") or "1").isdigit() else 1
        return items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without this, Nagle's algorithm meets the
            # client's delayed ACK on kept-alive connections and every answer waits ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("X-LOX24-REQUEST-ID", secrets.token_hex(16))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout) before we answered
                    pass

            def do_GET(self) -> None:
                self._read_body()
                path, _sep, query = self.path.partition("?")
                if path.rstrip("/") != "/sms":
                    self._reply(404, _error_body(404, "Not Found"))
                    return
                if self.headers.get("X-LOX24-AUTH-TOKEN") != fake.token:
                    self._reply(401, _error_body(401))
                    return
                items = fake._search(parse_qs(query))
                if "ld+json" in (self.headers.get("Accept") or ""):
                    self._reply(200, {"hydra:member": items, "hydra:totalItems": len(items)})
                else:
                    self._reply(200, items)  # type: ignore[arg-type]

            def do_POST(self) -> None:
                raw = self._read_body()
                with fake._lock:
                    fake.requests += 1
                stall = fake._take(fake._stalls)
                if stall and fake._closing.wait(stall):
                    return
                if self.path.split("?")[0].rstrip("/") != "/sms":
                    self._reply(404, _error_body(404, "Not Found"))
                    return
                if self.headers.get("X-LOX24-AUTH-TOKEN") != fake.token:
                    self._reply(401, _error_body(401))
                    return
                failure = fake._take(fake._failures)
                if failure:
                    self._reply(failure, _error_body(failure))
                    return
                try:
                    body = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    self._reply(400, _error_body(400, "Syntax error"))
                    return
                problem = _validate(body)
                if problem:
                    self._reply(*problem)
                    return
                resource = fake._accept(body)
                if fake._reply_delay and fake._closing.wait(fake._reply_delay):
                    return
                self._reply(201, resource)

            def _read_body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

        return Handler
