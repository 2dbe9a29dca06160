"""Small builders for scheduling data inside one business's schema (the caller sets the schema)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from termino.shared import timeutils
from termino.tenants.scheduling.models import Resource, Service, WeeklyHours

BERLIN = ZoneInfo("Europe/Berlin")


def next_monday(at: time = time(10)) -> datetime:
    """A Monday at `at` (Berlin) at least three days ahead of "now".

    Far enough for the 24-hour self-service cut-off and 48-hour reminders whatever day and hour the
    pinned clock shows (tests/clock.py): on a Saturday evening or a Sunday at 23:59 it is the Monday after
    next, since the coming one is too close.
    """
    day = timeutils.next_weekday(0, BERLIN, after=timeutils.today(BERLIN) + timedelta(days=2))
    return timeutils.localtime(timeutils.local_at(day, at, BERLIN), BERLIN)


def salon(*, capacity: int = 1, requires_room: bool = False, staff_count: int = 2, **service_fields):
    """A service, staff members who offer it (and a room), open Monday to Saturday 09:00–18:00."""
    service = Service.objects.create(
        name=service_fields.pop("name", "Haarschnitt"),
        duration_minutes=service_fields.pop("duration_minutes", 30),
        capacity=capacity,
        requires_room=requires_room,
        min_notice_minutes=service_fields.pop("min_notice_minutes", 0),
        **service_fields,
    )
    staff = [Resource.objects.create(kind="staff", name=f"Staff {n}") for n in range(1, staff_count + 1)]
    room = Resource.objects.create(kind="room", name="Raum 1")
    service.resources.set([*staff, room])
    # One insert: thousands of tests build a salon, and the rows' signals (the availability version, the
    # waitlist's nudge) already fired for the service and its resources.
    WeeklyHours.objects.bulk_create(WeeklyHours(weekday=d, start=time(9), end=time(18)) for d in range(6))
    return service, staff, room
