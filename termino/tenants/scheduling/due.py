"""Lapsed slot holds as due work (`termino.platform.duework`): a business is visited when its earliest
hold expires. (Bookings release lapsed holds on the resources they touch anyway; this frees the rest.)"""

from datetime import datetime

from django.db.models import Min

from termino.platform.duework import due

from .models import Appointment, AppointmentStatus
from .services import holds_release_expired

KIND = "scheduling.holds"


def hold_expiry_due(at: datetime) -> None:
    due.mark(KIND, at)


def holds_next_due() -> datetime | None:
    held = Appointment.objects.filter(status=AppointmentStatus.HELD)
    return held.aggregate(at=Min("hold_expires_at"))["at"]


def register() -> None:
    due.register(KIND, run=holds_release_expired, next_due=holds_next_due)
