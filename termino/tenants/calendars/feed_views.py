"""The subscription feed: `/calendar/<token>.ics` at the business's host, anonymous, the token its secret.

Unknown and revoked tokens get the same 404; requests are limited per client IP and per token; answers
carry an ETag and Last-Modified so a calendar app polling every few minutes mostly gets a 304.
"""

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe

from termino.shared import ratelimit
from termino.shared.client_ip import client_ip

from .crypto import token_digest
from .selectors import feed_body, feed_state, feed_token_find


def _limited(request, token: str) -> HttpResponse | None:
    per_minute = settings.CALENDAR_FEED_PER_MINUTE
    ip_limit = ratelimit.Limit("calendar_feed_ip", per_minute, 60, fail_open=True)
    token_limit = ratelimit.Limit("calendar_feed_token", per_minute, 60, fail_open=True)
    try:
        ratelimit.take(
            (ip_limit, f"{request.tenant.schema_name}|{client_ip(request) or ''}"),
            (token_limit, token_digest(token)[:32]),
        )
    except ratelimit.RateLimited as refused:
        response = HttpResponse("Too many requests", status=429, content_type="text/plain")
        response["Retry-After"] = str(refused.retry_after)
        return response
    return None


def _not_modified(request, etag: str, last_modified) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return (
            etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")] or if_none_match == "*"
        )
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and int(last_modified.timestamp()) <= since


@require_safe
def feed(request, token: str):
    refused = _limited(request, token)
    if refused is not None:
        return refused
    row = feed_token_find(token)
    if row is None:
        raise Http404
    state = feed_state(row)
    if _not_modified(request, state.etag, state.last_modified):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(feed_body(state), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="termino.ics"'
    response["ETag"] = state.etag
    response["Last-Modified"] = http_date(state.last_modified.timestamp())
    # Personal data: never in a shared cache; a calendar app may keep it a few minutes.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
