"""Domain events of a customer's record: created, updated, erased.

Writes to customers publish one `CustomerEvent` each (`crm.services`, and `privacy.services.customer_erase`
for an erasure); other apps subscribe in their AppConfig.ready() instead of being called by every writer.
Handlers run inside the writing transaction, so what they write (a webhook delivery) commits or rolls back
with the change itself. crm imports none of its subscribers.
"""

from collections.abc import Callable
from dataclasses import dataclass

CREATED = "created"
UPDATED = "updated"
ERASED = "erased"  # the customer row is gone; only its id is left to speak of
KINDS = (CREATED, UPDATED, ERASED)


@dataclass(frozen=True)
class CustomerEvent:
    kind: str
    customer_id: int
    customer: object = None  # the crm.Customer as written; None after an erasure


Handler = Callable[[CustomerEvent], None]
_handlers: list[Handler] = []


def subscribe(handler: Handler) -> Handler:
    """Register a handler run in the writing transaction (idempotent; usable as a decorator)."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def publish(event: CustomerEvent) -> None:
    if event.kind not in KINDS:
        raise ValueError(f"unknown customer event {event.kind!r}")
    for handler in list(_handlers):
        handler(event)
