"""The nightly task: its schema, the fan-out to every business, and businesses kept apart."""

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from termino import celery_app
from termino.platform.tenancy import fanout
from termino.platform.tenancy.selectors import live_business_schemas
from termino.shared.tasks import WrongSchema
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.retention.models import RetentionPolicy, RetentionRun
from termino.tenants.retention.tasks import run as retention_task

from .factories import message

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("schema", [None, "", "public", "spare_0123456789ab", "t_does_not_exist"])
def test_the_task_refuses_a_missing_or_wrong_schema(schema):
    kwargs = {} if schema is None else {"schema_name": schema}
    with pytest.raises(WrongSchema):
        retention_task.apply(kwargs=kwargs).get()


def test_a_business_policy_never_touches_another_business(business_a, business_b):
    ten_days_ago = timezone.now() - timedelta(days=10)
    with schema_context(business_a.schema):
        RetentionPolicy.objects.create(id=1, message_text_days=1)
        mine = message(due=ten_days_ago)
    with schema_context(business_b.schema):
        theirs = message(due=ten_days_ago)  # B keeps texts 90 days (the default)

    counts = retention_task.apply(kwargs={"schema_name": business_a.schema}).get()

    assert counts["message_texts_deleted"] == 1
    with schema_context(business_b.schema):
        assert OutboxMessage.objects.get(pk=theirs.pk).text
        assert not RetentionRun.objects.exists()
        assert (
            retention_task.apply(kwargs={"schema_name": business_b.schema}).get()["message_texts_deleted"]
            == 0
        )
        assert OutboxMessage.objects.get(pk=theirs.pk).text
    with schema_context(business_a.schema):
        assert OutboxMessage.objects.get(pk=mine.pk).text == ""


def test_beat_fans_the_nightly_run_out_to_every_business(business_a, business_b, monkeypatch):
    entry = settings.CELERY_BEAT_SCHEDULE["retention-nightly"]
    assert entry["schedule"] == crontab(hour=2, minute=15)
    reached = []

    def send_task(name, kwargs):  # what a worker would do with each message, here and now
        reached.append(kwargs["schema_name"])
        celery_app.tasks[name].apply(kwargs=kwargs).get()

    monkeypatch.setattr(fanout.current_app, "send_task", send_task)
    celery_app.tasks[entry["task"]].apply(kwargs=entry["kwargs"]).get()

    assert reached == live_business_schemas()
    assert {business_a.schema, business_b.schema} <= set(reached)
    for schema in reached:
        with schema_context(schema):
            assert RetentionRun.objects.filter(dry_run=False, error="").count() == 1
