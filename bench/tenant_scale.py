"""Per-request cost at 10, 1,000 and 10,000 businesses on one server: is it flat?

One business is provisioned for real and given what a small salon has (a service bookable online, three staff
members with working hours, a few weeks of appointments, an API token); its schema is dumped and replayed
under new names (bench/catalog.py, as bench/migrations.py does), each copy's filled tables analysed
(autovacuum would otherwise analyse 50,000 tables of 10,000 copies while the bench measures, invalidating what
every connection has cached) and each copy registered as a business with its own host. At N = 10, 1,000 and
10,000 businesses the deployment of the Helm chart, on two cores: two web pods of one worker each (gunicorn
with deploy/gunicorn.conf.py and the production settings), behind an nginx that sends each host to the same
pod (`hash $host consistent`, what ingress.hostAffinity asks of ingress-nginx), serves `REQUESTS` requests per
endpoint, each to a business drawn at random from all N. Each pod's connection thus serves about N/2
businesses, and keeps their catalog entries while it lives: CONN_MAX_AGE (600 s by default; the bench sets 2
hours, so that no connection ends during its visit of all businesses) and CONN_MAX_SCHEMAS, which the bench
sets to N so that a connection keeps every business of its pod (the memory that costs is printed after the
1,000 and 10,000 rounds; docs/scaling.md sizes it). The endpoints:

- `booking_page`: GET /book/ (HTML, anonymous);
- `public_availability`: GET /api/public/v1/availability/ for one day (the answer cache switched off, so
  each request computes: with it on, a run at N = 10 would measure cache hits and one at 10,000 misses);
- `staff_api`: GET /api/v1/appointments/ for one week with an API token.

Before measuring at N > 10 every business is visited once on each endpoint (`visit_each`), as on a server
that has been up for a while: its memory holds their pages as far as memory allows, and its connections
the catalog entries of the businesses they served. The requests before that visit, to businesses no
connection has seen and whose pages may still be on disk, are measured too and printed beside.

Prints `tenant_scale` per N and endpoint (p50/p95 ms), `tenant_scale_memory` (RSS of each web worker
after the 1,000 and 10,000 rounds, and of the PostgreSQL backends serving them), and
`tenant_scale` with `p50_ratio_10000_vs_10`, the worst of the three endpoints, beside the size of the database
and its catalog and the machine's memory.
`.venv/bin/python bench/tenant_scale.py [--sizes 10,1000,10000] [--requests 400]`
"""

import argparse
import contextlib
import copy
import http.client
import os
import random
import threading
import time
from datetime import timedelta

import catalog
import psutil
from _harness import (
    PROXY_HEADERS,
    bench_signup,
    emit,
    gunicorn,
    host_hashing_proxy,
    log,
    percentile,
    setup_django,
)

REQUESTS = 400
ROUND = 25  # requests per endpoint and host set before the next set's turn
SIZES = (10, 1_000, 10_000)
PODS = 2  # web pods of one gunicorn worker each, one per core; each worker keeps one database connection
CLONE_CONNECTIONS = 2  # the machine has two cores


