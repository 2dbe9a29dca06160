"""Races with real concurrent connections: many pulls of one calendar at once read it once (and never write
its busy times twice); many "new address" clicks at once leave exactly one live feed token."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import time

from django.db import connection
from django_tenants.utils import schema_context

from termino.tenants.calendars import services as calendars
from termino.tenants.calendars.models import ExternalBusy, FeedToken
from termino.tenants.scheduling.models import Closure
from tests.tenants.scheduling.factories import next_monday

from .helpers import team
from .radicale_server import PASSWORD, event_ics

THREADS = 8


def _together(business, work):
    barrier = threading.Barrier(THREADS)

    def run(_n):
        try:
            with schema_context(business.schema):
                barrier.wait(timeout=30)
                return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def test_concurrent_pulls_read_the_calendar_once(committed_db, radicale, settings):
    business = committed_db("t-calsync-race")
    _service, anna, _ben, _users = team(business)
    url = radicale.make_calendar("anna", "race-pull")
    radicale.put_event("anna", "race-pull", event_ics("a", next_monday(time(10)), next_monday(time(11))))
    with schema_context(business.schema):
        conn = calendars.caldav_connect(resource=anna, url=url, username="anna", password=PASSWORD)
    settings.CALDAV_MIN_PULL_SECONDS = 60
    results = _together(business, lambda: calendars.caldav_pull(connection_id=conn.pk, on_demand=True))
    assert sorted(results) == ["ok"] + ["skipped"] * (THREADS - 1)
    # Without the minimum, concurrent pulls may each read it (one claimed a moment later skips), and still
    # write each busy time once.
    settings.CALDAV_MIN_PULL_SECONDS = 0
    radicale.put_event("anna", "race-pull", event_ics("b", next_monday(time(14)), next_monday(time(15))))
    results = _together(business, lambda: calendars.caldav_pull(connection_id=conn.pk, on_demand=True))
    assert "ok" in results and set(results) <= {"ok", "unchanged", "skipped"}
    with schema_context(business.schema):
        assert sorted(ExternalBusy.objects.values_list("uid", flat=True)) == ["a", "b"]
        assert Closure.objects.filter(resource=anna).count() == 2


def test_concurrent_new_addresses_leave_one_live_token(committed_db):
    business = committed_db("t-calsync-token-race")
    _service, anna, _ben, (anna_user, _) = team(business)
    tokens = _together(business, lambda: calendars.feed_token_issue(resource=anna, user=anna_user))
    assert len(set(tokens)) == THREADS
    with schema_context(business.schema):
        assert FeedToken.objects.filter(resource=anna, revoked_at__isnull=True).count() == 1
        assert FeedToken.objects.filter(resource=anna).count() == THREADS
    tokens = _together(business, lambda: calendars.feed_token_issue(resource=None, user=None))
    with schema_context(business.schema):
        assert FeedToken.objects.filter(resource__isnull=True, revoked_at__isnull=True).count() == 1
