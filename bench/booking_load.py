"""The public booking flow under load: 200 virtual customers booking at 50 businesses for 60 s.

Each virtual customer loops through the booking page's steps against a real gunicorn (as deployed: five
workers on two cores, behind one trusted proxy), over the public API under /api/public/v1/:

    services (the form token) → availability (one day) → hold (a free slot) → booking (after 3.2 s)

The pause before booking is a person filling in the form: a booking sent sooner than PUBLIC_FORM_MIN_SECONDS
(3 s) after the form token is refused as a bot. Every round comes from a new client address
(`X-Forwarded-For`, which gunicorn's NUM_PROXIES=1 trusts one deep, from 198.18.0.0/15, the benchmarking
range; only ever sent to 127.0.0.1) with its own e-mail address and no SMS consent, so the per-IP,
per-phone and holds-per-IP limits count each round as the separate customer it stands for. A slot taken
by another customer meanwhile is a 409, reported with the other statuses.

Prints one JSON line per measure: `booking_load_step` per step (requests, p50/p95/p99 ms, statuses),
`booking_load` (requests/s, rounds, bookings, 5xx, double bookings found in SQL afterwards), and
`booking_load_cpu` (mean CPU of the gunicorn workers, PostgreSQL and the load generator, sampled with
psutil, and which saturates first). `.venv/bin/python bench/booking_load.py [--seconds 60]`
"""

import argparse
import asyncio
import ipaddress
import os
import random
import threading
import time
from collections import Counter, defaultdict

import aiohttp
import psutil
from _harness import bench_signup, emit, gunicorn, log, percentile, setup_django

BUSINESSES, CUSTOMERS, SECONDS, WORKERS = 50, 200, 60, 5
FILL_SECONDS = 3.2
STEPS = ("services", "availability", "hold", "booking")
ADDRESSES = ipaddress.ip_network("198.18.0.0/15")


def prepare() -> list[tuple[str, int]]:
    """Businesses with a service and three staff members, open Monday to Saturday: (host, service id)."""
    setup_django("termino_bench_booking")
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django_tenants.utils import schema_context

    from termino.platform.tenancy import services as tenancy
    from tests.tenants.scheduling.factories import salon

    log(f"provisioning {BUSINESSES} businesses ...")
    tenancy.schema_pool_fill(size=BUSINESSES)
    hashed = make_password("Bench-Password-2026")
    businesses = []
    for n in range(BUSINESSES):
        tenant = tenancy.tenant_provision(signup=bench_signup(f"load-{n}", hashed))
        with schema_context(tenant.schema_name):
            service, _staff, _room = salon(staff_count=3)
        businesses.append((tenancy.business_host(tenant.slug), service.pk))
    connection.set_schema_to_public()
    connection.close()  # gunicorn's workers are the database's clients from here on
    return businesses


class Tally:
    def __init__(self):
        self.latency = defaultdict(list)
        self.statuses = defaultdict(Counter)
        self.rounds = self.booked = 0

    def add(self, step: str, began: float, status) -> None:
        self.latency[step].append(time.perf_counter() - began)
        self.statuses[step][str(status)] += 1


async def call(session, tally, step, method, url, host, address, **kwargs):
    headers = {"Host": host, "X-Forwarded-Proto": "https", "X-Forwarded-For": address}
    began = time.perf_counter()
    try:
        async with session.request(method, url, headers=headers, **kwargs) as response:
            body = await response.json(content_type=None) if response.status < 500 else None
            tally.add(step, began, response.status)
            return response.status, body
    except (aiohttp.ClientError, TimeoutError) as exc:
        tally.add(step, began, type(exc).__name__)
        return None, None


async def customer(number, session, base, businesses, deadline, tally, rng):
    today = time.time()
    for round_ in range(1_000_000):
        if time.monotonic() >= deadline:
            return
        address = str(ADDRESSES[1 + (number * 1_000 + round_) % (ADDRESSES.num_addresses - 2)])
        host, service = rng.choice(businesses)
        status, body = await call(session, tally, "services", "GET", f"{base}/services/", host, address)
        if status != 200:
            continue
        token, token_at = body["form_token"], time.monotonic()
        day = time.strftime("%Y-%m-%d", time.gmtime(today + 86400 * rng.randint(2, 55)))
        query = {"service": service, "start": day, "end": day}
        status, body = await call(
            session, tally, "availability", "GET", f"{base}/availability/", host, address, params=query
        )
        if status != 200 or not body["slots"]:
            continue
        start = rng.choice(body["slots"])["start"]
        status, body = await call(
            session, tally, "hold", "POST", f"{base}/holds/", host, address,
            json={"service": service, "start": start, "form_token": token},
        )  # fmt: skip
        hold = body["hold"] if status == 201 else ""
        await asyncio.sleep(max(0.0, token_at + FILL_SECONDS - time.monotonic()))
        booking = {
            "service": service, "start": start, "hold": hold, "form_token": token,
            "first_name": "Lea", "last_name": f"Last {number}", "email": f"c{number}-{round_}@load.example",
            "phone": "", "privacy_consent": True, "sms_consent": False, "website": "",
        }  # fmt: skip
        status, _body = await call(
            session, tally, "booking", "POST", f"{base}/bookings/", host, address, json=booking
        )
        tally.rounds += 1
        tally.booked += status == 201


