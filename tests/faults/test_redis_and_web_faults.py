"""Redis stopped under a running site, and a web worker killed in the middle of a booking.

gunicorn (deploy/gunicorn.conf.py, one worker) and a Celery worker run against the test database and a
Redis of this module's own, which the tests stop, freeze (SIGSTOP) and start again; the session's Redis is
never touched.
"""

import json
import os
import re
import secrets
import signal
import threading
import time
from http.cookies import SimpleCookie

import psycopg
import pytest
from django.db import connection

from termino.platform.tenancy import services as tenancy
from termino.platform.tenancy.models import Tenant
from tests import clock
from tests.conftest import PASSWORD, provision
from tests.tenants.notifications.worker_process import _database_url, kill, private_broker

from .stack import start_web, stop, wait_for, web_env
from .world import Bookable, count, half_written, key

NUMBERS: dict[str, str] = {}
BOOK = "/api/public/v1/bookings/"


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory):
    from django_tenants.utils import schema_context

    from termino.tenants.business.models import BusinessSettings
    from tests.tenants.scheduling.factories import salon

    tmp = tmp_path_factory.mktemp("faults")
    # The processes live for the module, so they learn the tests' pinned instant now (a few seconds ahead
    # of each test's own clock by the time it runs: form tokens look a little older, nothing else changes).
    pin = clock.Pin(clock.DEFAULT).start()
    with django_db_blocker.unblock():
        business = provision(f"t-webfault-{secrets.token_hex(3)}")
        with schema_context(business.schema):
            service, _staff, _room = salon(staff_count=2)
            BusinessSettings.objects.update_or_create(id=1, defaults={"max_open_bookings": 1000})
        connection.set_schema_to_public()
    shop = Bookable(
        host=business.host,
        schema=business.schema,
        service_id=service.pk,
        slug=business.tenant.slug,
        owner=business.owner_username,
    )
    try:
        with private_broker(tmp / "redis") as broker:
            # A frozen Redis holds a cache call this long: the window in which a worker is killed below.
            env = web_env(
                database_url=_database_url(), redis_url=broker.redis.url, tmp=tmp, CACHE_REDIS_TIMEOUT="5"
            )
            web = start_web(env, tmp, workers=1)
            worker = broker.worker(env)
            try:
                yield shop, web, broker
            finally:
                kill(worker)
                stop(web.process)
    finally:
        pin.stop()
        with django_db_blocker.unblock():
            connection.set_schema_to_public()
            tenancy.tenant_delete(tenant=Tenant.objects.get(schema_name=business.schema))
        print("\nRedis and web worker numbers:", json.dumps(NUMBERS, indent=1))


@pytest.fixture
def db(site):
    conn = psycopg.connect(_database_url(), autocommit=True)
    yield conn
    conn.close()


def _login(web, shop) -> tuple[int, int]:
    """Log in through the form like a browser: (status of the POST, status of the home page after it)."""
    page = web.request(shop.host, "/login/")
    assert page.status == 200, page.body[:300]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1)
    cookies = SimpleCookie()
    for value in page.headers.get_all("Set-Cookie") or []:
        cookies.load(value)
    csrf = cookies["csrftoken"].value
    form = f"username={shop.owner}&password={PASSWORD}&csrfmiddlewaretoken={token}"
    answer = web.request(
        shop.host,
        "/login/",
        method="POST",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}"},
    )
    session = SimpleCookie()
    for value in answer.headers.get_all("Set-Cookie") or []:
        session.load(value)
    home = web.request(shop.host, "/", headers={"Cookie": f"sessionid={session['sessionid'].value}"})
    return answer.status, home.status


