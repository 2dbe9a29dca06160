"""The one door to CalDAV servers (RFC 4791, RFC 6578 sync tokens): plain HTTP through `requests`.

Four requests are all the sync needs — PROPFIND (is it a calendar, what is its sync token), REPORT
calendar-query (busy events in a window, recurrences expanded by the server), PUT and DELETE of our own
events — so no CalDAV library is pulled in (the `caldav` package brings niquests, dnspython, lxml, PyYAML
and more). Every failure becomes a `CalDavError` with a code the settings page explains.
"""

import ipaddress
import socket
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import icalendar
import requests
from defusedxml.ElementTree import fromstring
from django.conf import settings
from requests.adapters import HTTPAdapter

from termino.shared import timeutils

DAV = "DAV:"
CAL = "urn:ietf:params:xml:ns:caldav"
CS = "http://calendarserver.org/ns/"
MAX_BYTES = 10 * 1024 * 1024  # an answer larger than this is refused, not parsed

# Codes of `CalDavError`, as stored in `CalDavConnection.state`.
AUTH_FAILED = "auth_failed"
NOT_FOUND = "not_found"
UNREACHABLE = "unreachable"
ERROR = "error"


class CalDavError(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail[:300]


@dataclass(frozen=True)
class Busy:
    uid: str
    start: datetime
    end: datetime


def _tag(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _checked_address(url: str) -> str:
    """The address the request to `url` will connect to: the first the host resolves to, once every one
    of them is a public one (the worker would fetch private ones for anyone) unless private hosts are
    allowed (development, tests)."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise CalDavError(UNREACHABLE, f"{host}: {exc}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise CalDavError(UNREACHABLE, f"{host}: no address")
    if not settings.CALDAV_ALLOW_PRIVATE_HOSTS:
        for text in addresses:
            address = ipaddress.ip_address(text.split("%")[0])
            if not address.is_global:
                raise CalDavError(UNREACHABLE, f"{host} is not a public address")
    return addresses[0]


class _PinnedAdapter(HTTPAdapter):
    """Connects to the address that was checked, never to a second DNS answer (rebinding: public when
    checked, private when connecting). The host name still goes in the Host header and, for TLS, in SNI
    and the certificate check."""

    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = pool_kwargs["assert_hostname"] = host_params["host"]
        host_params["host"] = self.address
        return host_params, pool_kwargs

    def send(self, request, *args, **kwargs):
        request.headers.setdefault("Host", urlsplit(request.url).netloc.rpartition("@")[2])
        return super().send(request, *args, **kwargs)


class CalDavClient:
    def __init__(self, url: str, username: str, password: str):
        self.url = url if url.endswith("/") else url + "/"
        self.session = requests.Session()
        self.session.auth = (username, password)
        self.session.headers["User-Agent"] = "Termino calendar sync"
        self._pinned: _PinnedAdapter | None = None

    def _request(self, method: str, url: str, *, body: bytes | None = None, headers=None, ok=(200, 207)):
        address = _checked_address(url)
        if self._pinned is None or self._pinned.address != address:
            if self._pinned is not None:
                self._pinned.close()
            self._pinned = _PinnedAdapter(address)
            for scheme in ("http://", "https://"):
                self.session.mount(scheme, self._pinned)
        try:
            response = self.session.request(
                method,
                url,
                data=body,
                headers=headers or {},
                timeout=settings.CALDAV_TIMEOUT_SECONDS,
                allow_redirects=False,
                stream=True,
            )
            content = response.raw.read(MAX_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise CalDavError(UNREACHABLE, str(exc)) from exc
        status_line = f"{response.status_code} {response.reason or ''}".strip()
        if response.status_code in (401, 403):
            raise CalDavError(AUTH_FAILED, status_line)
        if response.status_code in (404, 410):
            raise CalDavError(NOT_FOUND, status_line)
        if response.status_code not in ok:
            raise CalDavError(ERROR, status_line)
        if len(content) > MAX_BYTES:
            raise CalDavError(ERROR, "answer too large")
        return response, content

    def _multistatus(self, content: bytes):
        try:
            return fromstring(content)
        except Exception as exc:  # defusedxml's and expat's errors alike: not a CalDAV answer
            raise CalDavError(ERROR, f"not a CalDAV answer: {exc}") from exc

    def probe(self) -> str:
        """The collection's sync token (or CTag); NOT_FOUND when the URL is not a calendar."""
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="{DAV}" xmlns:cs="{CS}">'
            "<d:prop><d:resourcetype/><d:sync-token/><cs:getctag/></d:prop></d:propfind>"
        ).encode()
        _, content = self._request(
            "PROPFIND", self.url, body=body, headers={"Depth": "0", "Content-Type": "application/xml"}
        )
        root = self._multistatus(content)
        if root.find(f".//{_tag(DAV, 'resourcetype')}/{_tag(CAL, 'calendar')}") is None:
            raise CalDavError(NOT_FOUND, "the address is not a calendar")
        for name in (_tag(DAV, "sync-token"), _tag(CS, "getctag")):
            found = root.find(f".//{name}")
            if found is not None and (found.text or "").strip():
                return found.text.strip()
        return ""

    def busy(self, start: datetime, end: datetime, *, zone, skip_uid_suffix: str) -> list[Busy]:
        """Opaque events overlapping [start, end), recurrences expanded by the server; events whose UID
        ends with `skip_uid_suffix` (our own appointments written there) are left out."""
        fmt = "%Y%m%dT%H%M%SZ"
        window = f'start="{start.astimezone(UTC):{fmt}}" end="{end.astimezone(UTC):{fmt}}"'
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><c:calendar-query xmlns:d="{DAV}" xmlns:c="{CAL}">'
            f"<d:prop><d:getetag/><c:calendar-data><c:expand {window}/></c:calendar-data></d:prop>"
            '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
            f"<c:time-range {window}/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
        ).encode()
        _, content = self._request(
            "REPORT", self.url, body=body, headers={"Depth": "1", "Content-Type": "application/xml"}
        )
        periods = []
        for data in self._multistatus(content).iter(_tag(CAL, "calendar-data")):
            periods += _busy_of(data.text or "", zone=zone, skip_uid_suffix=skip_uid_suffix)
        return [p for p in periods if p.end > start and p.start < end]

    def event_url(self, name: str) -> str:
        return urljoin(self.url, name)

    def put(self, url: str, ics: bytes) -> str:
        """Create or replace our event; its new ETag ("" when the server names none)."""
        response, _ = self._request(
            "PUT", url, body=ics, headers={"Content-Type": "text/calendar; charset=utf-8"}, ok=(200, 201, 204)
        )
        return response.headers.get("ETag", "")

    def delete(self, url: str) -> None:
        """Remove our event; one already gone counts as removed."""
        try:
            self._request("DELETE", url, ok=(200, 204))
        except CalDavError as exc:
            if exc.code != NOT_FOUND:
                raise


