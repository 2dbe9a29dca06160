"""The form of the retention rules (settings: Data retention)."""

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from termino.tenants.retention.models import (
    APPOINTMENT_YEARS_MAX,
    CUSTOMER_YEARS_MAX,
    LOGIN_IP_DAYS_MAX,
    LOGIN_IP_DAYS_MIN,
    MESSAGE_DAYS_MAX,
    RetentionPolicy,
)

# Field → (unit shown next to the input, lowest, highest): the same bounds as the table's constraints.
BOUNDS = {
    "customer_erase_years": (_("years"), 0, CUSTOMER_YEARS_MAX),
    "appointment_anonymise_years": (_("years"), 0, APPOINTMENT_YEARS_MAX),
    "message_text_days": (_("days"), 0, MESSAGE_DAYS_MAX),
    "login_ip_days": (_("days"), LOGIN_IP_DAYS_MIN, LOGIN_IP_DAYS_MAX),
}


class RetentionPolicyForm(forms.ModelForm):
    class Meta:
        model = RetentionPolicy
        fields = list(BOUNDS)
        labels = {
            "customer_erase_years": _("Erase customers without appointments after"),
            "appointment_anonymise_years": _("Anonymise appointments after"),
            "message_text_days": _("Delete message texts after"),
            "login_ip_days": _("Shorten IP addresses of logins after"),
        }
        help_texts = {
            "customer_erase_years": _(
                "Customers with no appointment, note, consent or message in this time are erased; the "
                "appointments they had stay, without their name. 0 = never."
            ),
            "appointment_anonymise_years": _(
                "Counted from the end of the appointment. Service, time and price stay for your books; "
                "customer, notes and reason for cancellation are removed. German commercial and tax law "
                "asks for up to 10 years. 0 = never."
            ),
            "message_text_days": _(
                "Text and full recipient of sent SMS and e-mails are removed from the message log. 0 = never."
            ),
            "login_ip_days": _(
                "The login log keeps full IP addresses only this long, then just their network "
                "(1 to 365 days)."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (_unit, low, high) in BOUNDS.items():
            field = self.fields[name]
            field.required = True
            field.validators += [MinValueValidator(low), MaxValueValidator(high)]
            field.widget.attrs.update(min=low, max=high, step=1, inputmode="numeric")

    def unit_fields(self) -> list[tuple]:
        """(bound field, unit) in display order, for the template."""
        return [(self[name], unit) for name, (unit, _low, _high) in BOUNDS.items()]
