"""PostgreSQL restarted while the web serves and the workers send: fast 503s, quick recovery, nothing lost.

A dedicated PostgreSQL (a `pg_basebackup` copy of the test server, so it holds the migrated database and
the business) serves gunicorn (2 workers) and a Celery worker; Redis is the test's own; LOX24 is the local
fake, answering each SMS after 0.15 s so the worker is mid-batch when the database goes. While requests run
in a loop the server is stopped (`pg_ctl stop -m fast`: sessions are cut), kept away for 2 seconds and
started again. Every booking that was refused is retried with its Idempotency-Key afterwards.
"""

import json
import threading
import time

import psycopg
import pytest
from django.utils import timezone

from tests.fakes.lox24 import FakeLox24
from tests.platform.backups.scratch import (
    base_backup,
    scratch_root,
    scratch_server,
    session_database,
    session_port,
)
from tests.tenants.notifications.worker_process import kill, private_broker

from .stack import start_web, stop, wait_for, web_env
from .world import bookable, count, half_written, key

OUTAGE_SECONDS = 2
BEFORE = 10  # bookings made before the restart, whose confirmations are being sent during it
NUMBERS: dict[str, object] = {}


@pytest.fixture
def fake():
    with FakeLox24() as server:
        yield server


def test_a_database_restart_gives_503s_then_everything_works_and_nothing_is_lost(
    committed_db, fake, tmp_path
):
    shop = bookable(committed_db, "dbfault")
    with scratch_root() as root:
        clone = base_backup(session_port(), root / "pg" / "pgdata")
        _with_servers(shop, clone, fake, tmp_path)
    print("\ndatabase restart numbers:", json.dumps(NUMBERS, indent=1))


def _with_servers(shop, clone, fake, tmp_path):
    with scratch_server(clone, fast=True) as pg, private_broker(tmp_path / "redis") as broker:
        database_url = pg.url(session_database())
        env = web_env(database_url=database_url, redis_url=broker.redis.url, tmp=tmp_path)
        web = start_web(env, tmp_path, workers=2)
        worker_env = {
            **env,
            "SMS_BACKEND": "lox24",
            "LOX24_API_URL": fake.url,
            "LOX24_TOKEN": fake.token,
            "OUTBOX_STUCK_AFTER_SECONDS": "2",
            "OUTBOX_BACKOFF_SECONDS": "1",
        }
        worker_log = (tmp_path / "worker.log").open("wb")
        worker = broker.worker(worker_env, output=worker_log)
        try:
            _run(shop, web, pg, broker, fake, database_url)
        finally:
            kill(worker)
            stop(web.process)
            worker_log.close()


