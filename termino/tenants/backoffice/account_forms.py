"""Forms of the account pages: the business's registration data (owner), the password and API tokens."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.utils.translation import gettext_lazy as _

from termino.platform.tenancy.forms import RegistrationForm

from .team_forms import PASSWORD_HELP


class AccountForm(RegistrationForm):
    """The data given at signup, validated exactly as at signup."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = _(
            "Where Termino writes to you. If you log in with this address, your login name changes too."
        )
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "autocapitalize": "none"})
        self.fields["phone"].widget = forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Current password, then the new one twice; checked by AUTH_PASSWORD_VALIDATORS."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Current password")
        self.fields["old_password"].widget.attrs.pop("autofocus", None)
        self.fields["new_password1"].help_text = PASSWORD_HELP


class ApiTokenForm(forms.Form):
    """A new API token of the person themselves; the name says what it is for."""

    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        help_text=_("What the token is for, e.g. “Website sync”. It is listed under this name."),
        widget=forms.TextInput(attrs={"placeholder": _("API token"), "autocomplete": "off"}),
    )


class AgendaForm(forms.Form):
    agenda_email = forms.BooleanField(
        label=_("Send me my appointments of the day each morning by e-mail"), required=False
    )
