"""Platform staff log in on the platform host: a nightly task of their own shortens their login IPs."""

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from termino.celery import app as celery_app
from termino.platform.staffadmin import tasks as _tasks  # noqa: F401 (registers the task used below)
from termino.tenants.accounts.models import LoginEvent

pytestmark = pytest.mark.django_db


def test_staff_login_ips_older_than_login_ip_days_are_shortened(settings):
    settings.LOGIN_IP_DAYS = 7
    old = LoginEvent.objects.create(
        username="staff@termino.example", ip_address="203.0.113.77", outcome="success",
        created_at=timezone.now() - timedelta(days=8),
    )  # fmt: skip
    recent = LoginEvent.objects.create(
        username="staff@termino.example", ip_address="203.0.113.78", outcome="success",
        created_at=timezone.now() - timedelta(days=6),
    )  # fmt: skip
    assert celery_app.tasks["staffadmin.login_ips_prune"].apply().get() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.ip_address, old.ip_truncated) == ("203.0.113.0", True)
    assert (recent.ip_address, recent.ip_truncated) == ("203.0.113.78", False)


def test_beat_runs_it_nightly_apart_from_the_access_log_prune():
    entry = settings.CELERY_BEAT_SCHEDULE["staff-login-ips-prune"]
    assert entry["task"] == "staffadmin.login_ips_prune" and isinstance(entry["schedule"], crontab)
