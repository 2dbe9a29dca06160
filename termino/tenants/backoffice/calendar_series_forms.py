"""Input of the booking dialog's "Repeat" section (sent by calendar.js with the booking form's fields)."""

from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from termino.tenants.scheduling.models import SERIES_MAX_OCCURRENCES, SeriesFrequency
from termino.tenants.scheduling.recurrence import Recurrence

from .calendar_forms import BookForm, _plausible

WEEKDAY_CHOICES = [(str(n), str(n)) for n in range(7)]


class RepeatForm(forms.Form):
    """How the booking repeats; `recurrence` (in cleaned_data) is the rule, starting on the booking's date."""

    frequency = forms.ChoiceField(label=_("Repeats"), choices=SeriesFrequency.choices)
    interval = forms.IntegerField(label=_("Every"), min_value=1, max_value=52, initial=1)
    weekdays = forms.MultipleChoiceField(label=_("On"), choices=WEEKDAY_CHOICES, required=False)
    ends = forms.ChoiceField(label=_("Ends"), choices=[("count", "count"), ("until", "until")])
    count = forms.IntegerField(
        label=_("Number of appointments"),
        min_value=1,
        max_value=SERIES_MAX_OCCURRENCES,
        required=False,
        error_messages={
            "max_value": _("A series has at most %(limit_value)s appointments."),
        },
    )
    until = forms.DateField(label=_("Until"), required=False, validators=[_plausible])

    def clean(self):
        data = super().clean()
        if data.get("ends") == "count" and data.get("count") is None:
            self.add_error("count", _("How many appointments?"))
        if data.get("ends") == "until" and data.get("until") is None:
            self.add_error("until", _("Until which date?"))
        return data

    def recurrence(self, *, first_date, wall) -> Recurrence:
        data = self.cleaned_data
        by_count = data["ends"] == "count"
        return Recurrence(
            first_date=first_date,
            time=wall,
            frequency=data["frequency"],
            interval=data["interval"],
            weekdays=tuple(int(day) for day in data.get("weekdays") or ()),
            count=data["count"] if by_count else None,
            until=None if by_count else data["until"],
        ).checked()


class SeriesBookForm(BookForm):
    """The booking dialog with "Repeat": the customer as for one booking, plus the dates chosen after the
    preview (`occurrence`, instants with their offset as the preview gave them)."""

    def chosen_starts(self) -> list[datetime] | None:
        values = self.data.getlist("occurrence")
        if not values:
            return None
        starts = []
        for value in values[: SERIES_MAX_OCCURRENCES + 1]:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                moment = None
            if moment is None or moment.utcoffset() is None:
                raise forms.ValidationError(_("Check the dates again."), code="occurrence")
            starts.append(moment)
        return starts


class SeriesCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
