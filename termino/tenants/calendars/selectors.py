"""Reads of calendar feeds and connections (tenant schema)."""

import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max
from django.utils import translation
from django.utils.translation import gettext as _

from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.tenants.scheduling.models import (
    Allocation,
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    Resource,
)

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
        FeedToken.objects.select_related("resource__user", "created_by")
        .filter(token_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row if _still_entitled(row) else None


def _still_entitled(row: FeedToken) -> bool:
    """An address outlives nobody's access: a column's works while the column is active and its person
    can log in, and any address only while whoever made it can."""
    column = row.resource
    if column is not None and (not column.active or (column.user is not None and not column.user.is_active)):
        return False
    return row.created_by is None or row.created_by.is_active


def feed_token_live(*, resource: Resource | None) -> FeedToken | None:
    """The address that works now, if any (one whose maker can no longer log in does not)."""
    row = (
        FeedToken.objects.select_related("resource__user", "created_by")
        .filter(resource=resource, revoked_at__isnull=True)
        .first()
    )
    return row if row is not None and _still_entitled(row) else None


def feed_token_text(row: FeedToken) -> str:
    return crypto.decrypt(row.token_encrypted)


@dataclass(frozen=True)
class FeedState:
    """What a conditional request needs, read without building the feed: its ETag and Last-Modified."""

    token: FeedToken
    etag: str
    last_modified: datetime
    detail: str
    now: datetime


def _appointments(resource: Resource | None, now: datetime):
    rows = Appointment.objects.filter(
        start__lt=timeutils.shift(now, timedelta(days=FEED_FUTURE_DAYS)),
        end__gt=timeutils.shift(now, -timedelta(days=FEED_PAST_DAYS)),
    )
    if resource is not None:
        rows = rows.filter(allocations__resource=resource)
    return rows


def feed_state(token: FeedToken) -> FeedState:
    """The feed's ETag, a digest of everything its bytes are made of (which appointments, their times,
    status, last change, service, customer's names and staff; the business's name, language and privacy
    choice), read in two small queries, so a calendar app polling an unchanged feed costs no building."""
    tenant = current_business()
    now = timeutils.now()
    settings_row = calendar_settings()
    rows = _appointments(token.resource, now)
    # Cancelled ones count for Last-Modified: a cancellation changes the feed.
    last = max(rows.aggregate(at=Max("updated_at"))["at"] or token.created_at, token.created_at)
    if settings_row.updated_at:
        last = max(last, settings_row.updated_at)
    shown = rows.filter(status__in=FEED_STATUSES).order_by("pk").distinct()
    digest = hashlib.sha256()
    parts = (
        tenant.name,
        tenant.language,
        settings_row.feed_detail,
        token.pk,
        token.resource and token.resource.name,
    )
    digest.update(repr(parts).encode())
    for row in shown.values_list(
        "pk",
        "start",
        "end",
        "status",
        "updated_at",
        "service__name",
        "customer__first_name",
        "customer__last_name",
    ):
        digest.update(repr(row).encode())
    if token.resource is None:  # the business feed names the staff
        digest.update(repr(list(Resource.objects.order_by("pk").values_list("pk", "name"))).encode())
    etag = '"' + digest.hexdigest()[:32] + '"'
    return FeedState(token=token, etag=etag, last_modified=last, detail=settings_row.feed_detail, now=now)


def feed_body(state: FeedState) -> bytes:
    """The feed itself (iCalendar) for the state read by `feed_state`."""
    tenant = current_business()
    token = state.token
    shown = list(
        _appointments(token.resource, state.now)
        .filter(status__in=FEED_STATUSES)
        .select_related("service", "customer")
        .order_by("start", "pk")
        .distinct()
    )
    ids = [a.pk for a in shown]
    sequences = dict(
        AppointmentChange.objects.filter(appointment_id__in=ids)
        .values("appointment_id")
        .annotate(n=Count("id"))
        .values_list("appointment_id", "n")
    )
    staff: dict[int, list[str]] = defaultdict(list)
    if token.resource is None:
        allocations = Allocation.objects.filter(appointment_id__in=ids, active=True).order_by(
            "resource__name"
        )
        for appointment_id, name in allocations.values_list("appointment_id", "resource__name"):
            staff[appointment_id].append(name)
    with translation.override(tenant.language):
        if token.resource is not None:
            name = f"{tenant.name} – {token.resource.name}"
        else:
            name = f"{tenant.name} – {_('all appointments')}"
        cal = events_ics.calendar(name)
        cal.add("x-published-ttl", "PT15M")
        cal.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
        for appointment in shown:
            cal.add_component(
                events_ics.appointment_event(
                    appointment,
                    detail=state.detail,
                    schema=tenant.schema_name,
                    sequence=sequences.get(appointment.pk, 0),
                    staff=", ".join(staff.get(appointment.pk, ())),
                )
            )
    return cal.to_ical()


def feed_detail_choices():
    return FeedDetail.choices


def connection_of(resource: Resource | None) -> CalDavConnection | None:
    if resource is None:
        return None
    return CalDavConnection.objects.filter(resource=resource).first()


def connections_overview():
    """Every staff member's connection state, for owners and managers (never the credentials)."""
    return CalDavConnection.objects.select_related("resource").order_by("resource__name", "pk")
