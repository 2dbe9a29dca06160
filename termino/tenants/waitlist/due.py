"""The waitlist's due work (`termino.platform.duework`): a business is visited when times may have become
free (marked "now" by the triggers, next to the worker task they queue) and when its earliest open offer
expires (the held time goes to the next customers)."""

import logging
from datetime import datetime
from functools import partial

from django.db import connection
from django.db.models import Min

from termino.platform.duework import due
from termino.shared.db.commit import after_commit_once

logger = logging.getLogger(__name__)

KIND = "waitlist.offers"


def expiry_due(at: datetime) -> None:
    due.mark(KIND, at)


def match_due(at: datetime) -> None:
    """Mark the index and, once committed, ask a worker to match now (once per transaction)."""
    due.mark(KIND, at)
    schema = connection.schema_name
    after_commit_once(("waitlist-match", schema), partial(_enqueue, schema))


def _enqueue(schema: str) -> None:
    """Best effort: without a broker the due index's dispatcher does the same within a minute."""
    from .tasks import match  # the task module imports the services, which import this one

    try:
        match.apply_async(kwargs={"schema_name": schema}, retry=False)
    except Exception:
        logger.warning("could not ask a worker to match the waitlist; beat's dispatcher will", exc_info=True)


def next_due() -> datetime | None:
    from .models import Offer, OfferStatus

    return Offer.objects.filter(status=OfferStatus.OPEN).aggregate(at=Min("expires_at"))["at"]


def run() -> int:
    from .services import offers_match

    return len(offers_match())


def register() -> None:
    due.register(KIND, run=run, next_due=next_due)
