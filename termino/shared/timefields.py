"""Input fields for instants: what a client sends becomes one UTC instant, or a 400 that says why not.

A time with an offset ("2027-10-31T02:30:00+01:00") is that instant. A time without one is a wall-clock time
in the business's zone (the active time zone), and must name exactly one instant: the skipped hour in
spring is refused naming the gap, the repeated hour in autumn asks for the offset. The staff API, the public
API and the calendar dialog apply this same rule.
"""

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from . import timeutils

OFFSET_PATTERN = r"^[+-](0\d|1[0-4]):[0-5]\d$"


def parse_offset(text: str) -> timedelta | None:
    """ "+01:00" → 1 h; "" → None; ValueError for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    sign = -1 if text[0] == "-" else 1
    if text[0] not in "+-" or len(text) != 6 or text[3] != ":":
        raise ValueError(text)
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 14 or minutes > 59:
        raise ValueError(text)
    return sign * timedelta(hours=hours, minutes=minutes)


class InstantField(serializers.DateTimeField):
    """An ISO 8601 date-time; returned as an aware UTC datetime (see the module docstring)."""

    def enforce_timezone(self, value):
        if timezone.is_aware(value):
            try:
                return timeutils.as_utc(value)
            except OverflowError:
                self.fail("overflow")
        try:
            return timeutils.local_instant(value, timezone.get_current_timezone())
        except timeutils.LocalTimeError as exc:
            raise serializers.ValidationError(exc.message, code="local_time") from exc

    def to_representation(self, value):
        # Shown in the business's zone with its offset, like every other time the API answers with.
        return serializers.DateTimeField().to_representation(value)


class WallClockForm(forms.Form):
    """A date and a wall-clock time in the business's zone, plus the UTC offset for the repeated hour.

    `cleaned_data["start"]` is the instant (UTC). In the repeated hour without an offset, the error is on
    `offset` and `ambiguous_offsets` lists the two choices, so the dialog can offer them.
    """

    date = forms.DateField(label=_("Date"))
    time = forms.TimeField(label=_("Time"))
    offset = forms.RegexField(
        label=_("UTC offset"),
        regex=OFFSET_PATTERN,
        required=False,
        error_messages={"invalid": _("Give the UTC offset as +01:00 or +02:00.")},
    )

    def __init__(self, *args, time_zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = timeutils.zone(time_zone)
        self.ambiguous_offsets: tuple[str, str] | None = None

    def clean(self):
        data = super().clean()
        day, wall = data.get("date"), data.get("time")
        if day is None or wall is None:
            return data
        try:
            data["start"] = timeutils.local_instant(
                datetime.combine(day, wall), self.zone, offset=parse_offset(data.get("offset") or "")
            )
        except timeutils.AmbiguousLocalTime as exc:
            self.ambiguous_offsets = exc.offsets
            self.add_error("offset", exc.message)
        except timeutils.NonexistentLocalTime as exc:
            self.add_error("time", exc.message)
        return data
