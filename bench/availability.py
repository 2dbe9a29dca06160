"""Availability and booking at realistic size: 10 staff, 2 rooms, 2,000 appointments over 60 days.

Prints `availability_engine` (the pure engine, in-process; `availability_engine_until_midnight` the same
business open until 24:00), `availability_api` (GET through a real HTTP server with the production
settings, token auth) for one service over 30 days and any staff, `availability_day_api` for one staff
member and one day, `public_availability_api` / `public_availability_day_api` the same questions on the
booking page's endpoint (no token; answers cached per business until something changes: `_uncached` with
the cache off), and `booking_create` (appointments per second through the booking service, exclusion
constraint and row locks on). `availability_visit` asks the staff API when a visit of two services with
processing time (colour 15+30+15, toning 10+20+15) can start, any staff, over 30 days, after 300 of them
were booked too (their staff gaps partly filled by cuts); `availability_visit_engine` is the same
in-process (one statement and the engine), `public_availability_visit_uncached` the booking page's
endpoint with its cache off. `.venv/bin/python bench/availability.py`
"""

import dataclasses
import http.client
import json
import time
from datetime import datetime, timedelta
from datetime import time as clock_time

from _harness import PROXY_HEADERS, bench_signup, emit, gunicorn, log, setup_django, summary_ms

STAFF, ROOMS, APPOINTMENTS, DAYS, QUERY_DAYS = 10, 2, 2000, 60, 30


def main(runs: int = 50) -> None:
    setup_django("termino_bench_availability")
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django_tenants.utils import schema_context

    from termino.platform.tenancy import services as tenancy
    from termino.tenants.accounts.models import User
    from termino.tenants.accounts.services import api_token_create
    from termino.tenants.scheduling import availability, selectors
    from termino.tenants.scheduling import services as scheduling
    from termino.tenants.scheduling.models import Resource, Service, WeeklyHours

    tenancy.schema_pool_fill(size=1)
    tenant = tenancy.tenant_provision(
        signup=bench_signup("avail-bench", make_password("Bench-Password-2026"))
    )
    zone = availability.ZoneInfo(tenant.time_zone)
    with schema_context(tenant.schema_name):
        haircut = Service.objects.create(
            name="Schnitt", duration_minutes=30, buffer_after_minutes=5, min_notice_minutes=0
        )
        colour = Service.objects.create(
            name="Farbe", duration_minutes=60, requires_room=True, min_notice_minutes=0
        )
        staff = [Resource.objects.create(kind="staff", name=f"Staff {n}") for n in range(STAFF)]
        rooms = [Resource.objects.create(kind="room", name=f"Room {n}") for n in range(ROOMS)]
        haircut.resources.set(staff)
        colour.resources.set(staff + rooms)
        for weekday in range(7):
            WeeklyHours.objects.create(weekday=weekday, start=clock_time(8), end=clock_time(20))
            for s in staff:
                WeeklyHours.objects.create(
                    resource=s, weekday=weekday, start=clock_time(8), end=clock_time(12)
                )
                WeeklyHours.objects.create(
                    resource=s, weekday=weekday, start=clock_time(13), end=clock_time(20)
                )

        log(f"booking {APPOINTMENTS} appointments ...")
        first_day = datetime.now(zone).date() + timedelta(days=1)
        plan = []
        for day in range(DAYS):
            for n, s in enumerate(staff):
                for hour in (8, 10, 13, 15, 17):
                    start = datetime.combine(
                        first_day + timedelta(days=day), clock_time(hour, 15 * (n % 3)), zone
                    )
                    plan.append((colour if (day + n + hour) % 10 == 0 else haircut, s, start))
        plan = plan[:APPOINTMENTS]
        began = time.perf_counter()
        made = 0
        for service, s, start in plan:
            try:
                scheduling.appointment_create(
                    booking=scheduling.Booking(service=service, start=start, staff=s)
                )
                made += 1
            except scheduling.Conflict:
                pass  # both rooms taken: the bench plan is dense on purpose
        booking_seconds = time.perf_counter() - began

        query_start = first_day
        query_end = first_day + timedelta(days=QUERY_DAYS - 1)
        # Load once, then time the pure engine on exactly what the selector hands it.
        inputs = selectors.availability_inputs(
            service=haircut, start_date=query_start, end_date=query_end, time_zone=tenant.time_zone
        )
        slots = availability.free_slots(**inputs)
        engine = []
        for _ in range(runs):
            t0 = time.perf_counter()
            availability.free_slots(**inputs)
            engine.append(time.perf_counter() - t0)

        # The same business open until 24:00 (20:00 ends moved to midnight): the engine then also looks
        # at the days after the last one, where an evening appointment could run on into the night.
        def until_midnight(hours):
            return tuple(
                dataclasses.replace(h, end=availability.END_OF_DAY) if h.end == clock_time(20) else h
                for h in hours
            )

        late_inputs = {
            **inputs,
            "business_hours": until_midnight(inputs["business_hours"]),
            "resources": [dataclasses.replace(c, hours=until_midnight(c.hours)) for c in inputs["resources"]],
        }
        late_slots = availability.free_slots(**late_inputs)
        late = []
        for _ in range(runs):
            t0 = time.perf_counter()
            availability.free_slots(**late_inputs)
            late.append(time.perf_counter() - t0)
        token = api_token_create(user=User.objects.get(), name="bench").key
    connection.set_schema_to_public()

    host = tenancy.business_host("avail-bench")
    month = f"service={haircut.pk}&start={query_start}&end={query_end}"
    day = f"service={haircut.pk}&start={query_start}&end={query_start}&resource={staff[0].pk}"
    staff_headers = {"Host": host, "Authorization": f"Token {token}", **PROXY_HEADERS}
    visitors = iter(range(10, 250))

    def public_headers() -> dict:
        """A visitor of their own for each measure: the public endpoint limits requests per address."""
        return {"Host": host, **PROXY_HEADERS, "X-Forwarded-For": f"198.51.100.{next(visitors)}"}

    def timed(port: int, path: str, headers: dict) -> tuple[list[float], bytes]:
        """`runs` GETs on one kept-alive connection, as a browser or an API client sends them."""
        conn = http.client.HTTPConnection("127.0.0.1", port)
        seconds = []
        for n in range(runs + 5):
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - t0
            assert response.status == 200, (response.status, body[:300])
            if n >= 5:  # warm-up: both workers have connected and loaded
                seconds.append(elapsed)
        conn.close()
        return seconds, body

    # Served by gunicorn as deployed (deploy/gunicorn.conf.py, two workers, warmed up) on a free port.
    results = {}
    with gunicorn(workers=2, config=True) as port:
        results["availability_api"], body = timed(port, f"/api/v1/availability/?{month}", staff_headers)
        results["availability_day_api"], _ = timed(port, f"/api/v1/availability/?{day}", staff_headers)
        results["public_availability_api"], _ = timed(
            port, f"/api/public/v1/availability/?{month}", public_headers()
        )
        results["public_availability_day_api"], _ = timed(
            port, f"/api/public/v1/availability/?{day}", public_headers()
        )
    with gunicorn(workers=2, config=True, PUBLIC_AVAILABILITY_CACHE_SECONDS="0") as port:
        results["public_availability_api_uncached"], _ = timed(
            port, f"/api/public/v1/availability/?{month}", public_headers()
        )
    visit_results, visit_engine, visit_slots = _visits(tenant, staff, haircut, first_day, zone, runs, timed)
    results.update(visit_results)
    api_slots = len(json.loads(body)["slots"])
    log(f"{made} appointments booked; {len(slots)} slots over {QUERY_DAYS} days, {api_slots} via the API")

    emit(**summary_ms("availability_engine", engine, slots=len(slots)))
    emit(**summary_ms("availability_engine_until_midnight", late, slots=len(late_slots)))
    for name, seconds in results.items():
        emit(**summary_ms(name, seconds))
    emit(bench="booking_create", per_s=round(made / booking_seconds), n=made)
    emit(**summary_ms("availability_visit_engine", visit_engine, slots=visit_slots))


