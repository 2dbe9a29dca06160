"""Writes of calendar feeds and CalDAV connections (tenant schema).

Network calls never run inside a transaction that holds rows other writers need: a pull claims its
connection in one short transaction, asks the server, then writes what it found in another. A push holds
its connection's row lock across the PUT (bounded by CALDAV_TIMEOUT_SECONDS), which serialises the writes
of one calendar, so a quick create-then-move cannot reach the server in the wrong order.
"""

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from termino.platform.duework import due
from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.tenants.scheduling.models import ACTIVE_STATUSES, Appointment, Closure, Resource

from . import caldav_client, crypto, events_ics
from .models import (
    CalDavConnection,
    CalendarSettings,
    ConnectionState,
    ExternalBusy,
    FeedToken,
    PushedEvent,
)
from .selectors import FEED_STATUSES, calendar_settings

logger = logging.getLogger(__name__)

PULL_KIND = "calendars.pull"
# A pull whose collection token is unchanged still reads the window again this often (the window moves).
FULL_PULL_EVERY = timedelta(hours=6)


# --- Feeds --------------------------------------------------------------------------------------------


@transaction.atomic
def feed_token_issue(*, resource: Resource | None, user) -> str:
    """A new secret URL for the column (None: the whole business); any earlier one stops working."""
    if resource is not None:
        Resource.objects.select_for_update().get(pk=resource.pk)
    else:
        CalendarSettings.objects.get_or_create(pk=1)
        CalendarSettings.objects.select_for_update().get(pk=1)
    feed_token_revoke(resource=resource)
    token = secrets.token_urlsafe(32)
    FeedToken.objects.create(
        resource=resource,
        token_hash=crypto.token_digest(token),
        token_encrypted=crypto.encrypt(token),
        created_by=user,
    )
    return token


def feed_token_revoke(*, resource: Resource | None) -> int:
    return FeedToken.objects.filter(resource=resource, revoked_at__isnull=True).update(
        revoked_at=timeutils.now()
    )


def calendar_settings_update(*, feed_detail: str) -> CalendarSettings:
    row, _created = CalendarSettings.objects.update_or_create(pk=1, defaults={"feed_detail": feed_detail})
    return row


# --- CalDAV connections -------------------------------------------------------------------------------


def client_for(conn: CalDavConnection) -> caldav_client.CalDavClient:
    return caldav_client.CalDavClient(conn.url, conn.username, crypto.decrypt(conn.password_encrypted))


@transaction.atomic
def caldav_connect(*, resource: Resource, url: str, username: str, password: str) -> CalDavConnection:
    """Store (or replace) the staff member's calendar and sync it at once: its busy times pulled, the
    appointments still to come written to it. The password is kept encrypted."""
    now = timeutils.now()
    conn, _created = CalDavConnection.objects.select_for_update().update_or_create(
        resource=resource,
        defaults={
            "url": url.strip(),
            "username": username.strip(),
            "password_encrypted": crypto.encrypt(password),
            "state": ConnectionState.PENDING,
            "state_detail": "",
            "sync_token": "",
            "last_pulled_at": None,
            "next_pull_at": now,
        },
    )
    due.mark(PULL_KIND, now)
    schema = connection.schema_name
    transaction.on_commit(lambda: _queue_initial_sync(schema, conn.pk), robust=True)
    return conn


def _queue_initial_sync(schema: str, connection_id: int) -> None:
    from .tasks import pull, push_all  # tasks import services

    pull.delay(schema_name=schema, connection_id=connection_id, on_demand=True)
    push_all.delay(schema_name=schema, connection_id=connection_id)


@transaction.atomic
def caldav_disconnect(*, resource: Resource) -> bool:
    """Forget the calendar: its busy times stop blocking at once. Events already written stay there."""
    conn = CalDavConnection.objects.select_for_update().filter(resource=resource).first()
    if conn is None:
        return False
    Closure.objects.filter(external__connection=conn).delete()
    conn.delete()
    return True


# A refused password or a missing calendar is not retried every few minutes: repeated failed logins can
# lock the person's account at their provider. Saving the form again (or a day later) tries again.
BROKEN = (caldav_client.AUTH_FAILED, caldav_client.NOT_FOUND)
BROKEN_RETRY = timedelta(days=1)


def _same(conn: CalDavConnection):
    """The connection's row as the pull read it: a calendar saved again meanwhile (another address or
    password) is not overwritten by what the old one answered."""
    return CalDavConnection.objects.filter(
        pk=conn.pk, url=conn.url, password_encrypted=conn.password_encrypted
    )


