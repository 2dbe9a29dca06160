"""Input of the booking dialog's "More services in this visit": the booking form's service and staff member
come first, each further service follows as a pair `more_service` / `more_staff` (empty: whoever is free)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from termino.tenants.scheduling.models import VISIT_MAX_SERVICES as MAX_SERVICES

from .calendar_forms import BookForm


class _PartForm(forms.Form):
    service = BookForm.base_fields["service"]
    staff = BookForm.base_fields["staff"]


class VisitPartsForm(forms.Form):
    """The further services of a visit, in order; `cleaned_data["parts"]` is [(service, staff or None)]."""

    def __init__(self, data):
        super().__init__(data)
        self.services = data.getlist("more_service")
        self.staff = data.getlist("more_staff")

    def clean(self):
        data = super().clean()
        if not self.services:
            raise forms.ValidationError(_("Add at least one more service for a visit."), code="empty")
        if len(self.services) + 1 > MAX_SERVICES:
            raise forms.ValidationError(
                _("A visit has at most %(count)d services.") % {"count": MAX_SERVICES}, code="too_many"
            )
        staff = self.staff + [""] * (len(self.services) - len(self.staff))
        parts = []
        for service, member in zip(self.services, staff, strict=False):
            part = _PartForm({"service": service, "staff": member})
            if not part.is_valid():
                if "service" in part.errors:
                    raise forms.ValidationError(
                        _("Please choose a service for every part of the visit."), code="service"
                    )
                raise forms.ValidationError(_("Please choose a staff member from the list."), code="staff")
            parts.append((part.cleaned_data["service"], part.cleaned_data.get("staff")))
        data["parts"] = parts
        return data
