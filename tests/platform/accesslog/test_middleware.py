"""The middleware: one entry per request to Redis, no database query, no IP address, never an error."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from termino.platform.accesslog import buffer, recording
from termino.platform.accesslog.middleware import AccessLogMiddleware
from termino.platform.accesslog.models import AccessLogEntry
from termino.platform.accesslog.pseudonym import visitor_pseudonym
from termino.platform.accesslog.services import access_log_flush
from tests.conftest import client_for

from .conftest import buffered

pytestmark = pytest.mark.django_db

IP = "203.0.113.77"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def test_recording_a_request_costs_no_database_query(business_a, django_assert_num_queries):
    request = RequestFactory().get("/book/", HTTP_HOST=business_a.host, REMOTE_ADDR=IP)
    request.tenant = business_a.tenant
    middleware = AccessLogMiddleware(lambda r: HttpResponse("hello"))
    middleware(request).close()  # the first request of the day creates the day's secret in Redis
    with django_assert_num_queries(0):
        response = middleware(request)
        assert response.status_code == 200
        # Nothing is recorded before the server closes the response, i.e. before the client has it.
        assert len(buffered()) == 1
        response.close()
    assert len(buffered()) == 2


def test_a_warm_request_costs_the_same_queries_with_the_log_as_without(business_a, settings):
    client = client_for(business_a.host)
    client.get("/login/")  # warms routing and the day's secret

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/login/").status_code == 200
        return len(captured)

    settings.ACCESS_LOG_ENABLED = False
    without = queries()
    logged_before = len(buffered())
    settings.ACCESS_LOG_ENABLED = True
    assert queries() == without
    assert len(buffered()) == logged_before + 1


def test_an_entry_holds_what_the_log_promises_and_no_ip_address(business_a):
    response = client_for(business_a.host).get(
        "/book/?utm_source=mail&customer=anna",
        REMOTE_ADDR=IP,
        HTTP_USER_AGENT=CHROME,
        HTTP_REFERER="https://user:pw@www.google.com/search?q=anna+mueller#top",
        HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.8",
    )
    assert response.status_code == 200
    raw = b"".join(buffered())
    assert IP.encode() not in raw and b"203.0.113" not in raw and b"anna" not in raw

    assert access_log_flush() == 1
    row = AccessLogEntry.objects.get()
    assert (row.host, row.schema, row.method, row.path, row.status) == (
        business_a.host,
        business_a.schema,
        "GET",
        "/book/",
        200,
    )
    assert row.response_bytes == len(response.content)
    assert row.referrer == "https://www.google.com/search"
    assert (row.browser, row.os, row.language) == ("Chrome", "Windows", "de")
    assert row.utc_offset_minutes in (60, 120)  # Europe/Berlin, winter or summer
    assert re.fullmatch(r"[0-9a-f]{16}", row.visitor)
    stored = json.dumps(list(AccessLogEntry.objects.values().get().values()), default=str)
    assert "203.0.113" not in stored


def test_one_visitor_is_one_pseudonym_per_day_and_business(business_a, business_b):
    for host in (business_a.host, business_a.host, business_b.host):
        client_for(host).get("/login/", REMOTE_ADDR=IP)
    client_for(business_a.host).get("/login/", REMOTE_ADDR="198.51.100.9")
    access_log_flush()
    a = list(
        AccessLogEntry.objects.filter(schema=business_a.schema)
        .order_by("pk")
        .values_list("visitor", flat=True)
    )
    b = AccessLogEntry.objects.get(schema=business_b.schema).visitor
    assert a[0] == a[1] and a[2] != a[0]  # same address → same pseudonym; another address → another
    assert b != a[0]  # the same person at another business cannot be linked


def test_the_pseudonym_changes_with_the_day_secret(business_a):
    today = datetime.now(UTC)
    first = visitor_pseudonym(ip=IP, schema="t_x", at=today)
    assert visitor_pseudonym(ip=IP, schema="t_x", at=today) == first
    assert visitor_pseudonym(ip=IP, schema="t_x", at=today + timedelta(days=1)) != first
    secret_keys = buffer.client().keys(f"{buffer.DAY_KEY_PREFIX}*")
    assert all(0 < buffer.client().ttl(key) <= 2 * 24 * 3600 for key in secret_keys)  # forgotten after 2 days


@pytest.mark.parametrize(
    "path", ["/static/termino/termino.css", "/media/t_x/branding/logo.png", "/favicon.ico", "/healthz"]
)
def test_static_files_and_health_checks_are_not_logged(business_a, path):
    client_for(business_a.host).get(path)
    assert buffered() == []


def test_redis_down_never_fails_a_request(business_a, settings, monkeypatch):
    settings.ACCESS_LOG_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    client = client_for(business_a.host)
    assert client.get("/login/").status_code == 200
    assert not buffer.breaker.allows()  # it stops trying for a while

    calls = []
    monkeypatch.setattr(buffer, "push", lambda entry: calls.append(entry))
    assert client.get("/login/").status_code == 200
    assert calls == []


def test_an_error_while_recording_never_fails_a_request(business_a, monkeypatch):
    def broken(entry):
        raise redis.ConnectionError("gone")

    monkeypatch.setattr(buffer, "push", broken)
    assert client_for(business_a.host).get("/login/").status_code == 200


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [
        ("/book/manage/q8Zr3kP0aLmN2vX7yT4wE9sD/", "/book/manage/:token/"),
        ("/book/ics/q8Zr3kP0aLmN2vX7yT4wE9sD.ics", "/book/ics/:token.ics"),
        ("/webhooks/lox24/abcdefghijklmnopqrstuvwxyzabcdefgh/", "/webhooks/lox24/:token/"),
        ("/settings/messages/reminder/sms/", "/settings/messages/reminder/sms/"),
        ("/customers/42/", "/customers/42/"),
        ("/settings/appointment-reminders/", "/settings/appointment-reminders/"),
    ],
)
def test_secrets_in_paths_are_masked(path, cleaned):
    assert recording.clean_path(path) == cleaned


@pytest.mark.parametrize(
    ("header", "referrer"),
    [
        ("https://www.google.com/search?q=x", "https://www.google.com/search"),
        ("http://example.com:8080/a/b#frag", "http://example.com:8080/a/b"),
        ("https://user:secret@example.com/", "https://example.com/"),
        ("android-app://com.google.android.gm/", ""),
        ("javascript:alert(1)", ""),
        ("not a url", ""),
        ("", ""),
    ],
)
def test_referrers_keep_origin_and_path_only(header, referrer):
    assert recording.clean_referrer(header) == referrer


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("en;q=0.5,fr-CH;q=0.9", "fr"),
        ("*", ""),
        ("", ""),
        ("x" * 600, ""),
    ],
)
def test_primary_language(header, language):
    assert recording.primary_language(header) == language
