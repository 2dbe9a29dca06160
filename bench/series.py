"""Appointment series: how long the preview of a 52-week series takes (each date checked, the taken ones
with their nearest free alternative from the availability engine) and booking all 52 in one transaction,
on a staff member whose year is already half full.

    python bench/series.py [runs]
"""

import sys
import time
from datetime import time as clock_time
from datetime import timedelta

from _harness import bench_signup, emit, log, setup_django, summary_ms

WEEKS = 52


def main(runs: int = 10) -> None:
    setup_django("termino_bench_series")
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django_tenants.utils import schema_context

    from termino.platform.tenancy import services as tenancy
    from termino.shared import timeutils
    from termino.tenants.scheduling import series, services
    from termino.tenants.scheduling.events import Actor
    from termino.tenants.scheduling.models import Resource, Service, WeeklyHours
    from termino.tenants.scheduling.recurrence import Recurrence
    from termino.tenants.scheduling.series_selectors import occurrences_check, series_needs

    tenancy.schema_pool_fill(size=1)
    tenant = tenancy.tenant_provision(
        signup=bench_signup("series-bench", make_password("Bench-Password-2026"))
    )
    zone = timeutils.zone(tenant.time_zone)
    with schema_context(tenant.schema_name):
        physio = Service.objects.create(name="Krankengymnastik", duration_minutes=30, min_notice_minutes=0)
        anna = Resource.objects.create(kind="staff", name="Anna")
        physio.resources.set([anna])
        for weekday in range(5):
            WeeklyHours.objects.create(weekday=weekday, start=clock_time(8), end=clock_time(18))
        first = timeutils.today(zone) + timedelta(days=7)
        log("filling a year: every weekday 08:00-13:00 booked, every fourth Tuesday 14:00 too ...")
        day = first
        while day < first + timedelta(weeks=WEEKS + 1):
            if day.weekday() < 5:
                for slot in range(10):
                    start = timeutils.shift(timeutils.local_at(day, clock_time(8), zone), minutes=30 * slot)
                    services.appointment_create(
                        booking=services.Booking(service=physio, start=start, staff=anna)
                    )
            day += timedelta(days=1)
        tuesday = first + timedelta(days=(1 - first.weekday()) % 7)
        for week in range(0, WEEKS, 4):
            start = timeutils.local_at(tuesday + timedelta(weeks=week), clock_time(14), zone)
            services.appointment_create(booking=services.Booking(service=physio, start=start, staff=anna))

        rule = Recurrence(first_date=tuesday, time=clock_time(14), frequency="weekly", count=WEEKS)
        needs = series_needs(service=physio, staff=anna, room=None)
        starts = rule.starts(zone)
        previews = []
        for _ in range(runs):
            began = time.perf_counter()
            checks = occurrences_check(needs=needs, starts=starts, zone=zone)
            previews.append(time.perf_counter() - began)
        taken = sum(not c.free for c in checks)
        emit(**summary_ms("series_preview_52_weeks", previews, taken=taken, alternatives=taken))

        chosen = [c.start if c.free else c.alternative.start for c in checks]
        bookings = []
        for _ in range(runs):
            began = time.perf_counter()
            with transaction.atomic():
                series.series_book(
                    actor=Actor(source="api"),
                    service=physio,
                    recurrence=rule,
                    zone=zone,
                    staff=anna,
                    starts=chosen,
                )
                bookings.append(time.perf_counter() - began)
                transaction.set_rollback(True)  # the same 52 dates again in the next run
        emit(**summary_ms("series_book_52_weeks", bookings, occurrences=len(chosen)))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
