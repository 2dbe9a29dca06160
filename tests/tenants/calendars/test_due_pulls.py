"""Scheduled pulls go through the due index: a connected calendar marks its business due at its next pull,
beat's dispatcher visits only that business (a real worker runs the pull), and the run writes the next
pull time back; a business without calendars is never visited for it."""

import time
from datetime import time as clock

from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from termino import celery_app
from termino.platform.duework import due
from termino.platform.duework.models import DueWork
from termino.tenants.calendars import crypto
from termino.tenants.calendars.models import CalDavConnection, ExternalBusy
from termino.tenants.calendars.services import PULL_KIND
from tests.tenants.scheduling.factories import next_monday

from .helpers import team
from .radicale_server import PASSWORD, event_ics


def _row(business):
    connection.set_schema_to_public()
    return DueWork.objects.filter(tenant=business.tenant, kind=PULL_KIND).first()


def test_beat_pulls_a_due_calendar_through_the_due_index(committed_db, radicale):
    business = committed_db("t-calsync-due")
    quiet = committed_db("t-calsync-quiet")
    _service, anna, _ben, _users = team(business)
    url = radicale.make_calendar("anna", "due-pull")
    radicale.put_event("anna", "due-pull", event_ics("kurs", next_monday(clock(9)), next_monday(clock(10))))
    now = timezone.now()
    with schema_context(business.schema), transaction.atomic():
        # As stored earlier and due now (no first sync queued: the dispatcher is what is tested).
        conn = CalDavConnection.objects.create(
            resource=anna,
            url=url,
            username="anna",
            password_encrypted=crypto.encrypt(PASSWORD),
            next_pull_at=now,
        )
        due.mark(PULL_KIND, now)
    assert _row(business).due_at == now
    assert _row(quiet) is None
    # What provisioning queued (refilling the spare schemas, a minute on a busy machine) is not this test's.
    celery_app.control.purge()
    with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
        started = time.monotonic()
        celery_app.send_task("duework.dispatch")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with schema_context(business.schema):
                conn.refresh_from_db()
            if conn.state == "ok":
                break
            time.sleep(0.1)
        print(f"dispatch to pulled: {time.monotonic() - started:.1f} s")
        assert conn.state == "ok"
        with schema_context(business.schema):
            assert ExternalBusy.objects.filter(connection=conn).count() == 1
        # The run wrote the next pull back (after the run's own commit).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _row(business).due_at != conn.next_pull_at:
            time.sleep(0.1)
    assert _row(business).due_at == conn.next_pull_at
    assert (conn.next_pull_at - conn.last_pulled_at).total_seconds() == settings.CALDAV_PULL_INTERVAL_SECONDS
    assert _row(quiet) is None
