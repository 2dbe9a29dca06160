"""The one door through which an appointment changes: book, request, confirm, decline, move, resize,
cancel, mark as no-show or completed, anonymise.

Every function here checks that the actor may do it (a staff member works only in their own calendar
column), writes through `services`, and publishes one `events.AppointmentEvent` with the state before and
after. Nobody else queues a message, writes an audit line or counts: they subscribe to the event
(notifications turn it into outbox rows and hand them to a worker once committed). The staff API, the
backoffice calendar, the booking page and the privacy tools all come through here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext as _

from termino.shared import timeutils
from termino.shared.errors import NotPermitted
from termino.tenants.business.roles import own_resource_ids

from . import due, events, services
from .events import Actor, AppointmentEvent, Snapshot
from .models import Appointment, AppointmentSource, AppointmentStatus, Resource

S = AppointmentStatus
# Changes nobody made by hand: the periodic completion of past appointments.
SYSTEM = Actor(source="system")
COMPLETE_BATCH = 500


def _own(actor: Actor) -> list[int] | None:
    """The calendar columns the actor may touch (None: all of them)."""
    return own_resource_ids(actor.user) if actor.user is not None else None


def _check_touches(actor: Actor, appointment: Appointment, message: str) -> None:
    own = _own(actor)
    if own is None:
        return
    mine = appointment.allocations.filter(resource_id__in=own).exists()
    if not mine:
        raise NotPermitted(message)


def _check_staff(actor: Actor, staff: Resource | None, message: str) -> Resource | None:
    """The staff member the actor books or moves to; a staff member's own column when none is named."""
    own = _own(actor)
    if own is None:
        return staff
    if not own:
        raise NotPermitted(_("You have no calendar column of your own yet."))
    if staff is None:
        return Resource.objects.get(pk=own[0])
    if staff.pk not in own:
        raise NotPermitted(message)
    return staff


def _locked(appointment: Appointment) -> Appointment:
    """The appointment as stored, locked: the state before a change is read from the row, not the caller's
    copy (which may be stale)."""
    return Appointment.objects.select_for_update().select_related("service").get(pk=appointment.pk)


def _publish(kind: str, appointment: Appointment, actor: Actor, before: Snapshot | None = None, **extra):
    appointment = Appointment.objects.select_related("service", "customer").get(pk=appointment.pk)
    events.publish(
        AppointmentEvent(
            kind=kind,
            appointment=appointment,
            after=Snapshot.of(appointment),
            actor=actor,
            before=before,
            **extra,
        )
    )
    return appointment


# --- Booking ---------------------------------------------------------------------------------------------


@transaction.atomic
def appointment_book(
    *,
    actor: Actor,
    booking: services.Booking,
    customer=None,
    status: str = S.CONFIRMED,
    notes: str = "",
    extra: dict | None = None,
    manage_token: str | None = None,
) -> Appointment:
    """A new appointment, confirmed or (with `status=REQUESTED`) waiting for the business's approval.

    `extra` travels with the event (e.g. the series an occurrence belongs to, for one message per series);
    `manage_token` is the customer's link to it, for one booked online.
    """
    if status not in (S.CONFIRMED, S.REQUESTED):
        raise ValueError(f"a booking is confirmed or requested, not {status!r}")
    staff = _check_staff(actor, booking.staff, _("You can only book appointments in your own calendar."))
    appointment = services.appointment_create(
        booking=services.Booking(
            service=booking.service, start=booking.start, staff=staff, room=booking.room
        ),
        customer=customer,
        status=status,
        source=actor.source,
        notes=notes,
        created_by=actor.user,
        manage_token=manage_token,
    )
    return _publish(
        events.REQUESTED if status == S.REQUESTED else events.CREATED, appointment, actor, extra=extra or {}
    )


@transaction.atomic
def visit_book(
    *,
    actor: Actor,
    bookings: Sequence[services.Booking],
    customer=None,
    status: str = S.CONFIRMED,
    notes: str = "",
) -> list[Appointment]:
    """Several services back to back as one visit (starts as `services.visit_starts` lays them out); one
    event per appointment, of which notifications turn only the lead's into messages."""
    if status not in (S.CONFIRMED, S.REQUESTED):
        raise ValueError(f"a booking is confirmed or requested, not {status!r}")
    message = _("You can only book appointments in your own calendar.")
    checked = [
        services.Booking(
            service=b.service, start=b.start, staff=_check_staff(actor, b.staff, message), room=b.room
        )
        for b in bookings
    ]
    appointments = services.visit_create(
        bookings=checked,
        customer=customer,
        status=status,
        source=actor.source,
        notes=notes,
        created_by=actor.user,
    )
    kind = events.REQUESTED if status == S.REQUESTED else events.CREATED
    return [_publish(kind, appointment, actor) for appointment in appointments]


