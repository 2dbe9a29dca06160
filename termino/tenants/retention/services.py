"""Applying a business's retention rules (run nightly in every business schema by `retention.run`).

A run works in batches, each batch in its own transaction, and every rule selects only rows that still
hold personal data (`rules.py`). So a run that is stopped half-way (a crash, a deploy, a killed worker)
leaves each batch either done or untouched, and the next run does the rest; a second run finds nothing.
That is why `retention_run` is deliberately not one `@transaction.atomic` block: one transaction over a
large business would hold its locks for minutes and lose all progress on any failure.
"""

import logging
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from termino.shared.db.leases import lease
from termino.tenants.accounts.services import login_ips_truncate
from termino.tenants.crm.models import Customer
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.privacy.services import customer_erase
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling.events import Actor

from . import rules
from .models import RetentionPolicy, RetentionRun
from .rules import (
    APPOINTMENTS_ANONYMISED,
    COUNT_KEYS,
    CUSTOMERS_ERASED,
    LOGIN_IPS_REMOVED,
    MESSAGE_TEXTS_DELETED,
)
from .selectors import retention_policy_get

logger = logging.getLogger(__name__)


# --- Writing -------------------------------------------------------------------------------------------


def messages_scrub(queryset: QuerySet[OutboxMessage]) -> int:
    """Delete the texts and mask the recipients of these messages (kept as rows for the message log)."""
    rows = list(queryset.only("pk", "text", "recipient"))
    for row in rows:
        row.text = ""
        row.recipient = rules.mask_recipient(row.recipient)
    OutboxMessage.objects.bulk_update(rows, ["text", "recipient"], batch_size=500)
    return len(rows)


def _message_texts_apply(ids: list[int]) -> int:
    return messages_scrub(OutboxMessage.objects.filter(pk__in=ids))


def _appointments_apply(ids: list[int]) -> int:
    """Anonymise as the customer-rights erasure does: no customer, no notes, reason or manage link; the
    messages about the appointment lose text, recipient and customer. Service, times, status and price
    stay for the books."""
    changed_at = timezone.now()
    OutboxMessage.objects.filter(appointment_id__in=ids).update(
        text="", recipient="", customer=None, updated_at=changed_at
    )
    return lifecycle.appointments_anonymise(
        actor=Actor(source="retention"), appointment_ids=ids, changed_at=changed_at
    )


def _customers_erase(ids: list[int], *, label: str) -> int:
    """Erase through the customer-rights service (audit trail included), one savepoint per customer: a
    customer that cannot be erased now is kept, logged and tried again by the next run."""
    erased = 0
    for customer in Customer.objects.filter(pk__in=ids).order_by("pk"):
        try:
            with transaction.atomic():
                result = customer_erase(customer=customer, actor=None, actor_label=label)
        except Exception:
            logger.exception("retention: erasing customer %s failed; kept until the next run", customer.pk)
            continue
        erased += 0 if result.already_erased else 1
    return erased


