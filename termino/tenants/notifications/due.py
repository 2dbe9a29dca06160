"""The outbox as due work (`termino.platform.duework`): reminders and every other message wait in the
outbox until their `due_at`; beat's dispatcher visits a business only when one of them is due."""

from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import connection
from django.db.models import Min

from termino.platform.duework import due
from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.shared.db.commit import after_commit_once

from .models import MessageStatus, OutboxMessage

KIND = "notifications.outbox"


def outbox_due(at: datetime) -> None:
    """A message becomes due at `at` (called by every write that queues one)."""
    due.mark(KIND, at)


def outbox_queue_once(message: OutboxMessage) -> None:
    """Queue `message` unless its idempotency key is queued already, and mark it due.

    One `INSERT … ON CONFLICT DO NOTHING` (the key is unique): `get_or_create` took a SELECT, a savepoint,
    the INSERT and its release for each of a booking's messages. A concurrent writer of the same key waits
    for the first one's commit and then inserts nothing. The mark does not ask whether the row is new: a
    mark for a message queued before only brings a visit forward, and the transaction's marks are written
    together anyway."""
    OutboxMessage.objects.bulk_create([message], ignore_conflicts=True)
    outbox_due(message.due_at)
    if message.due_at <= timeutils.now():
        # Due now (a confirmation, the team's notice): a worker sends it once the transaction commits,
        # asked once per transaction, instead of at beat's next dispatch.
        schema = connection.schema_name
        after_commit_once(("outbox-send-soon", schema), partial(_send_soon, schema))


def _send_soon(schema: str) -> None:
    from .services import send_soon  # the services mark through this module

    send_soon(schema_name=schema)


def outbox_next_due() -> datetime | None:
    """The earliest queued message, or a row stuck in `sending` (its reconciliation), if any."""
    queued = OutboxMessage.objects.filter(status=MessageStatus.QUEUED).aggregate(at=Min("due_at"))["at"]
    stuck = OutboxMessage.objects.filter(status=MessageStatus.SENDING, provider_message_id="").aggregate(
        at=Min("updated_at")
    )["at"]
    if stuck is not None:
        stuck += timedelta(seconds=settings.OUTBOX_STUCK_AFTER_SECONDS)
    return min((at for at in (queued, stuck) if at is not None), default=None)


def outbox_run() -> dict:
    from .services import outbox_reconcile, outbox_send_due  # the services mark through this module

    outbox_reconcile()
    return outbox_send_due(tenant=current_business())


def register() -> None:
    from .team import AGENDA, agendas_next_due, agendas_run

    due.register(KIND, run=outbox_run, next_due=outbox_next_due)
    due.register(AGENDA, run=agendas_run, next_due=agendas_next_due)
