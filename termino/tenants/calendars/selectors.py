"""Reads of calendar feeds and connections (tenant schema)."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max
from django.utils import translation
from django.utils.translation import gettext as _

from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.tenants.scheduling.models import Appointment, AppointmentStatus, Resource

from . import crypto, events_ics
from .models import CalDavConnection, CalendarSettings, FeedDetail, FeedToken

# What a feed carries: from a month back to a year ahead; cancelled appointments leave it.
FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 366
FEED_STATUSES = (
    AppointmentStatus.REQUESTED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
)


def calendar_settings() -> CalendarSettings:
    found = CalendarSettings.objects.filter(pk=1).first()
    return found or CalendarSettings(pk=1)


def feed_token_find(token: str) -> FeedToken | None:
    """The live token row for a presented token, or None. Found by its keyed digest through a unique
    index; the digest is compared again in constant time."""
    if not token or len(token) > 100:
        return None
    digest = crypto.token_digest(token)
    row = (
        FeedToken.objects.select_related("resource")
        .filter(token_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row


def feed_token_live(*, resource: Resource | None) -> FeedToken | None:
    return FeedToken.objects.filter(resource=resource, revoked_at__isnull=True).first()


def feed_token_text(row: FeedToken) -> str:
    return crypto.decrypt(row.token_encrypted)


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str
    last_modified: datetime


def _appointments(resource: Resource | None, now: datetime):
    rows = Appointment.objects.filter(
        start__lt=timeutils.shift(now, timedelta(days=FEED_FUTURE_DAYS)),
        end__gt=timeutils.shift(now, -timedelta(days=FEED_PAST_DAYS)),
    )
    if resource is not None:
        rows = rows.filter(allocations__resource=resource)
    return rows


def feed_build(token: FeedToken) -> Feed:
    """The feed of the token's column (or of the whole business), with its ETag and Last-Modified."""
    tenant = current_business()
    schema = tenant.schema_name
    now = timeutils.now()
    settings_row = calendar_settings()
    detail = settings_row.feed_detail
    rows = _appointments(token.resource, now)
    # Cancelled ones count for Last-Modified: a cancellation changes the feed.
    last = max(rows.aggregate(at=Max("updated_at"))["at"] or token.created_at, token.created_at)
    if settings_row.updated_at:
        last = max(last, settings_row.updated_at)
    shown = (
        rows.filter(status__in=FEED_STATUSES)
        .select_related("service", "customer")
        .prefetch_related("allocations__resource")
        .annotate(sequence=Count("changes", distinct=True))
        .order_by("start", "pk")
        .distinct()
    )
    with translation.override(tenant.language):
        if token.resource is not None:
            name = f"{tenant.name} – {token.resource.name}"
        else:
            name = f"{tenant.name} – {_('all appointments')}"
        cal = events_ics.calendar(name)
        cal.add("x-published-ttl", "PT15M")
        cal.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
        for appointment in shown:
            staff = ""
            if token.resource is None:
                staff = ", ".join(a.resource.name for a in appointment.allocations.all() if a.active)
            cal.add_component(
                events_ics.appointment_event(
                    appointment, detail=detail, schema=schema, sequence=appointment.sequence, staff=staff
                )
            )
    body = cal.to_ical()
    # The ETag depends on the bytes (anything that changes what is shown changes it), the Last-Modified on
    # the latest change; a conditional request is answered 304 on either.
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Feed(body=body, etag=etag, last_modified=last)


def feed_detail_choices():
    return FeedDetail.choices


def connection_of(resource: Resource | None) -> CalDavConnection | None:
    if resource is None:
        return None
    return CalDavConnection.objects.filter(resource=resource).first()


def connections_overview():
    """Every staff member's connection state, for owners and managers (never the credentials)."""
    return CalDavConnection.objects.select_related("resource").order_by("resource__name", "pk")