@transaction.atomic
def visit_cancel(*, actor: Actor, appointment: Appointment, reason: str = "", notify: bool = True) -> list:
    """Cancel every appointment still active of the visit `appointment` belongs to (or just it)."""
    if appointment.visit_id is None:
        return [appointment_cancel(actor=actor, appointment=appointment, reason=reason, notify=notify)]
    members = Appointment.objects.filter(visit_id=appointment.visit_id).order_by("start", "pk")
    return [
        _status(actor, member, S.CANCELLED, events.CANCELLED, reason=reason, notify=notify)
        if member.status in (S.REQUESTED, S.CONFIRMED)
        else member
        for member in members
    ]


@transaction.atomic
def appointment_hold(
    *, booking: services.Booking, expires_at: datetime, manage_token: str | None = None
) -> Appointment:
    """Keep a slot free while a customer fills in the booking form. A hold is no booking: no event."""
    hold = services.appointment_create(
        booking=booking,
        status=S.HELD,
        source=AppointmentSource.WIDGET,
        hold_expires_at=expires_at,
        manage_token=manage_token,
    )
    due.hold_expiry_due(expires_at)
    return hold


@transaction.atomic
def hold_keep(*, hold: Appointment, expires_at: datetime, customer=None, notes: str = "") -> Appointment:
    """Keep a hold longer, for the customer who is paying for it (still no booking: no event)."""
    hold = Appointment.objects.select_for_update().get(pk=hold.pk, status=S.HELD)
    hold.hold_expires_at, hold.customer, hold.notes = expires_at, customer, notes
    hold.save(update_fields=["hold_expires_at", "customer", "notes", "updated_at"])
    due.hold_expiry_due(expires_at)
    return hold


@transaction.atomic
def appointment_book_held(
    *,
    actor: Actor,
    hold: Appointment,
    customer,
    status: str = S.CONFIRMED,
    notes: str = "",
    manage_token: str | None = None,
) -> Appointment:
    """The customer's hold becomes their booking: its allocations already hold the time. `manage_token`
    replaces the hold's token (the booking's own link), in the same UPDATE."""
    hold = Appointment.objects.select_for_update().get(pk=hold.pk, status=S.HELD)
    hold.customer, hold.status, hold.notes, hold.hold_expires_at = customer, status, notes, None
    fields = ["customer", "status", "notes", "hold_expires_at", "updated_at"]
    if manage_token is not None:
        hold.manage_token = manage_token
        fields.append("manage_token")
    hold.save(update_fields=fields)
    return _publish(events.REQUESTED if status == S.REQUESTED else events.CREATED, hold, actor)


# --- Changes ---------------------------------------------------------------------------------------------


@transaction.atomic
def appointment_move(
    *,
    actor: Actor,
    appointment: Appointment,
    start: datetime,
    staff: Resource | None = None,
    extra: dict | None = None,
) -> Appointment:
    message = _("You can only move appointments within your own calendar.")
    appointment = _locked(appointment)
    _check_touches(actor, appointment, message)
    if staff is not None:
        staff = _check_staff(actor, staff, message)
    before = Snapshot.of(appointment)
    moved = services.appointment_move(
        appointment=appointment, start=start, staff=staff, changed_by=actor.user
    )
    after = Snapshot.of(moved)
    if (after.start, after.resource_ids) == (before.start, before.resource_ids):
        return moved  # nothing changed: nobody needs to hear about it
    return _publish(events.MOVED, moved, actor, before, extra=extra or {})


@transaction.atomic
def appointment_resize(*, actor: Actor, appointment: Appointment, minutes: int) -> Appointment:
    appointment = _locked(appointment)
    _check_touches(actor, appointment, _("You can only change appointments within your own calendar."))
    before = Snapshot.of(appointment)
    resized = services.appointment_resize(appointment=appointment, minutes=minutes, changed_by=actor.user)
    if resized.end == before.end:
        return resized
    return _publish(events.RESIZED, resized, actor, before)


def _status(actor: Actor, appointment: Appointment, status: str, kind: str, **extra) -> Appointment:
    appointment = _locked(appointment)
    _check_touches(actor, appointment, _("You can only change appointments within your own calendar."))
    before = Snapshot.of(appointment)
    changed = services.appointment_set_status(
        appointment=appointment, status=status, reason=extra.get("reason", ""), changed_by=actor.user
    )
    if changed.status == before.status:
        return changed
    return _publish(kind, changed, actor, before, **extra)


