"""Recurrence rules of appointment series: which local dates and instants a rule names.

dateutil's `rrule` expands the rule on local dates (RFC 5545 semantics: every N days, or every N weeks on
chosen weekdays, until a date or N times); each date's wall-clock time becomes an instant through
`timeutils.local_at`, so a weekly 08:00 stays at 08:00 local across a daylight-saving change.
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from dateutil import rrule
from django.utils.translation import gettext as _

from termino.shared import timeutils
from termino.shared.errors import InvalidRequest

from .models import SERIES_MAX_OCCURRENCES, SeriesFrequency

# Far enough for every sensible series; `until` further away is a typing mistake.
MAX_SPAN_DAYS = 2 * 366


class RecurrenceError(InvalidRequest):
    """A rule that cannot be booked as given (400)."""


@dataclass(frozen=True)
class Recurrence:
    first_date: date
    time: time
    frequency: str = SeriesFrequency.WEEKLY
    interval: int = 1
    weekdays: tuple[int, ...] = ()  # 0 = Monday; empty: the first date's weekday (weekly only)
    count: int | None = None
    until: date | None = None

    def checked(self) -> "Recurrence":
        """The rule, or RecurrenceError saying in words what is wrong with it."""
        if self.frequency not in SeriesFrequency.values:
            raise RecurrenceError(_("Choose whether the appointment repeats daily or weekly."))
        if not 1 <= self.interval <= 52:
            raise RecurrenceError(_("Repeat every 1 to 52 days or weeks."))
        if any(not 0 <= day <= 6 for day in self.weekdays):
            raise RecurrenceError(_("Use 0 (Monday) to 6 (Sunday)."))
        if (self.count is None) == (self.until is None):
            raise RecurrenceError(_("Say how the series ends: after a number of appointments or on a date."))
        if self.count is not None and not 1 <= self.count <= SERIES_MAX_OCCURRENCES:
            raise RecurrenceError(
                _("A series has at most %(max)d appointments.") % {"max": SERIES_MAX_OCCURRENCES}
            )
        if self.until is not None:
            if self.until < self.first_date:
                raise RecurrenceError(_("The series must end on or after its first date."))
            if (self.until - self.first_date).days > MAX_SPAN_DAYS:
                raise RecurrenceError(_("A series can span at most two years."))
        return self

    @property
    def weekday_text(self) -> str:
        return "".join(str(day) for day in sorted(set(self.weekdays)))

    def dates(self) -> list[date]:
        """The local dates of the rule, at most SERIES_MAX_OCCURRENCES (RecurrenceError beyond)."""
        self.checked()
        weekly = self.frequency == SeriesFrequency.WEEKLY
        days = sorted(set(self.weekdays)) if weekly and self.weekdays else None
        rule = rrule.rrule(
            rrule.WEEKLY if weekly else rrule.DAILY,
            dtstart=datetime.combine(self.first_date, time(0)),
            interval=self.interval,
            byweekday=days,
            count=self.count,
            until=datetime.combine(self.until, time(0)) if self.until else None,
            cache=False,
        )
        found = []
        for moment in rule:
            if len(found) == SERIES_MAX_OCCURRENCES:
                raise RecurrenceError(
                    _("This rule gives more than %(max)d appointments. Choose an earlier end date.")
                    % {"max": SERIES_MAX_OCCURRENCES}
                )
            found.append(moment.date())
        if not found:
            raise RecurrenceError(_("This rule gives no appointment. Check the weekdays and the end date."))
        return found

    def starts(self, zone: ZoneInfo) -> list[datetime]:
        """The instants (UTC) of the rule's occurrences: the wall-clock time on each local date."""
        return [timeutils.local_at(day, self.time, zone) for day in self.dates()]