def _visits(tenant, staff, haircut, first_day, zone, runs, timed):
    """Measured after the other lines, so their data stays as it was: two services with processing time,
    300 of them booked (each followed, where free, by a cut in the stylist's gap), then the visit asked."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from termino.platform.tenancy import services as tenancy
    from termino.tenants.accounts.models import User
    from termino.tenants.accounts.services import api_token_create
    from termino.tenants.scheduling import selectors
    from termino.tenants.scheduling import services as scheduling
    from termino.tenants.scheduling.models import Service

    with schema_context(tenant.schema_name):
        colour = Service.objects.create(
            name="Farbe mit Einwirkzeit", duration_minutes=60, processing_after_minutes=15,
            processing_minutes=30, min_notice_minutes=0,
        )  # fmt: skip
        toning = Service.objects.create(
            name="Tönung", duration_minutes=45, processing_after_minutes=10, processing_minutes=20,
            min_notice_minutes=0,
        )  # fmt: skip
        colour.resources.set(staff)
        toning.resources.set(staff)
        booked = 0
        for day in range(QUERY_DAYS):
            for n, s in enumerate(staff):
                start = datetime.combine(first_day + timedelta(days=day), clock_time(11, 15 * (n % 2)), zone)
                try:
                    scheduling.appointment_create(
                        booking=scheduling.Booking(service=colour, start=start, staff=s)
                    )
                    booked += 1
                    scheduling.appointment_create(
                        booking=scheduling.Booking(
                            service=haircut, start=start + timedelta(minutes=15), staff=s
                        )
                    )
                except scheduling.Conflict:
                    pass
        log(f"{booked} colour appointments with processing time booked")
        query_end = first_day + timedelta(days=QUERY_DAYS - 1)
        engine, slots = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            slots = selectors.visit_free_slots(
                service_ids=[colour.pk, toning.pk], start_date=first_day, end_date=query_end,
                time_zone=tenant.time_zone,
            )  # fmt: skip
            engine.append(time.perf_counter() - t0)
        assert slots, "the bench visit found no slot"
        token = api_token_create(user=User.objects.get(), name="bench-visits").key
    connection.set_schema_to_public()
    host = tenancy.business_host("avail-bench")
    query = f"services={colour.pk},{toning.pk}&start={first_day}&end={query_end}"
    headers = {"Host": host, "Authorization": f"Token {token}", **PROXY_HEADERS}
    results = {}
    with gunicorn(workers=2, config=True) as port:
        results["availability_visit"], _ = timed(port, f"/api/v1/visits/availability/?{query}", headers)
    with gunicorn(workers=2, config=True, PUBLIC_AVAILABILITY_CACHE_SECONDS="0") as port:
        public = {"Host": host, **PROXY_HEADERS, "X-Forwarded-For": "198.51.100.251"}
        results["public_availability_visit_uncached"], _ = timed(
            port, f"/api/public/v1/visits/availability/?{query}", public
        )
    return results, engine, len(slots)


if __name__ == "__main__":
    main()