def processes_of(root: psutil.Process) -> list[psutil.Process]:
    return [root, *root.children(recursive=True)]


def postmaster(port: int) -> psutil.Process:
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            return psutil.Process(conn.pid)
    raise RuntimeError(f"no process listens on port {port}")


class CpuSampler(threading.Thread):
    """CPU of each group of processes, in % of one core, once a second."""

    def __init__(self, groups):
        super().__init__(daemon=True)
        self.groups, self.samples, self.stop = groups, defaultdict(list), threading.Event()

    def run(self):
        known = {}
        while not self.stop.wait(1.0):
            for name, find in self.groups.items():
                total = 0.0
                for proc in find():
                    try:
                        total += known.setdefault(proc.pid, proc).cpu_percent(None)
                    except psutil.Error:
                        known.pop(proc.pid, None)
                self.samples[name].append(total)
            self.samples["machine"].append(psutil.cpu_percent(None) * psutil.cpu_count())


def double_bookings() -> tuple[int, int]:
    """(bookings, overlapping pairs of active allocations of one resource) over every business, in SQL."""
    import django.db

    from termino.platform.tenancy.models import Tenant

    bookings = overlaps = 0
    with django.db.connection.cursor() as cursor:
        for schema in Tenant.objects.filter(slug__startswith="load-").values_list("schema_name", flat=True):
            cursor.execute(
                f'SELECT count(*) FROM "{schema}".scheduling_appointment WHERE status <> %s', ["held"]
            )
            bookings += cursor.fetchone()[0]
            allocations = f'"{schema}".scheduling_allocation'
            cursor.execute(
                f"SELECT count(*) FROM {allocations} a JOIN {allocations} b"
                " ON a.resource_id = b.resource_id AND a.id < b.id AND a.period && b.period"
                " AND a.session <> b.session WHERE a.active AND b.active"
            )
            overlaps += cursor.fetchone()[0]
    return bookings, overlaps


async def load(port: int, businesses, seconds: float, tally: Tally) -> float:
    base = f"http://127.0.0.1:{port}/api/public/v1"
    connector = aiohttp.TCPConnector(limit=CUSTOMERS)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.monotonic()
        deadline = began + seconds
        await asyncio.gather(
            *(
                customer(n, session, base, businesses, deadline, tally, random.Random(n))
                for n in range(CUSTOMERS)
            )
        )
        return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=SECONDS, help="how long new rounds start (60)")
    seconds = parser.parse_args().seconds
    businesses = prepare()
    db_port = int(os.environ["DATABASE_URL"].rsplit(":", 1)[1].split("/")[0])
    tally = Tally()
    with gunicorn(workers=WORKERS, REQUEST_LOG_LEVEL="WARNING") as port:
        server = next(
            p for p in psutil.process_iter(["cmdline"]) if f"127.0.0.1:{port}" in (p.info["cmdline"] or [])
        )
        database = postmaster(db_port)
        sampler = CpuSampler(
            {
                "gunicorn": lambda: processes_of(server),
                "postgres": lambda: processes_of(database),
                "client": lambda: [psutil.Process()],
            }
        )
        sampler.start()
        log(f"{CUSTOMERS} customers at {BUSINESSES} businesses for {seconds:.0f} s ...")
        elapsed = asyncio.run(load(port, businesses, seconds, tally))
        sampler.stop.set()
        sampler.join()
    requests = sum(len(v) for v in tally.latency.values())
    for step in STEPS:
        ms = [s * 1000 for s in tally.latency[step]] or [0.0]
        emit(
            bench="booking_load_step",
            step=step,
            n=len(tally.latency[step]),
            p50_ms=round(percentile(ms, 50), 1),
            p95_ms=round(percentile(ms, 95), 1),
            p99_ms=round(percentile(ms, 99), 1),
            statuses=dict(sorted(tally.statuses[step].items())),
        )
    bookings, overlaps = double_bookings()
    server_errors = sum(n for c in tally.statuses.values() for s, n in c.items() if s.startswith("5"))
    emit(
        bench="booking_load",
        businesses=BUSINESSES,
        customers=CUSTOMERS,
        seconds=round(elapsed, 1),
        requests_per_s=round(requests / elapsed, 1),
        rounds=tally.rounds,
        booked_201=tally.booked,
        bookings_in_db=bookings,
        errors_5xx=server_errors,
        double_bookings=overlaps,
    )
    mean = {k: round(sum(v) / len(v), 1) if v else 0.0 for k, v in sampler.samples.items()}
    cores = psutil.cpu_count()
    # A gunicorn worker is one process: the web tier tops out at min(workers, cores) cores; PostgreSQL
    # at all of them. Whichever is nearer its ceiling saturates first.
    web_share = mean["gunicorn"] / (100 * min(WORKERS, cores))
    db_share = mean["postgres"] / (100 * cores)
    emit(
        bench="booking_load_cpu",
        cores=cores,
        gunicorn_cpu_pct=mean["gunicorn"],
        postgres_cpu_pct=mean["postgres"],
        client_cpu_pct=mean["client"],
        machine_cpu_pct=mean["machine"],
        saturates_first="gunicorn" if web_share >= db_share else "postgres",
    )


if __name__ == "__main__":
    main()
