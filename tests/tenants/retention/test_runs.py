"""Runs as a whole: dry run, idempotence, interruption, records, one run at a time."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.shared.db.leases import lease
from termino.tenants.accounts.models import LoginEvent
from termino.tenants.crm.models import Consent, Customer, CustomerNote
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.retention import services
from termino.tenants.retention.models import RetentionPolicy, RetentionRun
from termino.tenants.retention.rules import COUNT_KEYS, years_before
from termino.tenants.retention.selectors import retention_runs_recent
from termino.tenants.retention.services import retention_preview, retention_run
from termino.tenants.scheduling.models import Appointment

from .factories import SECOND, appointment, consent, customer, login_event, message, note

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def in_a(business_a):
    with schema_context(business_a.schema):
        yield business_a


def some_of_everything(now) -> None:
    """Due and not due rows for every rule, with the rules' interplay: a due customer with old
    appointments (erasure anonymises them), an active one with an appointment past M years."""
    ten, three = years_before(now, 10), years_before(now, 3)
    for _ in range(3):
        quiet = customer(touched=three - timedelta(days=30))
        note(quiet, written=three - timedelta(days=30))
        consent(quiet, recorded=three - timedelta(days=30))
    gone_with_past = customer(touched=three - SECOND)
    appointment(ended=ten - timedelta(days=1), customer=gone_with_past)
    message(due=ten - timedelta(days=1), customer=gone_with_past)
    regular = customer(touched=now)
    for days in (1, 2):
        old = appointment(ended=ten - timedelta(days=days), customer=regular)
        message(due=ten - timedelta(days=days), customer=regular, appointment=old)
    appointment(ended=now - timedelta(days=10), customer=regular)
    for days in (91, 120, 400):
        message(due=now - timedelta(days=days), customer=regular)
    message(due=now - timedelta(days=10), customer=regular)
    login_event(at=now - timedelta(days=8))
    login_event(at=now - timedelta(days=1))


def snapshot() -> dict:
    return {
        "customers": list(Customer.objects.order_by("pk").values_list("pk", "updated_at")),
        "notes": CustomerNote.objects.count(),
        "consents": Consent.objects.count(),
        "appointments": list(
            Appointment.objects.order_by("pk").values_list(
                "pk", "customer_id", "notes", "cancel_reason", "manage_token", "updated_at"
            )
        ),
        "messages": list(
            OutboxMessage.objects.order_by("pk").values_list(
                "pk", "text", "recipient", "customer_id", "updated_at"
            )
        ),
        "logins": list(LoginEvent.objects.order_by("pk").values_list("pk", "ip_address", "ip_truncated")),
    }


@pytest.mark.parametrize(
    "periods",
    [
        {},  # the defaults: 3 years, 10 years, 90 days, 7 days
        {"customer_erase_years": 3, "appointment_anonymise_years": 1, "message_text_days": 100},
    ],
    ids=["defaults", "appointments-before-customers"],
)
def test_dry_run_changes_nothing_and_matches_the_real_run(in_a, now, periods):
    if periods:
        RetentionPolicy.objects.create(id=1, **periods)
    some_of_everything(now)
    before = snapshot()

    dry = retention_run(now=now, dry_run=True)
    preview = retention_preview(now=now)

    assert snapshot() == before
    assert dry.dry_run and dry.counts == preview
    real = retention_run(now=now)
    assert real.counts == dry.counts
    assert real.counts["customers_erased"] >= 4 and real.counts["login_ips_removed"] == 1
    assert real.counts["appointments_anonymised"] >= 2 and real.counts["message_texts_deleted"] >= 3


def test_a_second_run_changes_nothing(in_a, now):
    some_of_everything(now)
    first = retention_run(now=now)
    after_first = snapshot()

    second = retention_run(now=now)

    assert any(first.counts.values())
    assert second.counts == dict.fromkeys(COUNT_KEYS, 0)
    assert snapshot() == after_first


def test_an_interrupted_run_leaves_whole_batches_and_the_next_run_finishes(in_a, now, monkeypatch):
    rows = [message(due=now - timedelta(days=100 + n)) for n in range(5)]
    real_apply = services._message_texts_apply
    calls = []

    def dies_in_the_second_batch(ids):
        calls.append(ids)
        if len(calls) == 2:
            real_apply(ids)  # the batch's writes happen, then the worker dies before its commit
            raise RuntimeError("worker lost")
        return real_apply(ids)

    monkeypatch.setattr(services, "_message_texts_apply", dies_in_the_second_batch)
    with pytest.raises(RuntimeError, match="worker lost"):
        retention_run(now=now, batch_size=2)

    failed = RetentionRun.objects.latest("started_at")
    assert failed.error == "RuntimeError: worker lost" and failed.finished_at is not None
    assert failed.counts["message_texts_deleted"] == 2
    states = list(OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).values_list("text", "recipient"))
    assert sorted(states) == sorted([("", "+49…")] * 2 + [(rows[0].text, "+4917012345678")] * 3)

    monkeypatch.undo()
    resumed = retention_run(now=now, batch_size=2)
    assert resumed.counts["message_texts_deleted"] == 3 and resumed.error == ""
    assert not OutboxMessage.objects.exclude(text="").filter(pk__in=[r.pk for r in rows]).exists()
    assert retention_run(now=now, batch_size=2).counts["message_texts_deleted"] == 0


def test_batches_cover_everything(in_a, now):
    for n in range(7):
        message(due=now - timedelta(days=100 + n))
        customer(touched=years_before(now, 4))
    counts = retention_run(now=now, batch_size=3).counts
    assert (counts["message_texts_deleted"], counts["customers_erased"]) == (7, 7)


def test_each_run_is_recorded_with_its_rules_and_counts(in_a, now):
    message(due=now - timedelta(days=100))
    run = retention_run(now=now)

    run.refresh_from_db()
    assert not run.dry_run and run.error == ""
    assert run.started_at <= run.finished_at
    assert run.policy == RetentionPolicy(pk=1).snapshot()
    assert set(run.counts) == set(COUNT_KEYS) and run.counts["message_texts_deleted"] == 1
    stale = RetentionRun.objects.create(started_at=timezone.now() - timedelta(days=1))
    states = {r.pk: r.display_state for r in retention_runs_recent()}
    assert states == {run.pk: "done", stale.pk: "interrupted"}


def test_a_second_run_at_the_same_time_is_skipped(in_a, now):
    with lease(f"retention:{in_a.schema}") as held:
        assert held
        assert retention_run(now=now) is None
        assert not RetentionRun.objects.exists()
    assert retention_run(now=now) is not None


def test_the_preview_writes_nothing_even_the_policy(in_a, now):
    message(due=now - timedelta(days=100))
    assert retention_preview(now=now)["message_texts_deleted"] == 1
    assert not RetentionPolicy.objects.exists() and not RetentionRun.objects.exists()
    unsaved = RetentionPolicy(pk=1, message_text_days=200)
    assert retention_preview(policy=unsaved, now=now)["message_texts_deleted"] == 0