def prepare_source():
    """The source business: provisioned, with a salon's data and an API token; returns what requests need."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from termino.platform.tenancy import services as tenancy
    from termino.shared import timeutils
    from termino.tenants.accounts.models import User
    from termino.tenants.accounts.services import api_token_create
    from termino.tenants.scheduling import services as scheduling
    from tests.tenants.scheduling.factories import BERLIN, next_monday, salon

    tenancy.schema_pool_fill(size=1)
    tenant = tenancy.tenant_provision(signup=bench_signup("scalesrc", make_password("Bench-Password-2026")))
    tenant.email_confirmed_at = timezone.now()
    tenant.save(update_fields=["email_confirmed_at"])
    with schema_context(tenant.schema_name):
        service, staff, _room = salon(staff_count=3)
        monday = next_monday()
        for week in range(4):
            for day in range(5):
                for n, person in enumerate(staff):
                    start = timeutils.shift(monday, timedelta(days=7 * week + day, hours=n))
                    scheduling.appointment_create(
                        booking=scheduling.Booking(service=service, start=start, staff=person)
                    )
        token = api_token_create(user=User.objects.get(), name="bench").key
    day = timeutils.localtime(monday, BERLIN).date()
    return tenant, {"service": service.pk, "day": day, "token": token}


def grow(url: str, source_sql: str, source, names: list[str]) -> None:
    """Clone the source schema under `names` (two connections in parallel) and register each as a business."""
    from termino.platform.tenancy import services as tenancy
    from termino.platform.tenancy.models import Domain, Tenant

    done = [0]
    lock = threading.Lock()

    def progress(_):
        with lock:
            done[0] += 1
            if done[0] % 500 == 0:
                log(f"  {done[0]}/{len(names)} schemas cloned")

    groups = [names[i::CLONE_CONNECTIONS] for i in range(CLONE_CONNECTIONS)]
    threads = [
        threading.Thread(
            target=catalog.clone_schemas,
            args=(url, source_sql, source.schema_name, group, progress),
            kwargs={"analyze": True},  # as autovacuum would have, long before a measure on a real server
        )
        for group in groups
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    def twin(name: str) -> Tenant:
        clone = copy.copy(source)
        clone.pk = clone.id = None
        clone.schema_name, clone.slug, clone.name = name, name[2:].replace("_", "-"), name
        clone.email = f"{name}@bench.example"
        return clone

    tenants = Tenant.objects.bulk_create(twin(name) for name in names)
    Domain.objects.bulk_create(
        Domain(domain=tenancy.business_host(t.slug), tenant=t, is_primary=True) for t in tenants
    )


def endpoints_of(data: dict) -> dict[str, tuple[str, dict]]:
    day = data["day"].isoformat()
    week_end = (data["day"] + timedelta(days=6)).isoformat()
    return {
        "booking_page": ("/book/", {}),
        "public_availability": (
            f"/api/public/v1/availability/?service={data['service']}&start={day}&end={day}",
            {},
        ),
        "staff_api": (
            f"/api/v1/appointments/?start={day}&end={week_end}",
            {"Authorization": f"Token {data['token']}"},
        ),
    }


def visit_each(port: int, hosts: list[str], data: dict) -> None:
    """Every endpoint of every business once, from one client per worker: the server has served each
    business before, as one that has been up for a while has. Its memory then holds their pages as far as
    it can hold them; the workers' connections have been recycled on the way (max_requests, CONN_MAX_AGE),
    so what they cache of each business's catalog is not left warm by this."""
    endpoints = endpoints_of(data)
    done = [0]
    lock = threading.Lock()

    def client(share: list[str], lane: int) -> None:
        for host in share:
            for path, extra in endpoints.values():
                with lock:
                    done[0] += 1
                    sent = done[0]
                    if sent % 5_000 == 0:
                        log(f"  {sent}/{len(hosts) * len(endpoints)} requests")
                address = f"198.{19 + lane}.{sent // 250 % 250}.{sent % 250}"
                headers = {**PROXY_HEADERS, "X-Forwarded-For": address, "Host": host, **extra}
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                conn.close()
                assert response.status == 200, (path, host, response.status, body[:300])

    threads = [threading.Thread(target=client, args=(hosts[i::PODS], i)) for i in range(PODS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


REQUESTS_TO = {
    "all": "{size} of them",
    "ten": "{ten} of them",
    "first": "{size} of them, before each was visited once",
}


def measure(port: int, host_sets: dict[str, list[str]], data: dict, rng: random.Random) -> dict:
    """REQUESTS requests per endpoint and host set, each to a business drawn from the set, as one client
    (latency, not throughput). The sets take turns in rounds of ROUND requests, so a burst of noise on
    the machine falls on all of them alike: {(set, endpoint): [seconds]}."""
    endpoints = endpoints_of(data)
    results: dict[tuple[str, str], list[float]] = {}
    sent = 0
    for _ in range(max(1, REQUESTS // ROUND)):
        for label, hosts in host_sets.items():
            for name, (path, extra) in endpoints.items():
                seconds = results.setdefault((label, name), [])
                for _ in range(min(ROUND, REQUESTS)):
                    sent += 1
                    address = f"198.18.{sent // 250 % 250}.{sent % 250}"
                    host = rng.choice(hosts)
                    headers = {**PROXY_HEADERS, "X-Forwarded-For": address, "Host": host, **extra}
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    t0 = time.perf_counter()
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    body = response.read()
                    seconds.append(time.perf_counter() - t0)
                    conn.close()
                    assert response.status == 200, (name, headers["Host"], response.status, body[:300])
    return results


def workers_rss_mb(ports: list[int]) -> list[float]:
    sizes = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "gunicorn" in " ".join(cmdline) and any(f"127.0.0.1:{port}" in cmdline for port in ports):
            sizes += [round(child.memory_info().rss / 2**20, 1) for child in proc.children()]
    return sorted(sizes)


def backends_rss_mb(url: str) -> list[float]:
    """RSS of the PostgreSQL backends serving the web workers (all connections of the bench database)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        )]  # fmt: skip
    sizes = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            sizes.append(round(psutil.Process(pid).memory_info().rss / 2**20, 1))
    return sorted(sizes)


def main(sizes: tuple[int, ...]) -> None:
    setup_django("termino_bench_tenant_scale")
    from django.core.management import call_command
    from django.db import connection

    from termino.platform.tenancy import services as tenancy

    url = os.environ["DATABASE_URL"]
    log("collecting static files (the booking page links them by hashed name, as in production) ...")
    call_command("collectstatic", interactive=False, verbosity=0)
    source, data = prepare_source()
    source_sql = catalog.clone_source_sql(url, source.schema_name)
    connection.set_schema_to_public()
    hosts = [tenancy.business_host(source.slug)]
    rng = random.Random(20270113)
    p50: dict[tuple[int, str, str], float] = {}
    made = 0
    for size in sizes:
        names = [f"t_scale_{i:06d}" for i in range(made, size - 1)]
        if names:
            log(f"cloning {len(names)} business schemas (to {size}) ...")
            started = time.perf_counter()
            grow(url, source_sql, source, names)
            log(f"  {len(names)} in {time.perf_counter() - started:.0f} s")
            hosts += [tenancy.business_host(name[2:].replace("_", "-")) for name in names]
            made = size - 1
        connection.close()  # the web workers are the database's clients while measuring
        # Every size is measured twice, turn about: requests spread over all N businesses, and requests to
        # 10 of them (what a server with 10 businesses serves), so the ratio is not the machine's noise.
        host_sets = {"all": hosts, "ten": hosts[:10]} if size > 10 else {"all": hosts}
        log(f"measuring at {size} businesses ...")
        # CONN_MAX_AGE beyond the visit: on a slow host the visit of 10,000 took 903 s, and a connection
        # closed by the 600 s default mid-visit then kept only the businesses served after it.
        env = {"PUBLIC_AVAILABILITY_CACHE_SECONDS": "0", "CONN_MAX_SCHEMAS": str(size)}
        env["CONN_MAX_AGE"] = "7200"
        with contextlib.ExitStack() as pods:
            web = [pods.enter_context(gunicorn(workers=1, config=True, **env)) for _ in range(PODS)]
            port = pods.enter_context(host_hashing_proxy(web))
            measure(port, {"warm-up": hosts[:10]}, data, random.Random(1))  # imports, first connections
            results = {}
            if size > 10:
                # For reference: the same requests right after the copying, before any business was visited.
                results = measure(port, {"first": hosts}, data, random.Random(size))
                log(f"visiting each of the {size} businesses once (a server that has been up a while) ...")
                started = time.perf_counter()
                visit_each(port, hosts, data)
                log(f"  in {time.perf_counter() - started:.0f} s")
            results.update(measure(port, host_sets, data, rng))
            if size >= 1_000:
                emit(
                    bench="tenant_scale_memory",
                    businesses=size,
                    web_worker_rss_mb=workers_rss_mb(web),
                    db_backend_rss_mb=backends_rss_mb(url),
                    note=f"after requests spread over {size:,} businesses, {PODS} web pods of one worker "
                    f"with hosts hashed onto them: each worker's connection served about {size // PODS:,}",
                )
        for (label, endpoint), seconds in results.items():
            ms = [s * 1000 for s in seconds]
            p50[size, label, endpoint] = percentile(ms, 50)
            emit(
                bench="tenant_scale",
                businesses=size,
                requests_to=REQUESTS_TO[label].format(size=size, ten=min(size, 10)),
                endpoint=endpoint,
                p50_ms=round(percentile(ms, 50), 2),
                p95_ms=round(percentile(ms, 95), 2),
                n=len(ms),
            )
    low, high = min(sizes), max(sizes)
    endpoints = sorted({endpoint for (_, _, endpoint) in p50})
    # The target: p50 with all `high` businesses in play over p50 with 10 in play, measured turn about on
    # the same server; and the same against the separate run at `low` businesses, for reference.
    ten = "ten" if high > 10 else "all"
    same_run = {e: round(p50[high, "all", e] / p50[high, ten, e], 3) for e in endpoints}
    separate = {e: round(p50[high, "all", e] / p50[low, "all", e], 3) for e in endpoints}
    first = {
        e: round(p50[high, "first", e] / p50[high, ten, e], 3) for e in endpoints if (high, "first", e) in p50
    }
    emit(
        bench="tenant_scale",
        **{f"p50_ratio_{high}_vs_{low}": max(same_run.values())},
        per_endpoint=same_run,
        separate_runs=separate,
        before_the_visit=first,
        web=f"{PODS} pods of one gunicorn worker, hosts hashed onto them; CONN_MAX_SCHEMAS = businesses",
        **_database_size(url),
        # Whether the database fits in memory decides most of the ratio: a request to a business whose
        # pages the OS no longer caches reads them from disk (docs/scaling.md, point 3).
        machine_ram_mb=round(psutil.virtual_memory().total / 2**20),
    )


def _database_size(url: str) -> dict:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows, size, catalog = conn.execute(
            "SELECT (SELECT count(*) FROM pg_class), pg_database_size(current_database()),"
            " (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
            "  WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r')"
        ).fetchone()
    return {"pg_class_rows": rows, "database_mb": round(size / 2**20), "catalog_mb": round(catalog / 2**20)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--requests", type=int, default=REQUESTS)
    args = parser.parse_args()
    REQUESTS = args.requests
    main(tuple(int(n) for n in args.sizes.split(",")))
