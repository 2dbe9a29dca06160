"""Writes of webhooks: endpoints (made, changed, secret rotated, deleted) and resending a delivery.

Only the owner manages endpoints (the API and the settings page check it): their secrets sign what the
business's data becomes elsewhere.
"""

from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from termino.shared import timeutils
from termino.shared.errors import InvalidRequest

from . import signing, targets
from .due import deliveries_due
from .models import Delivery, DeliveryStatus, Endpoint, EventType
from .recording import kick_after_commit

URL_MAX_LENGTH = 500


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise InvalidRequest(_("Please enter the URL that should receive the events."))
    if len(url) > URL_MAX_LENGTH:
        raise InvalidRequest(_("The URL is too long (at most %(n)d characters).") % {"n": URL_MAX_LENGTH})
    try:
        targets.resolve(url)
    except targets.TargetRefused as exc:
        raise InvalidRequest(str(exc)) from exc
    return url


def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(events or ()))
    unknown = [e for e in chosen if e not in EventType.values]
    if unknown:
        raise InvalidRequest(_("Unknown event: %(event)s.") % {"event": ", ".join(unknown)})
    if not chosen:
        raise InvalidRequest(_("Please choose at least one event."))
    return chosen


def _save(endpoint: Endpoint) -> Endpoint:
    try:
        with transaction.atomic():
            endpoint.save()
    except IntegrityError as exc:
        raise InvalidRequest(_("An endpoint with this URL exists already.")) from exc
    return endpoint


@transaction.atomic
def endpoint_create(*, url: str, events: Iterable[str], description: str = "", created_by=None) -> Endpoint:
    """A new endpoint with a fresh secret (shown to the owner once, right after)."""
    url, events = _clean_url(url), _clean_events(events)
    limit = settings.WEBHOOKS_MAX_ENDPOINTS
    if Endpoint.objects.select_for_update().count() >= limit:
        raise InvalidRequest(
            ngettext(
                "A business can have at most %(n)d webhook endpoint.",
                "A business can have at most %(n)d webhook endpoints.",
                limit,
            )
            % {"n": limit}
        )
    return _save(
        Endpoint(
            url=url,
            events=events,
            description=(description or "").strip()[:200],
            secret=signing.secret_new(),
            created_by=created_by,
        )
    )


@transaction.atomic
def endpoint_update(
    *,
    endpoint: Endpoint,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> Endpoint:
    """Change what is given. Enabling a disabled endpoint starts it afresh (its failures forgotten)."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    if url is not None and url.strip() != endpoint.url:
        endpoint.url = _clean_url(url)
    if events is not None:
        endpoint.events = _clean_events(events)
    if description is not None:
        endpoint.description = description.strip()[:200]
    if active is not None and active != endpoint.active:
        endpoint.active = active
        endpoint.disabled_at = None
        endpoint.failing_since = None
        if active:
            deliveries_due(timeutils.now())  # what waited while it was paused goes out now
    return _save(endpoint)


@transaction.atomic
def endpoint_secret_rotate(*, endpoint: Endpoint) -> Endpoint:
    """A new secret, in force at once: the next request is signed with it."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.secret = signing.secret_new()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint) -> None:
    """The endpoint and its delivery log go."""
    Endpoint.objects.filter(pk=endpoint.pk).delete()


@transaction.atomic
def delivery_resend(*, delivery: Delivery) -> Delivery:
    """Queue a delivery again, now, with the same id (a receiver that has it already can drop it) and a new
    retry period. Held back, like any delivery, while an earlier one of its subject is still open."""
    delivery = Delivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    if not delivery.endpoint.active:
        raise InvalidRequest(_("This endpoint is disabled. Enable it first, then resend."))
    if delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
        raise InvalidRequest(_("This delivery is still being sent; it cannot be resent now."))
    now = timeutils.now()
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.give_up_at = timeutils.shift(now, days=settings.WEBHOOKS_RETRY_DAYS)
    delivery.failure = ""
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "give_up_at", "failure"])
    deliveries_due(now)
    kick_after_commit()
    return delivery
