"""What one request's log entry holds, built from the request and response without any database query."""

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation.trans_real import parse_accept_lang_header

from termino.shared.client_ip import client_ip  # the one trusted reading of X-Forwarded-For

from .models import PATH_MAX, REFERRER_MAX
from .pseudonym import visitor_pseudonym

USER_AGENT_MAX = 400

# What one entry of the access log holds, column by column (AccessLogEntry), as the privacy notice states
# it. The notice lists exactly these; tests/platform/legal/test_consistency.py fails when a column is added
# to the table (or a key to `entry_for`) without a line here, or the other way round.
LOGGED_FIELDS = {
    "at": _("date and time of the request"),
    "utc_offset_minutes": _("the server's time-zone offset from GMT/UTC at that time"),
    "host": _("the host name asked for (the platform's, or a business's address)"),
    "schema": _("which business (or the platform itself) the request was for"),
    "method": _("the kind of request (e.g. GET, POST)"),
    "path": _("the page asked for, without query string, with secret links (tokens) masked"),
    "status": _("the HTTP status code of the answer"),
    "response_bytes": _("the amount of data sent (bytes)"),
    "referrer": _("the referring page (its address without query string)"),
    "browser": _("the browser family (e.g. Firefox), read from the browser's identification"),
    "os": _("the operating system family (e.g. Android), read from the same"),
    "language": _("the preferred language of the browser (e.g. de)"),
    "visitor": _(
        "a pseudonym of the IP address: a keyed hash whose key changes every day and is then deleted; "
        "the IP address itself is not stored"
    ),
}
# The key each column has in the buffered entry (`entry_for`); "u" (the raw User-Agent) becomes browser and
# os when the buffer is written to the table and is not stored as such.
ENTRY_KEYS = {
    "t": "at",
    "o": "utc_offset_minutes",
    "h": "host",
    "s": "schema",
    "m": "method",
    "p": "path",
    "c": "status",
    "b": "response_bytes",
    "r": "referrer",
    "u": ("browser", "os"),
    "l": "language",
    "v": "visitor",
}
# Not logged: static files, uploads, the browser's icon request and health checks of the orchestrator.
DEFAULT_SKIP_PREFIXES = ("/static/", "/media/", "/favicon.ico", "/healthz", "/health/", "/readyz", "/livez")
MASKED_SEGMENT = ":token"
_TOKEN_LIKE = re.compile(r"^[A-Za-z0-9_\-]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,8}$")


def skip_prefixes() -> tuple[str, ...]:
    configured = getattr(settings, "ACCESS_LOG_SKIP_PREFIXES", None)
    prefixes = tuple(configured) if configured is not None else DEFAULT_SKIP_PREFIXES
    return (*prefixes, settings.STATIC_URL or "/static/", settings.MEDIA_URL or "/media/")


def is_logged(path: str) -> bool:
    return not path.startswith(skip_prefixes())


def _token_like(segment: str) -> bool:
    """Secrets in URLs (manage links, invitations, webhook secrets) are long random strings: a segment of 32+
    such characters, or of 16+ with a digit among them. Words and numeric ids stay readable."""
    stem = segment.split(".", 1)[0]
    if not _TOKEN_LIKE.match(stem):
        return False
    return len(stem) >= 32 or (len(stem) >= 16 and any(c.isdigit() for c in stem))


def clean_path(path: str) -> str:
    """The path without query string, secrets replaced by ":token", at most PATH_MAX characters."""
    segments = path.split("/")
    for i, segment in enumerate(segments):
        if segment and _token_like(segment):
            extension = segment.partition(".")[2]
            segments[i] = MASKED_SEGMENT + (f".{extension}" if extension else "")
    cleaned = "/".join(segments) or "/"
    return cleaned[:PATH_MAX]


def clean_referrer(value: str) -> str:
    """Origin and path of the referring page; query, fragment and any user:password@ dropped."""
    if not value:
        return ""
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not host:
        return ""
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    return (origin + clean_path(parts.path or "/"))[:REFERRER_MAX]


def primary_language(header: str) -> str:
    """ "de-DE,de;q=0.9,en;q=0.8" → "de"; the preferred language's primary subtag, "" when none."""
    if not header:
        return ""
    try:
        preferences = parse_accept_lang_header(header[:500])
    except (ValueError, TypeError):
        return ""
    for code, _quality in preferences:
        primary = code.split("-", 1)[0].lower()
        if _LANGUAGE.match(primary):
            return primary
    return ""


def response_size(response) -> int | None:
    length = response.get("Content-Length")
    if length and length.isdigit():
        return int(length)
    if getattr(response, "streaming", False):
        return None
    return len(response.content)


def utc_offset_minutes(at: datetime) -> int:
    offset = at.astimezone(ZoneInfo(settings.TIME_ZONE)).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def entry_for(request, response, *, at: datetime) -> dict | None:
    """The entry of one request, as pushed to the buffer (user agent still raw: the flush parses it)."""
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return None
    schema = tenant.schema_name
    ip = client_ip(request)
    return {
        "t": at.astimezone(UTC).timestamp(),
        "o": utc_offset_minutes(at),
        "h": (getattr(tenant, "domain_url", "") or request.get_host())[:253],
        "s": schema,
        "m": request.method[:10],
        "p": clean_path(request.path),
        "c": response.status_code,
        "b": response_size(response),
        "r": clean_referrer(request.META.get("HTTP_REFERER", "")),
        "u": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
        "l": primary_language(request.META.get("HTTP_ACCEPT_LANGUAGE", "")),
        "v": visitor_pseudonym(ip=ip or "unknown", schema=schema, at=at),
    }
