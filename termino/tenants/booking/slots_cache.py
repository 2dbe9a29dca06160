"""The public availability answers, cached per business under its availability version (see apis.py)."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponseNotModified

from termino.shared import timeutils
from termino.tenants.scheduling import availability_version


def key(time_zone: str, data: dict) -> str | None:
    """The cache key of one question at this moment, or None when the version cannot be read."""
    version = availability_version.current()
    if version is None:
        return None
    lifetime = settings.PUBLIC_AVAILABILITY_CACHE_SECONDS
    moment = int(timeutils.now().timestamp() // lifetime) if lifetime else "-"
    question = f"{data['service']}:{data['start']}:{data['end']}:{data.get('resource') or ''}:{time_zone}"
    return f"public-slots:{version}:{moment}:{question}"


def etag(key: str | None) -> str:
    """A weak tag: the answer to one question is the same JSON whether sent compact or indented (an `indent`
    in the Accept header), not the same bytes."""
    if key is None:
        return 'W/"-"'  # never sent, so never matched
    return 'W/"' + hashlib.blake2b(key.encode(), digest_size=12).hexdigest() + '"'


def unchanged(key: str | None, if_none_match: str) -> bool:
    """Whether the client's copy is this answer: its tag is in If-None-Match, weak or not (the weak
    comparison of RFC 9110 13.1.2, which GET uses)."""
    return key is not None and etag(key).removeprefix("W/") in if_none_match


def get(key: str | None) -> dict | bytes | None:
    """The cached answer: JSON text (`slot_json`) or, for courses, the body to render."""
    return cache.get(key) if key is not None and settings.PUBLIC_AVAILABILITY_CACHE_SECONDS else None


def put(key: str | None, body: dict | bytes) -> None:
    if key is not None and settings.PUBLIC_AVAILABILITY_CACHE_SECONDS:
        cache.set(key, body, timeout=settings.PUBLIC_AVAILABILITY_CACHE_SECONDS)


def answer(key: str | None, response):
    if key is not None:
        response["ETag"] = etag(key)
        response["Cache-Control"] = "no-cache"
    return response


def not_modified(key: str):
    response = HttpResponseNotModified()
    return answer(key, response)