@transaction.atomic
def _fail(conn: CalDavConnection, error: caldav_client.CalDavError) -> None:
    values = {"state": error.code, "state_detail": error.detail}
    if error.code in BROKEN:
        values["next_pull_at"] = timeutils.shift(timeutils.now(), BROKEN_RETRY)
    if _same(conn).select_for_update().values_list("pk", flat=True).first() is None:
        return
    if error.code == caldav_client.NOT_FOUND:
        # The calendar is gone: what it said is busy is no longer known.
        Closure.objects.filter(external__connection_id=conn.pk).delete()
        values["sync_token"] = ""
    _same(conn).update(**values, updated_at=timeutils.now())


def _claim_pull(conn_id: int, *, on_demand: bool) -> CalDavConnection | None:
    """Take the connection for one pull, or None when it is not due or was pulled moments ago."""
    now = timeutils.now()
    with transaction.atomic():
        conn = CalDavConnection.objects.select_for_update().filter(pk=conn_id).first()
        if conn is None:
            return None
        if conn.last_pulled_at is not None:
            since = timeutils.elapsed(conn.last_pulled_at, now)
            if since < timedelta(seconds=settings.CALDAV_MIN_PULL_SECONDS):
                return None
        if not on_demand and conn.next_pull_at > now:
            return None
        conn.last_pulled_at = now
        conn.next_pull_at = timeutils.shift(now, seconds=settings.CALDAV_PULL_INTERVAL_SECONDS)
        conn.save(update_fields=["last_pulled_at", "next_pull_at", "updated_at"])
    return conn


def caldav_pull(*, connection_id: int, on_demand: bool = False) -> str:
    """Read the calendar's busy times into closures of the staff member's column; returns the state.

    Cheap when nothing changed: one PROPFIND, and the events are read only when the collection's sync
    token moved (or the window did, every few hours). Failures are stored as the connection's state and
    never touch bookings.
    """
    conn = _claim_pull(connection_id, on_demand=on_demand)
    if conn is None:
        return "skipped"
    tenant = current_business()
    zone = timeutils.zone(tenant.time_zone)
    try:
        client = client_for(conn)
        token = client.probe()
        start = conn.last_pulled_at
        unchanged = token and token == conn.sync_token and conn.state == ConnectionState.OK
        if (
            unchanged
            and conn.events_read_at
            and timeutils.elapsed(conn.events_read_at, start) < FULL_PULL_EVERY
        ):
            return "unchanged"
        end = timeutils.shift(start, timedelta(days=settings.CALDAV_PULL_DAYS))
        found = client.busy(start, end, zone=zone, skip_uid_suffix=events_ics.uid_suffix(tenant.schema_name))
    except caldav_client.CalDavError as error:
        _fail(conn, error)
        return error.code
    except ValueError as error:  # a password no configured key opens
        _fail(conn, caldav_client.CalDavError(caldav_client.ERROR, str(error)))
        return caldav_client.ERROR
    with translation.override(tenant.language):
        reason = _("Busy in the connected calendar")
    if not _busy_replace(conn, found, reason=reason, since=start, token=token):
        return "skipped"  # disconnected or saved again meanwhile: the next pull reads the new calendar
    return ConnectionState.OK


@transaction.atomic
def _busy_replace(conn: CalDavConnection, found, *, reason: str, since, token: str) -> bool:
    """Make the connection's closures equal what the calendar says from `since` on: only the difference
    is written, so an unchanged calendar moves no availability version."""
    if _same(conn).select_for_update().values_list("pk", flat=True).first() is None:
        return False
    # Busy times long past serve no one: kept a month for the calendar's history, then dropped.
    Closure.objects.filter(
        external__connection=conn, end__lt=timeutils.shift(since, -timedelta(days=30))
    ).delete()
    wanted = {(b.uid, b.start, b.end) for b in found}
    have = {
        (row.uid, row.closure.start, row.closure.end): row
        for row in ExternalBusy.objects.filter(connection=conn, closure__end__gt=since).select_related(
            "closure"
        )
    }
    stale = [row.closure_id for key, row in have.items() if key not in wanted]
    if stale:
        Closure.objects.filter(pk__in=stale).delete()
    for uid, start, end in sorted(wanted - set(have), key=lambda k: (k[1], k[0])):
        closure = Closure.objects.create(resource=conn.resource, start=start, end=end, reason=reason)
        ExternalBusy.objects.create(connection=conn, closure=closure, uid=uid[:500])
    _same(conn).update(
        state=ConnectionState.OK,
        state_detail="",
        sync_token=token,
        events_read_at=since,
        updated_at=timeutils.now(),
    )
    return True


def _in_use():
    """The connections of columns still in use: a deactivated column's, or a deactivated person's, calendar
    is neither read nor written (the connection stays, so reactivating them needs no new password)."""
    return CalDavConnection.objects.filter(resource__active=True).exclude(resource__user__is_active=False)