def _run(shop, web, pg, broker, fake, database_url):
    keys = {}
    for n in range(BEFORE):
        keys[n] = key()
        answer = web.request(
            shop.host,
            "/api/public/v1/bookings/",
            method="POST",
            body=shop.body(n),
            headers={"Idempotency-Key": keys[n]},
        )
        assert answer.status == 201, answer.body
    workers_before = web.worker_pids()
    fake.delay_replies(0.15)
    broker.tick()
    assert wait_for(lambda: len(fake.messages) >= 2, 20)

    answers: list[tuple[str, int, object]] = []  # (kind, n, Answer)
    stop_loop = threading.Event()

    def load() -> None:
        n = BEFORE
        while not stop_loop.is_set():
            answers.append(("read", n, web.request(shop.host, shop.availability_path(), timeout=20)))
            keys[n] = key()
            answers.append(
                (
                    "book",
                    n,
                    web.request(
                        shop.host,
                        "/api/public/v1/bookings/",
                        method="POST",
                        body=shop.body(n),
                        headers={"Idempotency-Key": keys[n]},
                        timeout=20,
                    ),
                )
            )
            n += 1
            time.sleep(0.3)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        time.sleep(1)
        down_at = time.monotonic()
        pg.stop()
        stopped_at = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        restart_at = time.monotonic()
        pg.start()
        up_at = time.monotonic()
        time.sleep(3)
    finally:
        stop_loop.set()
        loader.join(60)

    # Only requests made while the server was certainly away: `pg_ctl stop` may still answer a request
    # for a few milliseconds after it was asked to stop, and the server accepts connections again
    # before `pg_ctl start -w` returns.
    away = [(k, a) for k, _n, a in answers if stopped_at <= a.at and a.at + a.seconds <= restart_at]
    during = [a for _k, a in away]
    after = [a for _k, _n, a in answers if a.at >= up_at]
    statuses = sorted({a.status for _k, _n, a in answers})
    assert 500 not in statuses and 0 not in statuses, (statuses, web.output())
    assert during, "no request was made while the database was away"
    # A booking needs the database: a 503 that says when to retry. The booking page's free times may still
    # come from the cache (Redis), which needs no database: a 200 there is the cache doing its job.
    answered = [(k, a.status, a.retry_after) for k, a in away if not (a.status == 503 and a.retry_after)]
    assert all(k == "read" and status == 200 for k, status, _retry in answered), answered
    assert any(k == "book" for k, _a in away), "no booking was tried while the database was away"
    assert max(a.seconds for a in during) < 2, "requests must fail fast, not hang"
    first_ok = min(a.at + a.seconds for a in after if a.status in (200, 201))
    NUMBERS.update(
        {
            "stop (pg_ctl -m fast)": f"{stopped_at - down_at:.2f} s",
            "requests while away": len(during),
            "slowest answer while away": f"{max(a.seconds for a in during) * 1000:.0f} ms",
            "pg_ctl start -w": f"{up_at - stopped_at - OUTAGE_SECONDS:.2f} s",
            "first success after the server was up again": f"{first_ok - up_at:.2f} s",
        }
    )
    assert first_ok - up_at < 5
    assert all(a.status in (200, 201) for a in after if a.at > first_ok + 0.5)
    assert web.worker_pids() == workers_before, "a gunicorn worker hung or died"

    # Every refused booking is retried with its key: each ends as exactly one appointment.
    booked = {n for kind, n, a in answers if kind == "book" and a.status == 201}
    refused = [n for kind, n, a in answers if kind == "book" and a.status != 201]
    for n in refused:
        answer = web.request(
            shop.host,
            "/api/public/v1/bookings/",
            method="POST",
            body=shop.body(n),
            headers={"Idempotency-Key": keys[n]},
        )
        assert answer.status == 201, answer.body
        booked.add(n)
    total = BEFORE + len(booked)
    db = psycopg.connect(database_url, autocommit=True)  # the test's own connection, made after the restart
    assert count(db, shop.schema, "scheduling_appointment") == total
    assert half_written(db, shop.schema) == []
    assert count(db, shop.schema, "booking_idempotentrequest", "status_code = 201") == total
    NUMBERS["bookings"] = f"{total} ({len(refused)} refused during the outage, retried)"

    # Every SMS confirmation goes out exactly once, also those being sent when the database went.
    fake.delay_replies(0)
    time.sleep(2.5)  # OUTBOX_STUCK_AFTER_SECONDS: a row left `sending` is looked up, not resent

    def settled() -> bool:  # reminders are queued for later: only what is due counts
        due = "status IN ('queued', 'sending') AND due_at <= %s"
        return count(db, shop.schema, "notifications_outboxmessage", due, [timezone.now()]) == 0

    began = time.monotonic()
    settled_in_time = wait_for(settled, 40, broker.tick, every=1)
    assert settled_in_time, (
        db.execute(
            f'SELECT status, channel, attempts, count(*) FROM "{shop.schema}".notifications_outboxmessage '
            "GROUP BY 1, 2, 3"
        ).fetchall(),
        db.execute(
            "SELECT pid, state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall(),
        len(fake.messages),
    )
    NUMBERS["messages settled after the last tick began"] = f"{time.monotonic() - began:.1f} s"
    sms = count(
        db,
        shop.schema,
        "notifications_outboxmessage",
        "channel = 'sms' AND kind = 'confirmation' AND status = 'sent'",
    )
    assert sms == total
    callbacks = [m["callback_data"] for m in fake.messages]
    assert len(callbacks) == len(set(callbacks)) == total, "an SMS was lost or sent twice"
    db.close()
