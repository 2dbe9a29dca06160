"""Every route of both URLconfs, sent every kind of garbage anonymously: never a 5xx.

The routes come from walking the URLconfs (tests/isolation/urlwalk.py), so a new URL is covered the moment
it exists; path parameters are filled with real objects of business A (the isolation suite's PARAMS), so
a request that gets past the guard reaches the view's real work. Business routes are sent to A's host,
platform routes to the platform's host. One test per kind of garbage and host; each lists every route
that answered 5xx (or raised) rather than stopping at the first.

The kinds: NUL, broken UTF-8 and over-long values in each path parameter, an over-long path, NUL, broken
UTF-8 and over-long query strings, NUL in each header and cookie (Idempotency-Key included), JSON nested
100,000 deep (as JSON and as plain text, for views that parse bodies themselves), NUL in JSON, form and
multipart values, bodies that are not UTF-8, and a Content-Length far beyond the limits or not a number.
"""

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from tests.isolation import urlwalk
from tests.isolation.attacks import values_for as business_values
from tests.isolation.test_public_urls import values_for as platform_values
from tests.isolation.world import build_side

pytestmark = pytest.mark.django_db

LOX24_SECRET = "fuzz-lox24-secret"  # the real one, so the webhook reads the bodies it is sent
SITES = {
    "business": urlwalk.endpoints(settings.ROOT_URLCONF),
    "platform": urlwalk.endpoints(settings.PUBLIC_SCHEMA_URLCONF),
}

# Field names the forms and APIs read; each garbage body carries all of them.
FIELDS = [
    *("username", "password", "first_name", "last_name", "name", "email", "phone", "text", "notes", "note"),
    *("reason", "tags", "status", "role", "start", "end", "service", "resource", "hold", "kind", "subject"),
    *("body", "next", "q", "language"),
]


@dataclass(frozen=True)
class Garbage:
    """One request's worth of garbage: what to send instead of an ordinary request to a route."""

    method: str
    path: str
    body: bytes = b""
    content_type: str = "application/octet-stream"
    environ: dict = field(default_factory=dict)  # headers as WSGI keys, CONTENT_LENGTH


@dataclass(frozen=True)
class Route:
    endpoint: urlwalk.Endpoint
    values: dict  # the real value of each path parameter

    def path(self, **replaced) -> str:
        return self.endpoint.path({**self.values, **replaced})

    @property
    def main_method(self) -> str:
        methods = self.endpoint.methods
        return "POST" if "POST" in methods else methods[0]

    @property
    def write_methods(self) -> tuple[str, ...]:
        writes = tuple(m for m in self.endpoint.methods if m != "GET")
        if writes == urlwalk.WRITE_METHODS:  # a view that names no methods (the admin's): POST stands for all
            return ("POST",)
        return writes or ("POST",)


def with_param(route: Route, value: str) -> Iterator[str]:
    """The route's path with `value` in each of its parameters in turn (appended when it has none)."""
    if not route.endpoint.params:
        yield route.path() + value
    for param in route.endpoint.params:
        yield route.path(**{param.key: value})


def ordinary_body(route: Route) -> tuple[bytes, str]:
    fields = dict.fromkeys(FIELDS, "Gast")
    if route.path().startswith("/api/"):
        return json.dumps(fields).encode(), "application/json"
    return urlencode(fields).encode(), "application/x-www-form-urlencoded"


def in_path(value: str) -> Callable[[Route], Iterator[Garbage]]:
    def make(route: Route) -> Iterator[Garbage]:
        for path in with_param(route, value):
            yield Garbage(route.main_method, path)

    return make


def long_path(route: Route) -> Iterator[Garbage]:
    yield Garbage(route.main_method, route.path() + "x" * 3000)


def in_query(query: str) -> Callable[[Route], Iterator[Garbage]]:
    def make(route: Route) -> Iterator[Garbage]:
        yield Garbage(route.main_method, f"{route.path()}?{query}")

    return make


HEADERS = {
    "HTTP_IDEMPOTENCY_KEY": "a\x00b",
    "HTTP_AUTHORIZATION": "Token a\x00b",
    "HTTP_X_REQUEST_ID": "abcdefgh\x00ijk",
    "HTTP_ACCEPT_LANGUAGE": "de\x00en",
    "HTTP_ORIGIN": "https://a\x00b.example",
    "HTTP_REFERER": "https://example.com/a\x00b",
    "HTTP_USER_AGENT": "Mozilla/5.0 \x00",
    "HTTP_X_FORWARDED_FOR": "203.0.113.9\x00",
    "HTTP_STRIPE_SIGNATURE": "t=1,v1=a\x00b",
    "HTTP_X_CSRFTOKEN": "a\x00b",
}
COOKIES = [
    f"{settings.SESSION_COOKIE_NAME}=abcdefghijkl\x00mnop",
    f'{settings.SESSION_COOKIE_NAME}="abcdefghijkl\\000mnop"',  # the quoted form, unescaped by the parser
    f"{settings.CSRF_COOKIE_NAME}=a\x00b",
    f"{settings.LANGUAGE_COOKIE_NAME}=de\x00",
    "username=a\x00b",
]


def nul_in_headers(route: Route) -> Iterator[Garbage]:
    body, content_type = ordinary_body(route)
    for name, value in HEADERS.items():
        yield Garbage(route.main_method, route.path(), body, content_type, {name: value})
    for cookie in COOKIES:
        yield Garbage(route.main_method, route.path(), body, content_type, {"HTTP_COOKIE": cookie})


