"""Scheduling's due work (`termino.platform.duework`): a business is visited when its earliest hold
expires (bookings release lapsed holds on the resources they touch anyway; this frees the rest), and when
the local day of its earliest confirmed appointment has ended (it becomes completed)."""

from datetime import datetime, timedelta

from django.db.models import Min

from termino.platform.duework import due
from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.tenants.business.selectors import business_settings

from . import events, lifecycle
from .models import Appointment, AppointmentStatus
from .services import holds_release_expired

KIND = "scheduling.holds"
COMPLETION = "scheduling.completion"


def hold_expiry_due(at: datetime) -> None:
    due.mark(KIND, at)


def holds_next_due() -> datetime | None:
    held = Appointment.objects.filter(status=AppointmentStatus.HELD)
    return held.aggregate(at=Min("hold_expires_at"))["at"]


def _day_ends(start: datetime) -> datetime:
    zone = timeutils.zone(current_business().time_zone)
    day = timeutils.localtime(start, zone).date()
    return timeutils.local_midnight(day + timedelta(days=1), zone)


def completion_next_due() -> datetime | None:
    """When the earliest confirmed appointment's local day ends (and it has ended); None when the business
    turned completion off or has none."""
    if not business_settings().auto_complete:
        return None
    first = (
        Appointment.objects.filter(status=AppointmentStatus.CONFIRMED)
        .order_by("start")
        .values_list("start", "end")
        .first()
    )
    return max(_day_ends(first[0]), first[1]) if first else None


def completion_run() -> int:
    """Complete what has ended (beat's dispatcher visits when `completion_next_due` has come)."""
    if not business_settings().auto_complete:
        return 0
    zone = timeutils.zone(current_business().time_zone)
    total = 0
    while done := lifecycle.appointments_complete_past(zone=zone):
        total += done
    return total


def _completion_mark(event: events.AppointmentEvent) -> None:
    """A confirmed appointment (new, approved or moved) is due for completion when its day has ended."""
    if event.after.status == AppointmentStatus.CONFIRMED and event.kind != events.COMPLETED:
        due.mark(COMPLETION, max(_day_ends(event.after.start), event.after.end))


def register() -> None:
    due.register(KIND, run=holds_release_expired, next_due=holds_next_due)
    due.register(COMPLETION, run=completion_run, next_due=completion_next_due)
    events.subscribe(_completion_mark)
