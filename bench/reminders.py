"""10,000 due reminders across 100 businesses, sent by real Celery worker processes through the fake LOX24.

Prints `{"bench": "reminders", "per_s": …, "lag_p95_ms": …}`: messages per second from the first beat tick to
the last row sent, and the lag from each row's due time to its sending. `.venv/bin/python bench/reminders.py`
"""

import os
import subprocess
import sys
import time
from datetime import timedelta

from _harness import ROOT, bench_signup, emit, log, percentile, setup_django

BUSINESSES, PER_BUSINESS = 100, 100


def main() -> None:
    setup_django("termino_bench_reminders")
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from termino import celery_app
    from termino.platform.tenancy import services as tenancy
    from termino.tenants.crm.models import Consent, Customer
    from termino.tenants.notifications.models import OutboxMessage
    from termino.tenants.scheduling.models import Appointment, Service
    from tests.fakes.lox24 import FakeLox24

    log(f"provisioning {BUSINESSES} businesses ...")
    tenancy.schema_pool_fill(size=BUSINESSES)
    hashed = make_password("Bench-Password-2026")
    schemas = [
        tenancy.tenant_provision(signup=bench_signup(f"remind-{n}", hashed)).schema_name
        for n in range(BUSINESSES)
    ]
    log(f"queueing {BUSINESSES * PER_BUSINESS} due reminders ...")
    for schema in schemas:
        with schema_context(schema):
            service = Service.objects.create(name="Termin", duration_minutes=30)
            customer = Customer.objects.create(first_name="Rita", last_name="Remind", phone="+491701234567")
            Consent.objects.create(customer=customer, kind="sms_reminders", granted=True, source="bench")
            start = timezone.now() + timedelta(days=1)
            appointments = Appointment.objects.bulk_create(
                Appointment(
                    service=service,
                    customer=customer,
                    start=start + timedelta(hours=i),
                    end=start + timedelta(hours=i, minutes=30),
                )
                for i in range(PER_BUSINESS)
            )
            OutboxMessage.objects.bulk_create(
                OutboxMessage(
                    channel="sms",
                    kind="reminder",
                    recipient=customer.phone,
                    appointment=a,
                    customer=customer,
                    due_at=timezone.now(),
                    idempotency_key=f"reminder:{a.pk}:bench",
                )
                for a in appointments
            )
    connection.set_schema_to_public()
    celery_app.connection_for_write().default_channel.client.flushdb()  # no leftovers from earlier runs

    with FakeLox24() as fake:
        env = {**os.environ, "SMS_BACKEND": "lox24", "LOX24_API_URL": fake.url, "LOX24_TOKEN": fake.token}
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "termino",
                "worker",
                "--concurrency",
                "2",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            time.sleep(3)  # worker start-up is not what we measure
            began = time.monotonic()
            celery_app.send_task("tenancy.fan_out", kwargs={"task_name": "notifications.send_due"})
            total = BUSINESSES * PER_BUSINESS
            while len(fake.messages) < total and time.monotonic() - began < 300:
                time.sleep(0.2)
            elapsed = time.monotonic() - began
        finally:
            worker.terminate()
            worker.wait(30)
        sent = len(fake.messages)

    lags, statuses = [], {}
    for schema in schemas:
        with schema_context(schema):
            for status, due_at, updated_at in OutboxMessage.objects.values_list(
                "status", "due_at", "updated_at"
            ):
                statuses[status] = statuses.get(status, 0) + 1
                lags.append((updated_at - due_at).total_seconds() * 1000)
    duplicates = sent - len(set(fake.ids))
    log(f"sent {sent} of {total} in {elapsed:.1f} s; statuses {statuses}; duplicates {duplicates}")
    emit(
        bench="reminders",
        per_s=round(sent / elapsed),
        lag_p95_ms=round(percentile(lags, 95)),
        n=sent,
        duplicates=duplicates,
        lost=total - statuses.get("sent", 0),
    )


if __name__ == "__main__":
    main()
