"""Input of the calendar's booking, move, resize, block and status actions (sent by calendar.js as form
data), and of its address bar and events feed."""

from datetime import time, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from termino.shared import timeutils
from termino.shared.timefields import WallClockForm
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling.models import Resource, ResourceKind, Service


def _plausible(day):
    # Far-off years are typing mistakes, and date arithmetic near year 1 or 9999 overflows.
    if not 2000 <= day.year <= 2100:
        raise forms.ValidationError(_("Please give a date between the years 2000 and 2100."))


class _WhenForm(WallClockForm):
    """Date and time in the business's zone; `cleaned_data["start"]` is the instant (UTC)."""

    date = forms.DateField(label=_("Date"), validators=[_plausible])


class BookForm(_WhenForm):
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.filter(active=True),
        error_messages={"required": _("Please choose a service.")},
    )
    staff = forms.ModelChoiceField(
        label=_("Staff member"),
        queryset=Resource.objects.filter(kind=ResourceKind.STAFF, active=True),
        required=False,
    )
    room = forms.ModelChoiceField(
        label=_("Room"), queryset=Resource.objects.filter(kind=ResourceKind.ROOM, active=True), required=False
    )
    # Booking is processing: a customer whose processing is restricted (Art. 18 GDPR) cannot be booked.
    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=Customer.objects.filter(processing_restricted=False), required=False
    )
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    notes = forms.CharField(label=_("Notes"), max_length=2000, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("customer") and not (data.get("last_name") or "").strip():
            raise forms.ValidationError(
                _("Choose a customer from the search, or enter at least a last name for a new one."),
                code="customer",
            )
        return data


class MoveForm(_WhenForm):
    staff = forms.ModelChoiceField(
        label=_("Staff member"),
        queryset=Resource.objects.filter(kind=ResourceKind.STAFF, active=True),
        required=False,
    )


class ResizeForm(forms.Form):
    minutes = forms.IntegerField(
        label=_("Length in minutes"),
        min_value=5,
        max_value=24 * 60,
        error_messages={
            "min_value": _("An appointment lasts between 5 minutes and 24 hours."),
            "max_value": _("An appointment lasts between 5 minutes and 24 hours."),
        },
    )


class BlockForm(_WhenForm):
    """Time a staff member or room is away, from `date` `time` until `until` the same day (00:00: midnight).

    `cleaned_data["start"]`/`["end"]` are the instants (UTC).
    """

    until = forms.TimeField(label=_("Until"))
    resource = forms.ModelChoiceField(
        label=_("Staff member or room"),
        queryset=Resource.objects.filter(active=True),
        error_messages={"required": _("Please choose whose time to block.")},
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        day, start, until = data.get("date"), data.get("start"), data.get("until")
        if day is None or start is None or until is None:
            return data
        if until == time(0):
            data["end"] = timeutils.local_midnight(day + timedelta(days=1), self.zone)
        else:
            data["end"] = timeutils.local_at(day, until, self.zone)
        if data["end"] <= start:
            self.add_error("until", _("The end must be after the start."))
        return data


# The dialog's buttons and the lifecycle step each one takes.
STATUS_ACTIONS = {
    "confirm": lifecycle.appointment_confirm,
    "decline": lifecycle.appointment_decline,
    "cancel": lifecycle.appointment_cancel,
    "no_show": lifecycle.appointment_no_show,
    "complete": lifecycle.appointment_complete,
}
REASONED = (lifecycle.appointment_decline, lifecycle.appointment_cancel)


class StatusForm(forms.Form):
    action = forms.ChoiceField(choices=[(key, key) for key in STATUS_ACTIONS])
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


VIEWS = ("day", "week", "month")


class CalendarQuery(forms.Form):
    """The calendar's address bar: which day, which view, which columns, and whom to book for."""

    date = forms.DateField(required=False, validators=[_plausible])
    view = forms.ChoiceField(choices=[(v, v) for v in VIEWS], required=False)
    by = forms.ChoiceField(choices=[(k, k) for k in ResourceKind.values], required=False)
    resource = forms.IntegerField(required=False, min_value=1)
    customer = forms.IntegerField(required=False, min_value=1)


MAX_FEED_DAYS = 42  # a month view shows six weeks


class FeedQuery(forms.Form):
    """The days the calendar shows (`end` exclusive, as the component asks) and which columns."""

    start = forms.DateField(validators=[_plausible])
    end = forms.DateField(validators=[_plausible])
    by = forms.ChoiceField(choices=[(k, k) for k in ResourceKind.values], required=False)
    resource = forms.IntegerField(required=False, min_value=1)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and not 0 < (end - start).days <= MAX_FEED_DAYS:
            raise forms.ValidationError(
                _("Ask for between 1 and %(days)s days.") % {"days": MAX_FEED_DAYS}, code="range"
            )
        return data
