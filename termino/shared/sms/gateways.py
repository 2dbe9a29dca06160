"""The only door to the network for SMS.

Every gateway has `send(*, sender_id, phone, text, callback_data) -> SendResult`. Failures are one of two
exceptions, so a caller (a Celery task) only has to decide "retry or give up":

- `PermanentSmsError`: the provider refused the message or our account (bad data, bad token, no credit).
  Retrying the same request cannot help.
- `TemporarySmsError`: the provider was unreachable, too slow, overloaded or rate-limiting us. Retry later.
  Note: after a *read* timeout the provider may have accepted the message all the same.

`Lox24Gateway` speaks LOX24's REST API v2 (`POST {base}/sms`, header `X-LOX24-AUTH-TOKEN`, JSON body,
201 Created with the SMS resource). `parse_delivery_webhook` reads the `sms.delivery` event of LOX24's
notification system (https://doc.lox24.eu/info/notifications/).
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TextIO

import requests

DeliveryStatus = Literal["delivered", "queued", "en_route", "expired", "rejected"]

# LOX24 `dlr_code` (https://doc.lox24.eu/info/sms-delivery-report-codes-dlr/); 0 means "no report yet".
DLR_STATUSES: dict[int, DeliveryStatus] = {
    1: "delivered",
    2: "queued",
    4: "en_route",
    8: "expired",
    16: "rejected",
}


@dataclass(frozen=True)
class SendResult:
    provider_id: str


@dataclass(frozen=True)
class DeliveryReport:
    provider_id: str
    status: DeliveryStatus
    code: int
    callback_data: str | None = None


class SmsError(Exception):
    """Sending failed; `reason` says why in words a person understands."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class PermanentSmsError(SmsError):
    """Do not retry: the same request would fail again."""


class TemporarySmsError(SmsError):
    """Retry later: the provider was unreachable, slow, overloaded or rate-limiting."""


class UnsupportedEvent(ValueError):
    """A well-formed webhook event that carries no delivery status for us (another event, dlr_code 0).

    Answer it with 2xx and ignore it, so the provider does not retry it."""


class SmsGateway(Protocol):
    def send(self, *, sender_id: str, phone: str, text: str, callback_data: str | None) -> SendResult: ...

    def find(self, *, phone: str, since: datetime, callback_data: str) -> str | None:
        """The provider id of a message we sent since `since` with this callback data, or None.

        How a crash between the provider's acceptance and our bookkeeping is settled without a second
        send: the row left in `sending` is looked up instead of being sent again."""
        ...


# --- LOX24 ----------------------------------------------------------------------------------------------

_PERMANENT_REASONS = {
    400: "LOX24 could not read the request (400)",
    401: "LOX24 did not accept the API token (401); check LOX24_TOKEN",
    402: "LOX24: no credit left (402); top up the LOX24 account",
    403: "LOX24 refused the request: the account is not activated or not allowed to send (403)",
    404: "LOX24: the API address was not found (404); check LOX24_API_URL",
    422: "LOX24 refused the message as invalid (422)",
}


def _error_detail(response: requests.Response) -> str:
    """The provider's own explanation, if its error body has one (API Platform/hydra or plain JSON)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    violations = body.get("violations")
    if isinstance(violations, list) and violations:
        parts = []
        for violation in violations:
            if isinstance(violation, dict):
                field, message = violation.get("propertyPath"), violation.get("message")
                parts.append(f"{field}: {message}" if field else str(message))
        if parts:
            return "; ".join(parts)
    for key in ("hydra:description", "detail", "message", "error", "hydra:title", "title"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


LOX24_PAGE_SIZE = 30  # items per page of LOX24's collections (API Platform's default)


class Lox24Gateway:
    def __init__(self, base_url: str, token: str, service_code: str = "direct", timeout: float = 10):
        self.url = base_url.rstrip("/") + "/sms"
        self.token = token
        self.service_code = service_code
        self.timeout = timeout
        # One kept-alive (TLS) connection for a whole batch instead of a handshake per message.
        self.session = requests.Session()
        self.session.headers.update({"X-LOX24-AUTH-TOKEN": token, "Accept": "application/json"})

    def __repr__(self) -> str:  # never show the token
        return f"Lox24Gateway({self.url!r}, service_code={self.service_code!r}, timeout={self.timeout})"

    def payload(self, *, sender_id: str, phone: str, text: str, callback_data: str | None) -> dict[str, Any]:
        return {
            "sender_id": sender_id,
            "phone": phone,
            "text": text,
            "service_code": self.service_code,
            "delivery_at": 0,  # now
            "callback_data": callback_data,
        }

    def send(self, *, sender_id: str, phone: str, text: str, callback_data: str | None) -> SendResult:
        body = self.payload(sender_id=sender_id, phone=phone, text=text, callback_data=callback_data)
        try:
            response = self.session.post(self.url, json=body, timeout=self.timeout)
        except requests.Timeout as exc:
            raise TemporarySmsError(f"LOX24 did not answer within {self.timeout:g} s") from exc
        except requests.RequestException as exc:
            raise TemporarySmsError(f"LOX24 could not be reached ({type(exc).__name__})") from exc

        status = response.status_code
        if status in (200, 201):
            try:
                data = response.json()
            except ValueError:
                data = None
            provider_id = data.get("uuid") if isinstance(data, dict) else None
            if not isinstance(provider_id, str) or not provider_id:
                # The message may well have gone out: retrying could send it twice.
                raise PermanentSmsError(
                    f"LOX24 accepted the message ({status}) but sent no message id", status
                )
            return SendResult(provider_id=provider_id)

        detail = _error_detail(response)
        suffix = f": {detail}" if detail else ""
        if status == 429:
            raise TemporarySmsError(f"LOX24: too many requests (429), try again later{suffix}", status)
        if status >= 500:
            raise TemporarySmsError(f"LOX24 has a server problem ({status}), try again later{suffix}", status)
        reason = _PERMANENT_REASONS.get(status, f"LOX24 refused the request ({status})")
        raise PermanentSmsError(reason + suffix, status)

    def find(self, *, phone: str, since: datetime, callback_data: str, max_pages: int = 20) -> str | None:
        """Searches the postbox (`GET /sms`, newest first) by phone number and creation time."""
        for page in range(1, max_pages + 1):
            params = {"phone": phone.lstrip("+"), "created_at[gte]": int(since.timestamp()), "page": page}
            try:
                response = self.session.get(self.url, params=params, timeout=self.timeout)
            except requests.RequestException as exc:
                raise TemporarySmsError(f"LOX24 could not be searched ({type(exc).__name__})") from exc
            if response.status_code != 200:
                raise TemporarySmsError(f"LOX24 could not be searched ({response.status_code})")
            body = response.json()
            items = body.get("hydra:member", []) if isinstance(body, dict) else body
            for item in items:
                if isinstance(item, dict) and item.get("callback_data") == callback_data:
                    return str(item.get("uuid") or "") or None
            if len(items) < LOX24_PAGE_SIZE:
                return None
        raise TemporarySmsError("LOX24: too many messages to search for this number")


# --- development gateways -------------------------------------------------------------------------------


class ConsoleGateway:
    """Prints each SMS instead of sending it."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream

    def send(self, *, sender_id: str, phone: str, text: str, callback_data: str | None) -> SendResult:
        provider_id = f"console-{uuid.uuid4()}"
        stream = self.stream or sys.stdout
        print(f"SMS {provider_id} from {sender_id} to {phone} (callback {callback_data!r}):", file=stream)
        print(text, file=stream)
        print("-" * 40, file=stream, flush=True)
        return SendResult(provider_id=provider_id)

    def find(self, *, phone: str, since: datetime, callback_data: str) -> str | None:
        return None  # nothing is kept; a development message may be printed twice


