"""Whether a free time suits a waiting customer's wish: days, weekdays, parts of the day, staff member.

Parts of the day follow the booking page's grouping of times by their local start: morning before 12:00,
afternoon before 17:00, evening after.
"""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from termino.shared import timeutils

from .models import DayPart

NOON, FIVE_PM = time(12), time(17)


def day_part(local: datetime) -> str:
    if local.time() < NOON:
        return DayPart.MORNING
    if local.time() < FIVE_PM:
        return DayPart.AFTERNOON
    return DayPart.EVENING


def suits(entry, start: datetime, resource_ids, zone: ZoneInfo) -> bool:
    """Does a free time at `start` with these free resources suit `entry`?"""
    local = timeutils.localtime(start, zone)
    day = local.date()
    if entry.date_from and day < entry.date_from:
        return False
    if entry.date_to and day > entry.date_to:
        return False
    if entry.weekdays and day.weekday() not in entry.weekdays:
        return False
    if entry.day_parts and day_part(local) not in entry.day_parts:
        return False
    return entry.resource_id is None or entry.resource_id in resource_ids
