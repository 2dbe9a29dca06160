"""Reads of the retention rules and of past runs."""

from datetime import timedelta

from django.utils import timezone

from .models import RetentionPolicy, RetentionRun

# A run without an end this long after its start was stopped from outside (a killed worker).
RUN_STALE_AFTER = timedelta(hours=6)


def retention_policy_get() -> RetentionPolicy:
    """The business's rules; the defaults (unsaved) while it has never saved its own."""
    return RetentionPolicy.objects.filter(pk=1).first() or RetentionPolicy(pk=1)


def retention_runs_recent(*, limit: int = 10) -> list[RetentionRun]:
    """The latest runs, newest first, each with `state`: done, failed, running or interrupted."""
    runs = list(RetentionRun.objects.order_by("-started_at", "-id")[:limit])
    stale_before = timezone.now() - RUN_STALE_AFTER
    for run in runs:
        run.display_state = (
            "interrupted" if run.state == "running" and run.started_at < stale_before else run.state
        )
    return runs