def test_without_redis_bookings_reads_and_logins_work_and_queued_work_resumes(site, db):
    shop, web, broker = site
    assert web.request(shop.host, shop.availability_path()).status == 200  # routing cached in Redis

    broker.redis.stop()
    stopped = time.monotonic()
    read = web.request(shop.host, shop.availability_path())
    assert read.status == 200, read.body[:300]
    # A booking without SMS: the per-IP limits are open while they cannot count.
    booking_key = key()
    booked = web.request(
        shop.host,
        BOOK,
        method="POST",
        body=shop.body(100, phone=False),
        headers={"Idempotency-Key": booking_key},
    )
    assert booked.status == 201, booked.body[:300]
    # A booking that would send an SMS: its limits fail closed, and nothing is written.
    before = count(db, shop.schema, "scheduling_appointment")
    sms = web.request(shop.host, BOOK, method="POST", body=shop.body(101), headers={"Idempotency-Key": key()})
    assert sms.status in (429, 503) and sms.retry_after, (sms.status, sms.body[:300])
    assert count(db, shop.schema, "scheduling_appointment") == before
    assert _login(web, shop) == (302, 200)
    NUMBERS.update(
        {
            "availability without Redis": f"{read.seconds * 1000:.0f} ms",
            "booking without Redis": f"{booked.seconds * 1000:.0f} ms",
            "SMS booking refused without Redis": f"{sms.status} in {sms.seconds * 1000:.0f} ms",
        }
    )

    # The confirmation of the booking made meanwhile waits in the outbox, and goes when Redis is back.
    appointment = booked.json()["id"]
    where = "appointment_id = %s AND kind = 'confirmation' AND status = %s"
    assert count(db, shop.schema, "notifications_outboxmessage", where, [appointment, "queued"]) == 1
    time.sleep(max(0.0, 3 - (time.monotonic() - stopped)))  # long enough for the worker to notice
    broker.redis.start()
    started = time.monotonic()
    assert wait_for(
        lambda: count(db, shop.schema, "notifications_outboxmessage", where, [appointment, "sent"]) == 1,
        60,
        broker.tick,
        every=1,
    )
    NUMBERS["Redis away"] = f"{started - stopped:.1f} s"
    NUMBERS["queued confirmation sent after Redis was back"] = f"{time.monotonic() - started:.1f} s"
    assert web.request(shop.host, shop.availability_path()).status == 200


def _locked_resources(shop):
    """Hold every resource row of the business: a booking then waits inside its transaction."""
    locker = psycopg.connect(_database_url())
    locker.execute(f'SELECT id FROM "{shop.schema}".scheduling_resource FOR UPDATE')
    return locker


def _waiting_on_a_lock(db) -> bool:
    return (
        db.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0]
        > 0
    )


def _stored(db, shop, idempotency_key: str):
    row = db.execute(
        f'SELECT status_code, body FROM "{shop.schema}".booking_idempotentrequest WHERE key = %s',
        [idempotency_key],
    ).fetchone()
    return row


def _in_thread(function):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("answer", function()))
    thread.start()
    return thread, result


def test_a_web_worker_killed_mid_booking_and_the_retry_gets_the_stored_answer(site, db):
    shop, web, broker = site
    redis_pid = broker.redis._process.pid

    # 1. Killed after the booking committed, before its answer left (held there by a frozen Redis).
    committed_key = key()
    body = shop.body(200, phone=False)
    locker = _locked_resources(shop)
    worker_pid = web.worker_pids()[0]
    thread, result = _in_thread(
        lambda: web.request(
            shop.host, BOOK, method="POST", body=body, headers={"Idempotency-Key": committed_key}
        )
    )
    try:
        assert wait_for(lambda: _waiting_on_a_lock(db), 20, every=0.05)
        os.kill(redis_pid, signal.SIGSTOP)
        locker.commit()
        assert wait_for(lambda: (_stored(db, shop, committed_key) or (0,))[0] == 201, 20, every=0.02)
        os.kill(worker_pid, signal.SIGKILL)
    finally:
        os.kill(redis_pid, signal.SIGCONT)
        locker.close()
    thread.join(30)
    assert result["answer"].status == 0, "the client should have lost its connection"
    began = time.monotonic()
    retry = web.request(shop.host, BOOK, method="POST", body=body, headers={"Idempotency-Key": committed_key})
    NUMBERS["retry answered after the kill (new worker booting)"] = f"{time.monotonic() - began:.1f} s"
    assert retry.status == 201, retry.body[:300]
    _code, stored_body = _stored(db, shop, committed_key)
    assert retry.json() == stored_body
    assert count(db, shop.schema, "scheduling_appointment", "start = %s", [shop.slot(200)]) == 1

    # 2. Killed before the commit: nothing was stored, the retry books it, once.
    rolled_back_key = key()
    body = shop.body(202, phone=False)
    locker = _locked_resources(shop)
    worker_pid = web.wait_for_workers(1)[0]
    thread, result = _in_thread(
        lambda: web.request(
            shop.host, BOOK, method="POST", body=body, headers={"Idempotency-Key": rolled_back_key}
        )
    )
    try:
        assert wait_for(lambda: _waiting_on_a_lock(db), 20, every=0.05)
        os.kill(worker_pid, signal.SIGKILL)
    finally:
        locker.commit()
        locker.close()
    thread.join(30)
    assert result["answer"].status == 0
    retry = web.request(
        shop.host, BOOK, method="POST", body=body, headers={"Idempotency-Key": rolled_back_key}
    )
    assert retry.status == 201, retry.body[:300]
    assert count(db, shop.schema, "scheduling_appointment", "start = %s", [shop.slot(202)]) == 1
    assert count(db, shop.schema, "booking_idempotentrequest", "key = %s", [rolled_back_key]) == 1
    assert half_written(db, shop.schema) == []