class FileGateway:
    """Appends each SMS as one JSON line to a file instead of sending it."""

    _lock = threading.Lock()

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def send(self, *, sender_id: str, phone: str, text: str, callback_data: str | None) -> SendResult:
        provider_id = f"file-{uuid.uuid4()}"
        record = {
            "provider_id": provider_id,
            "sender_id": sender_id,
            "phone": phone,
            "text": text,
            "callback_data": callback_data,
            "sent_at": int(time.time()),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line)
        return SendResult(provider_id=provider_id)

    def find(self, *, phone: str, since: datetime, callback_data: str) -> str | None:
        if not self.path.exists():
            return None
        with self._lock, self.path.open(encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                if (
                    record["phone"] == phone
                    and record["callback_data"] == callback_data
                    and record["sent_at"] >= int(since.timestamp())
                ):
                    return record["provider_id"]
        return None


def gateway_from_settings() -> SmsGateway:
    """The gateway chosen by `SMS_BACKEND` ("console" | "file" | "lox24"; default "console")."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    backend = getattr(settings, "SMS_BACKEND", "console")
    if backend == "console":
        return ConsoleGateway()
    if backend == "file":
        default = Path(getattr(settings, "BASE_DIR", ".")) / ".run" / "sms.jsonl"
        return FileGateway(getattr(settings, "SMS_FILE_PATH", None) or default)
    if backend == "lox24":
        token = getattr(settings, "LOX24_TOKEN", "")
        if not token:
            raise ImproperlyConfigured("SMS_BACKEND is 'lox24' but LOX24_TOKEN is empty.")
        return Lox24Gateway(
            base_url=getattr(settings, "LOX24_API_URL", "https://api.lox24.eu"),
            token=token,
            service_code=getattr(settings, "LOX24_SERVICE_CODE", "direct"),
            timeout=getattr(settings, "LOX24_TIMEOUT", 10),
        )
    raise ImproperlyConfigured(f"SMS_BACKEND must be 'console', 'file' or 'lox24', not {backend!r}.")


# --- delivery reports -----------------------------------------------------------------------------------


def _as_uuid(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} is missing or not a string")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"{what} is not a UUID: {value!r}") from None


def parse_delivery_webhook(payload: dict) -> DeliveryReport:
    """Read a LOX24 `sms.delivery` event (the parsed JSON body of the webhook request).

    Raises ValueError on a malformed payload, and its subclass UnsupportedEvent for a well-formed event
    that is not a delivery report (another event name, or dlr_code 0 = no report yet).
    """
    if not isinstance(payload, dict):
        raise ValueError("the webhook payload is not a JSON object")
    name = payload.get("name")
    if not isinstance(name, str):
        raise ValueError("the webhook payload has no event name")
    if name != "sms.delivery":
        raise UnsupportedEvent(f"not a delivery report: event {name!r}")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise ValueError("the sms.delivery event has no data object")
    provider_id = _as_uuid(data.get("id"), "data.id")
    code = data.get("dlr_code")
    if isinstance(code, bool) or not isinstance(code, int):
        raise ValueError("data.dlr_code is missing or not an integer")
    if code == 0:
        raise UnsupportedEvent("dlr_code 0: no delivery report available yet")
    if code not in DLR_STATUSES:
        raise ValueError(f"unknown dlr_code {code}")
    callback_data = data.get("callback_data")
    if callback_data is not None and not isinstance(callback_data, str):
        raise ValueError("data.callback_data is not a string")
    return DeliveryReport(
        provider_id=provider_id, status=DLR_STATUSES[code], code=code, callback_data=callback_data
    )
