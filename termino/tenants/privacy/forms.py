"""Forms of the privacy pages: the customer's request, the erasure confirmation, closing the account."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EventAction, RequestKind

# What a customer reads on the booking page: plain words, the legal name in brackets.
CUSTOMER_KIND_LABELS = {
    RequestKind.ACCESS: _("Send me a copy of my data (access and portability)"),
    RequestKind.ERASURE: _("Delete my data (erasure)"),
    RequestKind.RESTRICTION: _("Stop using my data, but keep it (restriction)"),
    RequestKind.OBJECTION: _("No more advertising (objection to marketing)"),
}


class PrivacyRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("The address you gave when you booked."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
        error_messages={
            "required": _("Please enter your e-mail address."),
            "invalid": _("Please enter a valid e-mail address."),
        },
    )
    kind = forms.ChoiceField(
        label=_("What would you like us to do?"),
        choices=[(kind.value, CUSTOMER_KIND_LABELS[kind]) for kind in RequestKind],
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose what you would like us to do.")},
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


class EraseConfirmForm(forms.Form):
    """Typing the customer's name makes erasing the wrong one by a slip of the mouse impossible."""

    confirm_name = forms.CharField(label=_("Type the customer's name to confirm"), max_length=250)

    def __init__(self, *args, expected: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.fields["confirm_name"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_confirm_name(self) -> str:
        value = self.cleaned_data["confirm_name"]
        if not _same_name(value, self.expected):
            raise forms.ValidationError(_("The name does not match. Nothing was erased."))
        return value


class AccountCloseForm(forms.Form):
    understood = forms.BooleanField(
        label=_(
            "I understand that online bookings stop now and all data is deleted after the retention period."
        ),
        error_messages={"required": _("Please confirm that you understand what happens.")},
    )
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Please enter your password.")},
    )


class EventFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), choices=[("", _("All actions")), *EventAction.choices], required=False
    )
    customer = forms.IntegerField(label=_("Customer number"), required=False, min_value=1)


class RequestActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a, a) for a in ("send_export", "done", "erase", "restrict", "object", "decline")]
    )