def pull_next_due():
    return _in_use().order_by("next_pull_at").values_list("next_pull_at", flat=True).first()


def pull_due_run() -> int:
    """Beat's dispatcher visits when the earliest connection is due: pull every due one."""
    now = timeutils.now()
    done = 0
    for pk in _in_use().filter(next_pull_at__lte=now).values_list("pk", flat=True):
        if caldav_pull(connection_id=pk) != "skipped":
            done += 1
    return done


# --- Writing appointments to the calendar --------------------------------------------------------------


def _event_bytes(appointment, *, schema: str, detail: str, sequence: int) -> tuple[bytes, str]:
    cal = events_ics.calendar(appointment.service.name)
    cal.add_component(
        events_ics.appointment_event(appointment, detail=detail, schema=schema, sequence=sequence)
    )
    body = cal.to_ical()
    # The digest leaves out DTSTAMP/LAST-MODIFIED, which move with every save even when nothing shown did.
    shown = b"\n".join(
        line for line in body.splitlines() if not line.startswith((b"DTSTAMP", b"LAST-MODIFIED", b"SEQUENCE"))
    )
    return body, hashlib.sha256(shown).hexdigest()


def caldav_push(*, appointment_id: int, connection_id: int) -> str:
    """Make the staff member's calendar show the appointment as it is now: written while it is requested,
    confirmed or done in that column, removed when cancelled, declined or moved to another column.
    Idempotent: the same state is written once."""
    tenant = current_business()
    schema = tenant.schema_name
    with transaction.atomic():
        conn = CalDavConnection.objects.select_for_update().filter(pk=connection_id).first()
        if conn is None:
            return "gone"
        appointment = (
            Appointment.objects.select_related("service", "customer").filter(pk=appointment_id).first()
        )
        pushed = PushedEvent.objects.filter(connection=conn, appointment_id=appointment_id).first()
        wanted = (
            appointment is not None
            and appointment.status in FEED_STATUSES  # completed and no-shows stay in her calendar
            and appointment.allocations.filter(resource_id=conn.resource_id, active=True).exists()
        )
        if conn.state in BROKEN:
            return conn.state  # no login attempts with a refused password; reconnecting writes everything
        client = client_for(conn)
        name = f"termino-{schema.replace('_', '-')}-{appointment_id}.ics"
        url = pushed.href if pushed else client.event_url(name)
        try:
            if not wanted:
                if pushed is None:
                    return "nothing"
                client.delete(url)
                pushed.delete()
                return "deleted"
            sequence = appointment.changes.count()
            with translation.override(tenant.language):
                body, digest = _event_bytes(
                    appointment, schema=schema, detail=calendar_settings().feed_detail, sequence=sequence
                )
            if pushed is not None and pushed.digest == digest:
                return "unchanged"
            etag = client.put(url, body)
        except caldav_client.CalDavError as error:
            if error.code in BROKEN:
                conn.state, conn.state_detail = error.code, error.detail
                conn.next_pull_at = timeutils.shift(timeutils.now(), BROKEN_RETRY)
                conn.save(update_fields=["state", "state_detail", "next_pull_at", "updated_at"])
                return error.code
            raise
        PushedEvent.objects.update_or_create(
            connection=conn,
            appointment_id=appointment_id,
            defaults={"href": url, "etag": etag, "sequence": sequence, "digest": digest},
        )
        return "written"


def push_targets(resource_ids) -> list[int]:
    """The connections an appointment's change concerns (its columns before and after)."""
    return list(_in_use().filter(resource_id__in=resource_ids).values_list("pk", flat=True))


def upcoming_ids(*, connection_id: int) -> list[int]:
    """The appointments still to come in the connection's column (written after connecting)."""
    conn = CalDavConnection.objects.filter(pk=connection_id).first()
    if conn is None:
        return []
    rows = Appointment.objects.filter(
        status__in=ACTIVE_STATUSES,
        end__gt=timeutils.now(),
        allocations__resource_id=conn.resource_id,
        allocations__active=True,
    )
    return list(rows.values_list("pk", flat=True).distinct())


@transaction.atomic
def secrets_reencrypt() -> int:
    """Every stored secret of the business under the first configured key (key rotation)."""
    count = 0
    for conn in CalDavConnection.objects.select_for_update():
        conn.password_encrypted = crypto.reencrypt(conn.password_encrypted)
        conn.save(update_fields=["password_encrypted"])
        count += 1
    for row in FeedToken.objects.select_for_update().filter(revoked_at__isnull=True):
        row.token_encrypted = crypto.reencrypt(row.token_encrypted)
        row.save(update_fields=["token_encrypted"])
        count += 1
    return count
