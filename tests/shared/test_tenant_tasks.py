import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from django_tenants.utils import schema_context

from termino import celery_app
from termino.platform.duework.tasks import run as due_run
from termino.platform.tenancy.models import Tenant, TenantStatus
from termino.shared.tasks import WrongSchema
from termino.tenants.scheduling import services
from termino.tenants.scheduling.due import KIND as HOLDS
from termino.tenants.scheduling.models import Appointment
from tests.tenants.scheduling.factories import next_monday, salon


def lapsed_hold(schema: str) -> int:
    with schema_context(schema):
        service, (staff, *_), _room = salon()
        hold = services.appointment_create(
            booking=services.Booking(service=service, start=next_monday(), staff=staff),
            status="held",
            hold_expires_at=timezone.now() + timedelta(minutes=10),
        )
        Appointment.objects.filter(pk=hold.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
        return hold.pk


@pytest.mark.django_db
@pytest.mark.parametrize("schema", [None, "", "public", "spare_0123456789ab", "t_does_not_exist"])
def test_task_refuses_a_missing_or_wrong_schema(schema):
    kwargs = {} if schema is None else {"schema_name": schema}
    with pytest.raises(WrongSchema):
        due_run.apply(kwargs={**kwargs, "kind": HOLDS}).get()


@pytest.mark.django_db
def test_task_works_in_its_own_business_only(business_a, business_b):
    hold_a, hold_b = lapsed_hold(business_a.schema), lapsed_hold(business_b.schema)
    assert due_run.apply(kwargs={"schema_name": business_a.schema, "kind": HOLDS}).get() == 1
    with schema_context(business_a.schema):
        assert not Appointment.objects.filter(pk=hold_a).exists()
    with schema_context(business_b.schema):
        assert Appointment.objects.filter(pk=hold_b).exists()


def test_beat_sweep_and_dispatch_reach_every_live_business_through_a_real_worker(committed_db):
    """The holds were made outside the one door, so nothing marked them: the hourly sweep finds them in every
    live business, the dispatcher sends a run to each."""
    first, second = committed_db("t-fanout-one"), committed_db("t-fanout-two")
    suspended = committed_db("t-fanout-off")
    holds = {b.schema: lapsed_hold(b.schema) for b in (first, second, suspended)}
    Tenant.objects.filter(pk=suspended.tenant.pk).update(status=TenantStatus.SUSPENDED)
    with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
        celery_app.send_task("tenancy.fan_out", kwargs={"task_name": "duework.repair"})
        deadline = time.monotonic() + 30
        remaining = set(holds)
        while remaining - {suspended.schema} and time.monotonic() < deadline:
            celery_app.send_task("duework.dispatch")
            for schema in list(remaining):
                with schema_context(schema):
                    if not Appointment.objects.filter(pk=holds[schema]).exists():
                        remaining.discard(schema)
            time.sleep(0.2)
    assert remaining == {suspended.schema}  # suspended businesses get no work