@transaction.atomic
def appointment_confirm(*, actor: Actor, appointment: Appointment) -> Appointment:
    """Approve a request (or take back a no-show or completed mark)."""
    return _status(actor, appointment, S.CONFIRMED, events.CONFIRMED)


@transaction.atomic
def appointment_decline(*, actor: Actor, appointment: Appointment, reason: str = "") -> Appointment:
    """Refuse a request; the customer is told, with the business's reason."""
    if _locked(appointment).status != S.REQUESTED:
        raise services.SchedulingError(_("Only a requested appointment can be declined."))
    return _status(actor, appointment, S.CANCELLED, events.DECLINED, reason=reason)


@transaction.atomic
def appointment_cancel(
    *,
    actor: Actor,
    appointment: Appointment,
    reason: str = "",
    notify: bool = True,
    extra: dict | None = None,
) -> Appointment:
    """Cancel; `notify=False` leaves the customer untold (e.g. the business already called them)."""
    return _status(
        actor, appointment, S.CANCELLED, events.CANCELLED, reason=reason, notify=notify, extra=extra or {}
    )


@transaction.atomic
def appointment_no_show(*, actor: Actor, appointment: Appointment) -> Appointment:
    return _status(actor, appointment, S.NO_SHOW, events.NO_SHOW)


@transaction.atomic
def appointment_complete(*, actor: Actor, appointment: Appointment) -> Appointment:
    return _status(actor, appointment, S.COMPLETED, events.COMPLETED)


@transaction.atomic
def appointments_anonymise(*, actor: Actor, appointment_ids: Iterable[int], changed_at: datetime) -> int:
    """Detach the customer and clear personal text of appointments kept for the books (erasure, retention)."""
    ids: Sequence[int] = list(appointment_ids)
    rows = list(
        Appointment.objects.filter(pk__in=ids).select_related("service").prefetch_related("allocations")
    )
    count = Appointment.objects.filter(pk__in=ids).update(
        customer=None, notes="", cancel_reason="", manage_token=None, updated_at=changed_at
    )
    for appointment in rows:  # one event each, from the rows read once (retention runs in batches of 500)
        resources = tuple(sorted({a.resource_id for a in appointment.allocations.all()}))
        before = Snapshot(
            appointment.start, appointment.end, appointment.status, resources, appointment.customer_id
        )
        appointment.customer, appointment.notes, appointment.cancel_reason = None, "", ""
        appointment.manage_token = None
        after = Snapshot(appointment.start, appointment.end, appointment.status, resources, None)
        events.publish(
            AppointmentEvent(
                kind=events.ANONYMISED,
                appointment=appointment,
                after=after,
                actor=actor,
                before=before,
                notify=False,
            )
        )
    return count


@transaction.atomic
def appointments_complete_past(*, zone: ZoneInfo, limit: int = COMPLETE_BATCH) -> int:
    """Mark confirmed appointments completed once their local day has ended (and they have); the system acts.

    Rows another run holds are skipped (SKIP LOCKED) and a completed row no longer matches, so runs at the
    same time complete each appointment once and publish one event for it. No-shows, cancellations and
    requests are left as they are. Returns how many this call completed (at most `limit`); call again
    until it returns 0.
    """
    now = timeutils.now()
    today_starts = timeutils.local_midnight(timeutils.today(zone), zone)
    rows = list(
        Appointment.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=S.CONFIRMED, start__lt=today_starts, end__lte=now)
        .select_related("service")
        .prefetch_related("allocations")
        .order_by("start", "pk")[:limit]
    )
    Appointment.objects.filter(pk__in=[a.pk for a in rows]).update(
        status=S.COMPLETED, changed_by=None, updated_at=now
    )
    for appointment in rows:
        resources = tuple(sorted({a.resource_id for a in appointment.allocations.all()}))
        before = Snapshot(appointment.start, appointment.end, S.CONFIRMED, resources, appointment.customer_id)
        appointment.status, appointment.changed_by = S.COMPLETED, None
        after = Snapshot(appointment.start, appointment.end, S.COMPLETED, resources, appointment.customer_id)
        events.publish(
            AppointmentEvent(
                kind=events.COMPLETED, appointment=appointment, after=after, actor=SYSTEM, before=before
            )
        )
    return len(rows)
