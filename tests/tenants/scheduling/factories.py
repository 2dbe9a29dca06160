"""Small builders for scheduling data inside one business's schema (the caller sets the schema)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from termino.tenants.scheduling.models import Resource, Service, WeeklyHours

BERLIN = ZoneInfo("Europe/Berlin")


def next_monday(at: time = time(10)) -> datetime:
    today = datetime.now(BERLIN).date()
    day = today + timedelta(days=7 - today.weekday())
    return datetime.combine(day, at, tzinfo=BERLIN)


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
    for weekday in range(6):
        WeeklyHours.objects.create(weekday=weekday, start=time(9), end=time(18))
    return service, staff, room
