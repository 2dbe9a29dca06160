"""Sending deliveries: claimed by a worker, POSTed, logged, retried with back-off, given up after
`WEBHOOKS_RETRY_DAYS`; an endpoint that has failed that long is disabled and its owner told.

A worker claims sendable rows (`selectors.sendable`: the order rule) with `FOR UPDATE SKIP LOCKED` and marks
them `sending` in one short transaction, so two workers never send the same row; the request is made outside
any transaction. Delivery is at least once: a row left in `sending` by a worker that died is sent again after
`WEBHOOKS_STUCK_AFTER_SECONDS`, with the same id, by which receivers dedupe.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Min
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from termino.platform.tenancy.routing import primary_url
from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.tenants.accounts.models import Role, User

from . import payloads, signing, transport
from .due import deliveries_due
from .models import Attempt, Delivery, DeliveryStatus, Endpoint
from .selectors import sendable

logger = logging.getLogger(__name__)

# The wait after the n-th failed attempt; the last step repeats until the delivery gives up.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
CLAIM_BATCH = 20
MAX_ROUNDS = 50  # one run's bound; what is left is due at once and comes back with the next run


def backoff(attempts: int) -> timedelta:
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def _unstick() -> int:
    """Rows whose worker died while sending go back to the queue."""
    before = timeutils.shift(timeutils.now(), seconds=-settings.WEBHOOKS_STUCK_AFTER_SECONDS)
    return Delivery.objects.filter(status=DeliveryStatus.SENDING, last_attempt_at__lt=before).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timeutils.now()
    )


def deliveries_claim(*, limit: int = CLAIM_BATCH) -> list[Delivery]:
    """Up to `limit` sendable, due deliveries, locked and marked `sending`; concurrent workers get disjoint
    rows, and never two of one subject and endpoint."""
    now = timeutils.now()
    with transaction.atomic():
        rows = list(
            sendable()
            .filter(next_attempt_at__lte=now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .order_by("next_attempt_at", "id")[:limit]
        )
        Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(
            status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, last_attempt_at=now
        )
    for row in rows:
        row.status, row.attempts, row.last_attempt_at = DeliveryStatus.SENDING, row.attempts + 1, now
    return rows


def delivery_send(delivery: Delivery) -> Attempt:
    """One attempt of a claimed delivery, logged; the delivery is delivered, retried later or failed."""
    body = payloads.body(delivery=delivery)
    timestamp = int(timeutils.now().timestamp())
    headers = {
        signing.SIGNATURE_HEADER: signing.signature(
            secret=delivery.endpoint.secret, timestamp=timestamp, body=body
        ),
        signing.DELIVERY_HEADER: str(delivery.uid),
        signing.EVENT_HEADER: delivery.event,
    }
    answer = transport.post(url=delivery.endpoint.url, body=body, headers=headers)
    return _record(delivery, answer)


@transaction.atomic
def _record(delivery: Delivery, answer: transport.Answer) -> Attempt:
    now = timeutils.now()
    attempt = Attempt.objects.create(
        delivery=delivery,
        at=delivery.last_attempt_at or now,
        status_code=answer.status_code,
        error=answer.error[:300],
        response_excerpt=answer.excerpt[: transport.EXCERPT_BYTES],
        duration_ms=answer.duration_ms,
    )
    fields = {"last_status_code": answer.status_code}
    if attempt.ok:
        fields["status"] = DeliveryStatus.DELIVERED
        Endpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=False).update(
            failing_since=None
        )
    else:
        Endpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=True).update(
            failing_since=attempt.at
        )
        if now >= delivery.give_up_at:
            fields.update(
                status=DeliveryStatus.FAILED,
                failure=_("No successful answer after %(count)d attempts; retries have ended.")
                % {"count": delivery.attempts},
            )
        else:
            # The last retry falls on the end of the period, so retries span the whole of it.
            retry_at = min(timeutils.shift(now, backoff(delivery.attempts)), delivery.give_up_at)
            fields.update(status=DeliveryStatus.PENDING, next_attempt_at=retry_at)
            deliveries_due(retry_at)
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    if fields.get("status") == DeliveryStatus.FAILED:
        _disable_if_failing_throughout(delivery)
    return attempt


def _disable_if_failing_throughout(delivery: Delivery) -> None:
    """A delivery has used up its retry period: if the endpoint has not answered any delivery successfully
    since this one's first attempt — it has failed for `WEBHOOKS_RETRY_DAYS` — it is disabled, what still
    waits for it fails, and the owner is told (once: the update is conditional)."""
    period_start = timeutils.shift(delivery.give_up_at, days=-settings.WEBHOOKS_RETRY_DAYS)
    first = Attempt.objects.filter(delivery=delivery, at__gte=period_start).aggregate(at=Min("at"))["at"]
    if first is None:
        return
    now = timeutils.now()
    endpoint_id = delivery.endpoint_id
    if Endpoint.objects.filter(pk=endpoint_id, active=True, failing_since__lte=first).update(
        active=False, disabled_at=now
    ):
        endpoint = Endpoint.objects.get(pk=endpoint_id)
        Delivery.objects.filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.FAILED, failure=_("The endpoint was disabled after failing for days.")
        )
        transaction.on_commit(lambda: endpoint_disabled_notice(endpoint=endpoint), robust=True)


def endpoint_disabled_notice(*, endpoint: Endpoint) -> bool:
    """Tell the owner by e-mail that an endpoint was disabled. True if the mail went out."""
    tenant = current_business()
    owner = User.objects.filter(role=Role.OWNER, is_active=True).order_by("pk").first()
    recipient = (owner.email if owner else "") or tenant.email
    if not recipient:
        return False
    try:
        link = primary_url(tenant, reverse("settings:webhooks"))
    except NoReverseMatch:
        link = primary_url(tenant)
    language = (owner.language if owner else "") or tenant.language or settings.LANGUAGE_CODE
    with translation.override(language):
        subject = _("Webhook endpoint disabled – %(business)s") % {"business": tenant.name}
        text = _(
            "Hello,\n\n"
            "every delivery to the webhook endpoint %(url)s has failed for %(days)d days, so it has been "
            "disabled and receives no further events. Deliveries that were still waiting are marked as "
            "failed.\n\n"
            "Once the endpoint works again, enable it in the webhook settings and resend what it missed:\n"
            "%(link)s\n"
        ) % {"url": endpoint.url, "days": settings.WEBHOOKS_RETRY_DAYS, "link": link}
    try:
        EmailMessage(subject=subject, body=text, to=[recipient]).send()
    except (OSError, smtplib.SMTPException):
        logger.warning("webhook endpoint disabled: the notice to the owner could not be sent", exc_info=True)
        return False
    return True


def deliveries_send_due() -> dict:
    """Send this business's due deliveries, in order per subject; counts by outcome."""
    counts = {"delivered": 0, "retry": 0, "failed": 0, "stuck": _unstick()}
    for _round in range(MAX_ROUNDS):
        claimed = deliveries_claim()
        if not claimed:
            break
        for delivery in claimed:
            attempt = delivery_send(delivery)
            if attempt.ok:
                counts["delivered"] += 1
            else:
                failed = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).exists()
                counts["failed" if failed else "retry"] += 1
    else:
        deliveries_due(timeutils.now())
    return counts
