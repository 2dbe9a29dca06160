"""Domain events of an appointment's life: what changed, from what to what, by whom, through which door.

`scheduling.lifecycle` is the one door through which appointments change; each change publishes one
`AppointmentEvent`. Other apps subscribe instead of being called by every caller:

- `subscribe(handler)` runs the handler inside the writing transaction, so what it writes (an outbox row,
  an audit line) commits or rolls back with the change itself — a transactional outbox, nothing lost.
- `subscribe(handler, on_commit=True)` runs it after the transaction committed (hand the message to a
  worker now, webhooks, counters): it never sees a change that was rolled back.

Subscribers register in their AppConfig.ready(); scheduling imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django_tenants.utils import schema_context

if TYPE_CHECKING:
    from .models import Appointment

# What happened to an appointment.
CREATED = "created"  # booked and confirmed
REQUESTED = "requested"  # booked, waiting for the business's approval
CONFIRMED = "confirmed"  # a request approved (or a no-show/completed mark taken back)
DECLINED = "declined"  # a request refused
MOVED = "moved"  # new start and/or staff member
RESIZED = "resized"  # new length
CANCELLED = "cancelled"
NO_SHOW = "no_show"
COMPLETED = "completed"
ANONYMISED = "anonymised"  # the customer's data erased; the appointment kept for the books
KINDS = (CREATED, REQUESTED, CONFIRMED, DECLINED, MOVED, RESIZED, CANCELLED, NO_SHOW, COMPLETED, ANONYMISED)


@dataclass(frozen=True)
class Snapshot:
    """An appointment's state as far as anyone outside scheduling cares."""

    start: datetime
    end: datetime
    status: str
    resource_ids: tuple[int, ...]
    customer_id: int | None

    @classmethod
    def of(cls, appointment: Appointment) -> Snapshot:
        return cls(
            start=appointment.start,
            end=appointment.end,
            status=appointment.status,
            resource_ids=tuple(sorted(set(appointment.allocations.values_list("resource_id", flat=True)))),
            customer_id=appointment.customer_id,
        )


@dataclass(frozen=True)
class Actor:
    """Who changes an appointment, and through which door (an AppointmentSource value)."""

    source: str
    user: object = None  # the logged-in person; None for customers online and the system

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return self.source


@dataclass(frozen=True)
class AppointmentEvent:
    kind: str
    appointment: Appointment
    after: Snapshot
    actor: Actor
    before: Snapshot | None = None
    reason: str = ""
    notify: bool = True  # tell the customer (a cancellation can be made quietly)
    extra: dict = field(default_factory=dict)


Handler = Callable[[AppointmentEvent], None]
_in_transaction: list[Handler] = []
_after_commit: list[Handler] = []


def subscribe(handler: Handler | None = None, *, on_commit: bool = False):
    """Register a handler (usable as a decorator, with or without arguments). Idempotent."""

    def register(func: Handler) -> Handler:
        target = _after_commit if on_commit else _in_transaction
        if func not in target:
            target.append(func)
        return func

    return register(handler) if handler is not None else register


def publish(event: AppointmentEvent) -> None:
    """Hand the event to every subscriber: now (same transaction), and again once committed."""
    if event.kind not in KINDS:
        raise ValueError(f"unknown appointment event {event.kind!r}")
    for handler in list(_in_transaction):
        handler(event)
    schema = connection.schema_name
    for handler in list(_after_commit):

        def run(handler=handler):
            # In the schema the change was made in, whatever the connection points at when the outermost
            # transaction commits.
            with schema_context(schema):
                handler(event)

        run.__qualname__ = f"after commit: {handler.__qualname__}"
        # After the commit the change stands whatever a subscriber does: a failure is logged, not raised.
        transaction.on_commit(run, robust=True)
