"""From the Redis buffer into the table (every minute), and out of it after ACCESS_LOG_DAYS (nightly)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from termino import celery_app
from termino.platform.accesslog import buffer
from termino.platform.accesslog import tasks as _tasks  # noqa: F401 (registers the tasks used below)
from termino.platform.accesslog.models import AccessLogEntry
from termino.platform.accesslog.services import access_log_flush, access_log_prune, browser_and_os
from tests.conftest import client_for

from .conftest import buffered

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)


def entry(**overrides) -> dict:
    data = {
        "t": datetime.now(UTC).timestamp(),
        "o": 60,
        "h": "alpha-salon.localhost",
        "s": "t_alpha_salon",
        "m": "GET",
        "p": "/book/",
        "c": 200,
        "b": 1234,
        "r": "",
        "u": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "l": "de",
        "v": "0123456789abcdef",
    }
    data.update(overrides)
    return data


def row(at: datetime, **fields) -> AccessLogEntry:
    values = {
        "at": at,
        "utc_offset_minutes": 60,
        "host": "alpha-salon.localhost",
        "schema": "t_alpha_salon",
        "method": "GET",
        "path": "/book/",
        "status": 200,
        "visitor": "0123456789abcdef",
    }
    values.update(fields)
    return AccessLogEntry.objects.create(**values)


def test_the_flush_writes_the_buffered_requests_in_bulk(business_a, django_assert_max_num_queries):
    client = client_for(business_a.host)
    for _ in range(5):
        client.get("/login/")
    assert len(buffered()) == 5
    with django_assert_max_num_queries(4):  # one INSERT for all (plus the schema switch and savepoint)
        assert access_log_flush() == 5
    assert AccessLogEntry.objects.filter(schema=business_a.schema, path="/login/").count() == 5
    assert buffered() == []
    assert access_log_flush() == 0


def test_the_flush_task_runs_in_public_even_after_a_tenant_task(business_a):
    from django.db import connection

    buffer.push(entry())
    connection.set_schema(business_a.schema)
    assert celery_app.tasks["accesslog.flush"].apply().get() == 1
    assert connection.schema_name == "public" and AccessLogEntry.objects.count() == 1


def test_batches_and_a_flush_that_died_half_way(business_a):
    client = buffer.client()
    # A flush died after taking the buffer: its processing list is still there; new requests came since.
    for n in range(5):
        client.rpush(buffer.PROCESSING_KEY, json.dumps(entry(p=f"/old/{n}/")))
    for _ in range(2):
        buffer.push(entry(p="/new/"))

    assert access_log_flush(batch_size=2) == 5  # the processing list first, in batches of two
    assert not client.exists(buffer.PROCESSING_KEY)
    assert access_log_flush(batch_size=2) == 2  # then the buffer
    assert sorted(AccessLogEntry.objects.values_list("path", flat=True)) == sorted(
        [*(f"/old/{n}/" for n in range(5)), "/new/", "/new/"]
    )


def test_a_malformed_entry_is_dropped_not_the_batch(business_a):
    client = buffer.client()
    client.rpush(buffer.BUFFER_KEY, b"{not json")
    for bad in (entry(v="203.0.113.77"), entry(c=999), entry(p="no-slash"), {"t": 1}):
        client.rpush(buffer.BUFFER_KEY, json.dumps(bad))
    buffer.push(entry())
    assert access_log_flush() == 1
    assert AccessLogEntry.objects.count() == 1


def test_the_buffer_is_capped(business_a, settings):
    settings.ACCESS_LOG_BUFFER_MAX = 3
    for n in range(5):
        buffer.push(entry(p=f"/{n}/"))
    assert [json.loads(raw)["p"] for raw in buffered()] == ["/2/", "/3/", "/4/"]


def test_user_agents(business_a):
    assert browser_and_os(entry()["u"]) == ("Firefox", "Linux")
    assert browser_and_os(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1"
    ) == ("Mobile Safari", "iOS")
    assert browser_and_os("") == ("", "")
    assert browser_and_os("curl/8.5.0")[0] == "curl"


def test_entries_are_deleted_after_access_log_days(business_a, settings):
    now = timezone.now()
    settings.ACCESS_LOG_DAYS = 14
    outside = row(now - timedelta(days=14) - SECOND)
    inside = row(now - timedelta(days=14) + SECOND)
    assert access_log_prune(now=now, batch_size=1) == 1
    assert list(AccessLogEntry.objects.values_list("pk", flat=True)) == [inside.pk]
    assert not AccessLogEntry.objects.filter(pk=outside.pk).exists()

    settings.ACCESS_LOG_DAYS = 3
    assert celery_app.tasks["accesslog.prune"].apply().get() == 1
    assert not AccessLogEntry.objects.exists()


def test_beat_runs_the_flush_every_minute_and_the_prune_nightly():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["accesslog-flush"] == {"task": "accesslog.flush", "schedule": 60.0}
    assert schedule["accesslog-prune"]["task"] == "accesslog.prune"
    assert isinstance(schedule["accesslog-prune"]["schedule"], crontab)
