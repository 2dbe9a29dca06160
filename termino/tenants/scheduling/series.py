"""Appointment series: book a repeating appointment, move or cancel one occurrence or this and all
following ones. Every occurrence goes through the lifecycle's door (`lifecycle.appointment_book`, `_move`,
`_cancel`), which checks the actor and publishes its event; the events carry the series in `extra`, so
notifications send one message for the whole series instead of one per occurrence.

All or nothing: the resource rows are locked (ascending id, like every booking) before anything is checked,
every occurrence is checked under those locks by the same rules as the preview, and all of them are written
in one transaction. A collision anywhere rolls back everything (409 naming the date); concurrent series on
the same staff member queue on the locks, so they can never double-book.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from termino.shared import timeutils
from termino.shared.errors import NotPermitted
from termino.tenants.business.roles import own_resource_ids

from . import lifecycle, services
from .events import Actor
from .models import (
    ACTIVE_STATUSES,
    SERIES_MAX_OCCURRENCES,
    Appointment,
    Resource,
    Series,
    Service,
)
from .recurrence import Recurrence
from .series_selectors import occurrences_check, series_needs

THIS = "this"
FOLLOWING = "following"
SCOPES = (THIS, FOLLOWING)


def when_text(moment: datetime, zone: ZoneInfo) -> str:
    """`31.03.2027 10:00`: how a date of a series is named in messages and refusals."""
    local = timeutils.localtime(moment, zone)
    return f"{local:%d.%m.%Y} {timeutils.wall_time(moment, zone)}"


def series_starts_check(starts: Sequence[datetime]) -> list[datetime]:
    """The chosen starts, sorted; SchedulingError when there are none, too many or the same twice."""
    if not starts:
        raise services.SchedulingError(_("Choose at least one date to book."))
    if len(starts) > SERIES_MAX_OCCURRENCES:
        raise services.SchedulingError(
            _("A series has at most %(max)d appointments.") % {"max": SERIES_MAX_OCCURRENCES}
        )
    ordered = sorted(timeutils.as_utc(s) for s in starts)
    if len(set(ordered)) != len(ordered):
        raise services.SchedulingError(_("The same date and time is chosen twice."))
    return ordered


def series_staff(*, user, staff: Resource | None) -> Resource | None:
    """Whom a series is booked with: a staff member books (and previews) only in their own column, which is
    the one when none is named; owners and managers anyone (None: whoever is free at each date)."""
    own = own_resource_ids(user) if user is not None else None
    if own is None:
        return staff
    if not own:
        raise NotPermitted(_("You have no calendar column of your own yet."))
    if staff is None:
        return Resource.objects.get(pk=own[0])
    if staff.pk not in own:
        raise NotPermitted(_("You can only book appointments in your own calendar."))
    return staff


def _lock(resource_ids: Sequence[int]) -> None:
    """Resource rows in ascending id order, as every booking takes them: queued, never deadlocked."""
    list(Resource.objects.select_for_update().filter(pk__in=set(resource_ids)).order_by("pk"))


@transaction.atomic
def series_book(
    *,
    actor: Actor,
    service: Service,
    recurrence: Recurrence,
    zone: ZoneInfo,
    staff: Resource | None = None,
    room: Resource | None = None,
    customer=None,
    notes: str = "",
    starts: Sequence[datetime] | None = None,
) -> Series:
    """Book the series: every occurrence of the rule, or exactly the `starts` chosen after the preview
    (the free ones, some replaced by alternatives). Nothing is stored unless all of them can be booked."""
    recurrence = recurrence.checked()
    if not service.active:
        raise services.SchedulingError(_("%(service)s is not offered any more.") % {"service": service.name})
    chosen = series_starts_check(recurrence.starts(zone) if starts is None else starts)
    staff = series_staff(user=actor.user, staff=staff)
    needs = series_needs(service=service, staff=staff, room=room)
    if not needs.staff:
        raise services.SchedulingError(_("No staff member offers %(service)s.") % {"service": service.name})
    _lock(needs.resource_ids)
    services.holds_release_expired(resource_ids=needs.resource_ids)
    taken = [
        c for c in occurrences_check(needs=needs, starts=chosen, zone=zone, alternatives=False) if not c.free
    ]
    if taken:
        raise services.Conflict(
            ngettext(
                "Nothing was booked: %(count)d date is taken. %(first)s: %(reason)s",
                "Nothing was booked: %(count)d dates are taken. %(first)s: %(reason)s",
                len(taken),
            )
            % {"count": len(taken), "first": when_text(taken[0].start, zone), "reason": taken[0].reason}
        )
    series = Series.objects.create(
        service=service,
        customer=customer,
        frequency=recurrence.frequency,
        interval=recurrence.interval,
        weekdays=recurrence.weekday_text,
        first_date=recurrence.first_date,
        time=recurrence.time,
        count=recurrence.count,
        until=recurrence.until,
        created_by=actor.user,
    )
    booked = []
    for start in chosen:
        try:
            appointment = lifecycle.appointment_book(
                actor=actor,
                booking=services.Booking(service=service, start=start, staff=staff, room=room),
                customer=customer,
                notes=notes,
                extra={"series": series.pk, "series_revision": 0},
            )
        except services.Conflict as exc:  # cannot happen under the locks; named by date if it does
            raise services.Conflict(f"{when_text(start, zone)}: {exc.message}") from exc
        booked.append(appointment.pk)
    Appointment.objects.filter(pk__in=booked).update(series=series)
    return series


def _series_locked(appointment: Appointment) -> tuple[Series, Appointment]:
    appointment = Appointment.objects.select_related("series").get(pk=appointment.pk)
    if appointment.series_id is None:
        raise services.SchedulingError(_("This appointment is not part of a series."))
    series = Series.objects.select_for_update().get(pk=appointment.series_id)
    return series, appointment


def _following(series: Series, appointment: Appointment) -> list[Appointment]:
    """This occurrence and every later one still to come (requested or confirmed), in time order."""
    return list(
        Appointment.objects.filter(series=series, start__gte=appointment.start, status__in=ACTIVE_STATUSES)
        .select_related("service")
        .order_by("start", "pk")
    )


def _next_revision(series: Series) -> int:
    series.revision += 1
    series.save(update_fields=["revision"])
    return series.revision


@transaction.atomic
def series_cancel(
    *,
    actor: Actor,
    appointment: Appointment,
    scope: str = THIS,
    reason: str = "",
    notify: bool = True,
) -> list[Appointment]:
    """Cancel one occurrence, or it and all following ones (one message to the customer for them all)."""
    series, appointment = _series_locked(appointment)
    if scope == THIS:
        return [
            lifecycle.appointment_cancel(actor=actor, appointment=appointment, reason=reason, notify=notify)
        ]
    targets = _following(series, appointment)
    if not targets:
        raise services.SchedulingError(_("There is no appointment of this series left to cancel."))
    extra = {"series": series.pk, "series_revision": _next_revision(series)}
    return [
        lifecycle.appointment_cancel(actor=actor, appointment=a, reason=reason, notify=notify, extra=extra)
        for a in targets
    ]


@transaction.atomic
def series_move(
    *,
    actor: Actor,
    appointment: Appointment,
    start: datetime,
    zone: ZoneInfo,
    staff: Resource | None = None,
    scope: str = THIS,
) -> list[Appointment]:
    """Move one occurrence, or it and all following ones by the same number of days to the same new local
    time (08:00 stays 08:00 across a daylight-saving change). All or nothing: a collision of any of them
    leaves every occurrence where it was (409 naming the date)."""
    series, appointment = _series_locked(appointment)
    if scope == THIS:
        return [lifecycle.appointment_move(actor=actor, appointment=appointment, start=start, staff=staff)]
    targets = _following(series, appointment)
    if not targets or targets[0].pk != appointment.pk:
        raise services.SchedulingError(_("Only an appointment still to come can be moved."))
    days = timeutils.local_date(start, zone) - timeutils.local_date(appointment.start, zone)
    wall = timeutils.localtime(start, zone).time()
    plan = [(appointment, timeutils.as_utc(start))] + [
        (a, timeutils.local_at(timeutils.local_date(a.start, zone) + days, wall, zone)) for a in targets[1:]
    ]
    # Every resource any of them holds or will hold, locked up front in one order.
    held = Resource.objects.filter(allocations__appointment__in=targets).values_list("pk", flat=True)
    _lock([*held, *([staff.pk] if staff else [])])
    # Later first when moving later (earlier first when earlier), so no occurrence collides with one of its
    # own series that has yet to move out of the way.
    if timeutils.elapsed(appointment.start, start) > timedelta(0):
        plan.reverse()
    extra = {"series": series.pk, "series_revision": _next_revision(series)}
    moved = []
    for target, new_start in plan:
        try:
            moved.append(
                lifecycle.appointment_move(
                    actor=actor, appointment=target, start=new_start, staff=staff, extra=extra
                )
            )
        except services.Conflict as exc:
            raise services.Conflict(
                _("Nothing was moved. %(date)s: %(reason)s")
                % {"date": when_text(new_start, zone), "reason": exc.message}
            ) from exc
    return sorted(moved, key=lambda a: a.start)