def _instant(value, zone, *, end: bool = False) -> datetime:
    """A DTSTART/DTEND value as an instant; an all-day DATE is the local day's midnight."""
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating time: the business's wall clock
            return timeutils.local_instant_lenient(value, zone, is_end=end)
        return value.astimezone(UTC)
    if isinstance(value, date):
        return timeutils.local_midnight(value, zone)
    raise ValueError(f"not a time: {value!r}")


def _busy_of(text: str, *, zone, skip_uid_suffix: str) -> list[Busy]:
    if not text.strip():
        return []
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError:
        return []
    found = []
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID", ""))
        if uid.endswith(skip_uid_suffix):
            continue
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        if event.get("DTSTART") is None:
            continue
        raw_start = event.decoded("DTSTART")
        start = _instant(raw_start, zone)
        if event.get("DTEND") is not None:
            end = _instant(event.decoded("DTEND"), zone, end=True)
        elif event.get("DURATION") is not None:
            end = timeutils.shift(start, event.decoded("DURATION"))
        elif isinstance(raw_start, datetime):
            continue  # an instant without length blocks nothing
        else:
            end = timeutils.local_midnight(raw_start + timedelta(days=1), zone)
        if start < end:
            found.append(Busy(uid=uid, start=start, end=end))
    return found
