"""The guard middleware: refuses garbage before anything reads the request into the database.

It runs after the header middlewares (its answers carry CSP, HSTS and the rest) and before the tenant
routing, which is the first to look the host up and hands the path to views that query with it.
PostgreSQL refuses NUL in text ("DataError: cannot contain NUL (0x00) bytes"), so a NUL anywhere a view
may pass on (a manage token in the path, an Idempotency-Key, a session cookie, a form field) was a 500.

Checked on every request, in this order, each refused with a sentence (responses.py):
  path          NUL, longer than MAX_PATH_LENGTH (414)
  query string  NUL, not UTF-8, longer than MAX_QUERY_LENGTH (414)
  headers       NUL in any value (Authorization, Idempotency-Key, ...) and in any cookie
  body size     Content-Length not a number (400) or above the limit (413), before a byte is read: form and
                JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE, multipart uploads up to REQUEST_BODY_MAX_BYTES
  text bodies   JSON and urlencoded forms: not UTF-8, NUL (raw, `%00` or `\\u0000`), JSON nested too deeply
  multipart     the fields of a form POST (in process_view, where CSRF would read them anyway): NUL
"""

from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _

from . import safejson
from .responses import Refusal, refusal_response, too_large

# Every address of ours is far shorter; browsers and proxies balk somewhere above 2,000 characters.
MAX_PATH_LENGTH = 2048
MAX_QUERY_LENGTH = 8192

HAS_NUL = Refusal(400, safejson.HAS_NUL)
QUERY_NOT_UTF8 = Refusal(400, _("The address is not valid UTF-8 text."))
BODY_NOT_UTF8 = Refusal(400, _("The request body is not valid UTF-8 text."))
BAD_LENGTH = Refusal(400, _("The Content-Length header is not a valid number."))
UNREADABLE_FORM = Refusal(400, _("The form data could not be read."))
PATH_TOO_LONG = Refusal(
    414, _("The address is too long (at most %(limit)s characters)."), limit=MAX_PATH_LENGTH
)
QUERY_TOO_LONG = Refusal(
    414,
    _("The address is too long (at most %(limit)s characters after the question mark)."),
    limit=MAX_QUERY_LENGTH,
)

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = (
            _path_refusal(request)
            or _query_refusal(request)
            or _header_refusal(request)
            or _size_refusal(request)
            or _body_refusal(request)
        )
        if refusal is not None:
            return refusal_response(request, refusal)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        """A form POST's multipart fields. Views exempt from CSRF (webhooks, the API) may want the raw body,
        which parsing the fields here would use up; DRF validates its fields itself."""
        if request.method != "POST" or request.content_type != MULTIPART:
            return None
        if getattr(view_func, "csrf_exempt", False):
            return None
        try:
            fields, files = request.POST, request.FILES
        except RequestDataTooBig:
            return refusal_response(request, too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
        except (MultiPartParserError, SuspiciousOperation):
            return refusal_response(request, UNREADABLE_FORM)
        texts = [*fields.keys(), *(v for _k, values in fields.lists() for v in values)]
        texts += [f.name or "" for _k, uploads in files.lists() for f in uploads]
        if any("\x00" in text for text in texts):
            return refusal_response(request, HAS_NUL)
        return None


def _wsgi_bytes(value: str) -> bytes:
    """A WSGI environ string as the bytes that came over the wire (PEP 3333 decodes them as latin-1)."""
    try:
        return value.encode("iso-8859-1")
    except UnicodeEncodeError:  # ASGI servers hand over text already decoded
        return value.encode("utf-8", "surrogateescape")


def _path_refusal(request) -> Refusal | None:
    # Bytes that are not UTF-8 arrive re-escaped by Django (`%FF`): plain text that matches no URL (404).
    if "\x00" in request.path_info:
        return HAS_NUL
    if len(request.path_info) > MAX_PATH_LENGTH:
        return PATH_TOO_LONG
    return None


def _query_refusal(request) -> Refusal | None:
    query = request.META.get("QUERY_STRING", "")
    if len(query) > MAX_QUERY_LENGTH:
        return QUERY_TOO_LONG
    return _form_refusal(_wsgi_bytes(query), not_utf8=QUERY_NOT_UTF8)


def _form_refusal(raw: bytes, not_utf8: Refusal) -> Refusal | None:
    """An urlencoded query string or form body, as Django's QueryDict will decode it."""
    decoded = unquote_to_bytes(raw.replace(b"+", b" "))
    if b"\x00" in decoded:
        return HAS_NUL
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return not_utf8
    return None


def _header_refusal(request) -> Refusal | None:
    for key, value in request.META.items():
        if (key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")) and "\x00" in str(value):
            return HAS_NUL
    # A quoted cookie may spell a NUL as the escape `\000`, which the cookie parser turns into one.
    if any("\x00" in name or "\x00" in value for name, value in request.COOKIES.items()):
        return HAS_NUL
    return None


def _content_length(request) -> int | None:
    """The announced body length; None if not a number (Django would read such a body as empty)."""
    value = request.META.get("CONTENT_LENGTH") or "0"
    if not value.isascii() or not value.strip().isdigit():
        return None
    return int(value)


def body_limit(request) -> int:
    if request.content_type == MULTIPART:
        return settings.REQUEST_BODY_MAX_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or settings.REQUEST_BODY_MAX_BYTES


def _size_refusal(request) -> Refusal | None:
    length = _content_length(request)
    if length is None:
        return BAD_LENGTH
    limit = body_limit(request)
    if length > limit:
        return too_large(limit)
    return None


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _body_refusal(request) -> Refusal | None:
    """Bodies views read as text: read here (within the size limit; read later anyway) and checked."""
    content_type = request.content_type or ""
    if content_type != FORM and not _is_json(content_type):
        return None
    if not _content_length(request):
        return None
    body = request.body  # cached: the views and DRF's parsers read the same bytes
    if content_type == FORM:
        return _form_refusal(body, not_utf8=BODY_NOT_UTF8)
    try:
        text = body.decode(request.encoding or "utf-8")
    except (UnicodeDecodeError, LookupError):
        return BODY_NOT_UTF8
    try:
        safejson.check(text)
    except safejson.UnsafeJSON as exc:
        return Refusal(400, exc.message, **exc.params)
    return None