def bodies(*made: tuple[bytes, str]) -> Callable[[Route], Iterator[Garbage]]:
    def make(route: Route) -> Iterator[Garbage]:
        for method in route.write_methods:
            for body, content_type in made:
                yield Garbage(method, route.path(), body, content_type)

    return make


NUL_FIELDS = dict.fromkeys(FIELDS, "a\x00b")
DEEP = b"[" * 100_000


def huge_length(route: Route) -> Iterator[Garbage]:
    for method in route.write_methods:
        for content_type, length in (
            ("application/json", str(10**12)),
            (MULTIPART_CONTENT, str(10**12)),
            ("application/x-www-form-urlencoded", "12abc"),
        ):
            yield Garbage(method, route.path(), b"{}", content_type, {"CONTENT_LENGTH": length})


KINDS: dict[str, Callable[[Route], Iterator[Garbage]]] = {
    "NUL in a path parameter": in_path("a%00b"),
    "broken UTF-8 in a path parameter": in_path("a%FF%FEb"),
    "a 300-character path parameter (file name, token)": in_path("x" * 300),
    "an over-long path": long_path,
    "NUL in the query string": in_query("q=a%00b&next=%00&a%00=1"),
    "broken UTF-8 in the query string": in_query("q=%FF%FE&page=%C3"),
    "an over-long query string": in_query("q=" + "x" * 10_000),
    "NUL in a header or cookie": nul_in_headers,
    "JSON nested 100,000 deep": bodies((DEEP, "application/json"), (DEEP, "text/plain")),
    "NUL in JSON values": bodies((json.dumps(NUL_FIELDS).encode(), "application/json")),
    "NUL in form values": bodies(
        (urlencode(NUL_FIELDS).encode(), "application/x-www-form-urlencoded"),
        (encode_multipart(BOUNDARY, NUL_FIELDS), MULTIPART_CONTENT),
    ),
    "broken UTF-8 bodies": bodies(
        (b'{"username": "\xff\xfe", "name": "\xc3"}', "application/json"),
        (b"username=%FF%FE&name=\xff", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00garbage", "text/plain"),
    ),
    "a Content-Length far too large or not a number": huge_length,
}


@pytest.fixture(scope="module")
def business(django_db_setup, django_db_blocker, tmp_path_factory):
    """Business A with an object of every kind (the isolation suite's), in a transaction rolled back at the
    end of the module; each test runs in a savepoint within it."""
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
    media.enable()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_side(pytest.termino_businesses[0], "A")
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            connection.set_schema_to_public()
            media.disable()


def routes(site: str, side) -> list[Route]:
    values_for = business_values if site == "business" else platform_values
    return [Route(endpoint, values_for(endpoint, side)) for endpoint in SITES[site]]


class Visitor:
    """An anonymous browser at one host: no cookies kept from one request to the next."""

    def __init__(self, host: str):
        self.client = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")

    def send(self, garbage: Garbage) -> tuple[int, str]:
        for attempt in range(2):
            self.client.cookies.clear()
            try:
                response = self.client.generic(
                    garbage.method, garbage.path, garbage.body, garbage.content_type, **garbage.environ
                )
            except Exception as exc:  # the test client raises what the view raised
                return 500, repr(exc)[:300]
            if response.status_code != 429 or attempt:
                return response.status_code, response.content[:200].decode("utf-8", "replace")
            clear_caches()  # a rate limit bit: the garbage must reach the view, so once more without it
        raise AssertionError("unreachable")


def clear_caches() -> None:
    for alias in settings.CACHES:
        caches[alias].clear()


@pytest.fixture
def quiet():
    """Every refusal is a WARNING of django.request; thousands of them only slow the run down."""
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def test_every_route_is_covered():
    assert len(SITES["business"]) > 100 and len(SITES["platform"]) > 50
    names = {e.name for e in SITES["business"]}
    assert {"booking:manage", "public_api:booking", "media", "api-token"} <= names


@pytest.mark.parametrize("site", SITES)
@pytest.mark.parametrize("kind", KINDS)
def test_garbage_is_never_a_server_error(business, settings, quiet, site, kind):
    settings.LOX24_WEBHOOK_SECRET = LOX24_SECRET
    visitor = Visitor(business.host if site == "business" else settings.BASE_DOMAIN)
    failures, sent = [], 0
    for route in routes(site, business):
        if route.endpoint.name == "lox24-delivery":
            route = Route(route.endpoint, {**route.values, "lox24/<secret>": LOX24_SECRET})
        # One savepoint per route: a request that breaks the transaction spoils no other route's.
        with transaction.atomic():
            for garbage in KINDS[kind](route):
                status, detail = visitor.send(garbage)
                sent += 1
                if status >= 500:
                    shown = garbage.path if len(garbage.path) < 200 else garbage.path[:200] + "…"
                    failures.append(f"{status} {garbage.method} {shown} {garbage.environ} {detail}")
            transaction.set_rollback(True)
        connection.set_schema_to_public()
    assert sent >= len(SITES[site])
    summary = f"{kind} at the {site} host: {len(failures)} of {sent} requests were server errors"
    assert not failures, summary + "\n" + "\n".join(failures[:40])