def _in_batches(
    select: Callable[[], QuerySet], apply: Callable[[list[int]], int], *, batch_size: int, on_batch=None
) -> None:
    """Lock, change and commit the selected rows `batch_size` at a time, in primary-key order.

    Rows locked by someone else are skipped (they are due again tomorrow); the key only moves forward, so
    a row that cannot be changed is never retried in a loop.
    """
    last = 0
    while True:
        with transaction.atomic():
            ids = list(
                select()
                .filter(pk__gt=last)
                .order_by("pk")
                .select_for_update(of=("self",), skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return
            changed = apply(ids)
        on_batch(changed)  # only what was committed counts
        last = ids[-1]


@contextmanager
def _run_lock():
    """One run per business at a time (beat and a manual start may overlap); held for the whole run.

    A lease, correct under any pool mode: a run that dies frees it within a minute, and the next run
    finishes what it left (every batch is committed or untouched).
    """
    key = f"retention:{connection.schema_name}"
    with lease(key) as held:
        yield held


# --- Counting (dry run and preview) --------------------------------------------------------------------


def _login_ips(*, policy: RetentionPolicy, now: datetime, dry_run: bool) -> int:
    """Full login IPs older than D days, cut to their network by the login audit."""
    return login_ips_truncate(older_than=now - timedelta(days=policy.login_ip_days), dry_run=dry_run)


def _due_counts(policy: RetentionPolicy, now: datetime) -> dict:
    return {
        CUSTOMERS_ERASED: rules.customers_due(policy, now).count(),
        APPOINTMENTS_ANONYMISED: rules.appointments_due(policy, now).count(),
        MESSAGE_TEXTS_DELETED: rules.message_texts_due(policy, now).count(),
        LOGIN_IPS_REMOVED: _login_ips(policy=policy, now=now, dry_run=True),
    }


def retention_preview(*, policy: RetentionPolicy | None = None, now: datetime | None = None) -> dict:
    """What a run would change now, by rule (the same keys as a run's counts). Writes nothing.

    `policy` may be an unsaved one, to preview rules before saving them; by default the business's own.
    """
    return _due_counts(policy or retention_policy_get(), now or timezone.now())


# --- The run -------------------------------------------------------------------------------------------


def retention_run(
    *, now: datetime | None = None, dry_run: bool = False, batch_size: int = 500
) -> RetentionRun | None:
    """Apply this business's rules (or, with `dry_run`, only count) and record the run with its counts.

    `now` moves the cut-offs (tests); the record's times are always real. Returns None when another run of
    this business is still going. A failure is recorded on the run (with the counts of the batches done
    before it) and raised.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    now = now or timezone.now()
    policy = retention_policy_get()
    with _run_lock() as acquired:
        if not acquired:
            logger.info("retention: a run of %s is still going; this one is skipped", connection.schema_name)
            return None
        run = RetentionRun.objects.create(
            started_at=timezone.now(), dry_run=dry_run, policy=policy.snapshot()
        )
        counts = dict.fromkeys(COUNT_KEYS, 0)
        try:
            if dry_run:
                counts = _due_counts(policy, now)
            else:
                _apply(policy=policy, now=now, batch_size=batch_size, counts=counts)
        except Exception as exc:
            run.error = f"{type(exc).__name__}: {exc}"[:2000]
            raise
        finally:
            run.counts = counts
            run.finished_at = timezone.now()
            run.save(update_fields=["counts", "finished_at", "error"])
        logger.info("retention: %s %s", connection.schema_name, counts)
        return run


def _apply(*, policy: RetentionPolicy, now: datetime, batch_size: int, counts: dict) -> None:
    def add(key):
        def on_batch(changed: int) -> None:
            counts[key] += changed

        return on_batch

    # Order matters for agreeing with the preview: messages first (the other rules blank messages too,
    # but a message due under the message rule is counted there); customers before appointments, whose
    # rule leaves the appointments of due customers to the customers' erasure.
    _in_batches(
        lambda: rules.message_texts_due(policy, now),
        _message_texts_apply,
        batch_size=batch_size,
        on_batch=add(MESSAGE_TEXTS_DELETED),
    )
    label = f"retention rule (no activity for {policy.customer_erase_years} years)"
    _in_batches(
        lambda: rules.customers_due(policy, now),
        lambda ids: _customers_erase(ids, label=label),
        batch_size=batch_size,
        on_batch=add(CUSTOMERS_ERASED),
    )
    _in_batches(
        lambda: rules.appointments_due(policy, now),
        _appointments_apply,
        batch_size=batch_size,
        on_batch=add(APPOINTMENTS_ANONYMISED),
    )
    counts[LOGIN_IPS_REMOVED] = _login_ips(policy=policy, now=now, dry_run=False)


# --- The rules themselves ------------------------------------------------------------------------------


@transaction.atomic
def retention_policy_update(*, data: dict, user) -> RetentionPolicy:
    """Save the business's rules (the form has checked the bounds the table also enforces)."""
    policy = RetentionPolicy.current()
    policy = RetentionPolicy.objects.select_for_update().get(pk=policy.pk)
    for field in (
        "customer_erase_years",
        "appointment_anonymise_years",
        "message_text_days",
        "login_ip_days",
    ):
        setattr(policy, field, data[field])
    policy.updated_by = user
    policy.full_clean(exclude=["updated_by"])
    policy.save()
    return policy
