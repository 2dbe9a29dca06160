"""The public booking flow under load: 200 virtual customers booking at 50 businesses for 60 s.

Each virtual customer loops through the booking page's steps against a real gunicorn as deployed
(deploy/gunicorn.conf.py, five workers on two cores) behind an nginx keeping connections to it alive (as
deploy/nginx does), over the public API under /api/public/v1/:

    services (the form token) → availability (one day) → hold (a free slot) → booking

Two runs of 60 s each on the same server, the customers arriving over the first RAMP_SECONDS (20 a second,
not all 200 in the same millisecond):

- `pace: people`: each customer takes the time a person takes between the steps: 2-5 s to choose a
  service and a day, 2-5 s to choose a time, 8-15 s to fill in the form. 200 such customers are about 10
  rounds (40 requests) a second.
- `pace: none`: no pause but the one the bot check requires before booking (a booking sent sooner than
  PUBLIC_FORM_MIN_SECONDS, 3 s, after the form token is refused; the customer waits 3.2 s): as many rounds
  as the server can take. Its latencies are queueing, and it shows what saturates first.

Every round comes from a new client address (`X-Forwarded-For`, which gunicorn's NUM_PROXIES=1 trusts one
deep, from 198.18.0.0/15, the benchmarking range; only ever sent to 127.0.0.1) with its own e-mail address
and no SMS consent, so the per-IP, per-phone and holds-per-IP limits count each round as the separate
customer it stands for. A slot taken by another customer meanwhile is a 409, reported with the other
statuses.

Prints one JSON line per measure and run: `booking_load_step` per step (requests, p50/p95/p99 ms,
statuses), `booking_load` (requests/s, rounds, bookings, 5xx, double bookings found in SQL after the run,
the p95 of every request), and `booking_load_cpu` (mean CPU of the gunicorn workers, PostgreSQL and the
load generator, sampled with psutil, and which saturates first).
`.venv/bin/python bench/booking_load.py [--seconds 60] [--pace people|none|both]`
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
from _harness import bench_signup, emit, gunicorn, host_hashing_proxy, log, percentile, setup_django

BUSINESSES, CUSTOMERS, SECONDS, WORKERS = 50, 200, 60, 5
RAMP_SECONDS = 10
FILL_SECONDS = 3.2  # pace "none": just past the bot check's 3 s
# pace "people": seconds a person takes after the services (service and day), the availability (a time)
# and the hold (the form), drawn uniformly.
PEOPLE = {"services": (2, 5), "availability": (2, 5), "form": (8, 15)}
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


async def customer(number, session, base, businesses, deadline, tally, rng, people):
    today = time.time()

    async def think(step: str) -> None:
        if people:
            await asyncio.sleep(rng.uniform(*PEOPLE[step]))

    await asyncio.sleep(number % CUSTOMERS * RAMP_SECONDS / CUSTOMERS)  # each run's customers arrive anew
    for round_ in range(1_000_000):
        if time.monotonic() >= deadline:
            return
        # A customer makes at most ~20 rounds a minute: 300 addresses each keep 400 customers apart.
        address = str(ADDRESSES[1 + (number * 300 + round_) % (ADDRESSES.num_addresses - 2)])
        host, service = rng.choice(businesses)
        status, body = await call(session, tally, "services", "GET", f"{base}/services/", host, address)
        if status != 200:
            continue
        token, token_at = body["form_token"], time.monotonic()
        await think("services")
        day = time.strftime("%Y-%m-%d", time.gmtime(today + 86400 * rng.randint(2, 55)))
        query = {"service": service, "start": day, "end": day}
        status, body = await call(
            session, tally, "availability", "GET", f"{base}/availability/", host, address, params=query
        )
        if status != 200 or not body["slots"]:
            continue
        start = rng.choice(body["slots"])["start"]
        await think("availability")
        status, body = await call(
            session, tally, "hold", "POST", f"{base}/holds/", host, address,
            json={"service": service, "start": start, "form_token": token},
        )  # fmt: skip
        hold = body["hold"] if status == 201 else ""
        if people:
            await think("form")
        else:
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


async def load(port: int, businesses, seconds: float, tally: Tally, people: bool, first: int) -> float:
    """Customers numbered from `first` (each run its own addresses and e-mails) until `seconds` are over."""
    base = f"http://127.0.0.1:{port}/api/public/v1"
    connector = aiohttp.TCPConnector(limit=CUSTOMERS)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.monotonic()
        deadline = began + seconds
        await asyncio.gather(
            *(
                customer(n, session, base, businesses, deadline, tally, random.Random(n), people)
                for n in range(first, first + CUSTOMERS)
            )
        )
        return time.monotonic() - began


def report(pace: str, tally: Tally, elapsed: float, sampler: "CpuSampler") -> dict:
    """Print the run's step and CPU lines; return its `booking_load` line (double bookings come later)."""
    requests = sum(len(v) for v in tally.latency.values())
    for step in STEPS:
        ms = [s * 1000 for s in tally.latency[step]] or [0.0]
        emit(
            bench="booking_load_step",
            pace=pace,
            step=step,
            n=len(tally.latency[step]),
            p50_ms=round(percentile(ms, 50), 1),
            p95_ms=round(percentile(ms, 95), 1),
            p99_ms=round(percentile(ms, 99), 1),
            statuses=dict(sorted(tally.statuses[step].items())),
        )
    every = [s * 1000 for v in tally.latency.values() for s in v] or [0.0]
    mean = {k: round(sum(v) / len(v), 1) if v else 0.0 for k, v in sampler.samples.items()}
    cores = psutil.cpu_count()
    # A gunicorn worker is one process: the web tier tops out at min(workers, cores) cores; PostgreSQL
    # at all of them. Whichever is nearer its ceiling saturates first.
    web_share = mean["gunicorn"] / (100 * min(WORKERS, cores))
    db_share = mean["postgres"] / (100 * cores)
    emit(
        bench="booking_load_cpu",
        pace=pace,
        cores=cores,
        gunicorn_cpu_pct=mean["gunicorn"],
        postgres_cpu_pct=mean["postgres"],
        client_cpu_pct=mean["client"],
        machine_cpu_pct=mean["machine"],
        saturates_first="gunicorn" if web_share >= db_share else "postgres",
    )
    return {
        "bench": "booking_load",
        "pace": pace,
        "businesses": BUSINESSES,
        "customers": CUSTOMERS,
        "seconds": round(elapsed, 1),
        "requests_per_s": round(requests / elapsed, 1),
        "p95_ms": round(percentile(every, 95), 1),
        "p99_ms": round(percentile(every, 99), 1),
        "rounds": tally.rounds,
        "booked_201": tally.booked,
        "errors_5xx": sum(n for c in tally.statuses.values() for s, n in c.items() if s.startswith("5")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=SECONDS, help="how long new rounds start (60)")
    parser.add_argument("--pace", choices=("people", "none", "both"), default="both")
    args = parser.parse_args()
    paces = ("people", "none") if args.pace == "both" else (args.pace,)
    businesses = prepare()
    db_port = int(os.environ["DATABASE_URL"].rsplit(":", 1)[1].split("/")[0])
    booked_before = 0
    with (
        gunicorn(workers=WORKERS, config=True, REQUEST_LOG_LEVEL="WARNING") as port,
        host_hashing_proxy([port]) as front,
    ):
        server = next(
            p for p in psutil.process_iter(["cmdline"]) if f"127.0.0.1:{port}" in (p.info["cmdline"] or [])
        )
        database = postmaster(db_port)
        for number, pace in enumerate(paces):
            tally = Tally()
            sampler = CpuSampler(
                {
                    "gunicorn": lambda: processes_of(server),
                    "postgres": lambda: processes_of(database),
                    "client": lambda: [psutil.Process()],
                }
            )
            sampler.start()
            log(f"{CUSTOMERS} customers (pace: {pace}) at {BUSINESSES} businesses, {args.seconds:.0f} s ...")
            elapsed = asyncio.run(
                load(front, businesses, args.seconds, tally, pace == "people", first=number * CUSTOMERS)
            )
            sampler.stop.set()
            sampler.join()
            line = report(pace, tally, elapsed, sampler)
            bookings, overlaps = double_bookings()  # every run so far: 0 overlaps, whatever came before
            emit(**line, bookings_in_db=bookings - booked_before, double_bookings=overlaps)
            booked_before = bookings


if __name__ == "__main__":
    main()
