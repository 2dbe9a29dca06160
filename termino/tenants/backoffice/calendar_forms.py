"""Input of the calendar's booking, move and status actions (sent by calendar.js as form data)."""

from django import forms
from django.utils.translation import gettext_lazy as _

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


class CalendarQuery(forms.Form):
    """The calendar's address bar: which day, which view, which columns."""

    date = forms.DateField(required=False, validators=[_plausible])
    view = forms.ChoiceField(choices=[("day", "day"), ("week", "week")], required=False)
    by = forms.ChoiceField(choices=[(k, k) for k in ResourceKind.values], required=False)
    resource = forms.IntegerField(required=False, min_value=1)
