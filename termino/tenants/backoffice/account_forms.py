"""Forms of the owner's account page: the business's registration data and the password."""

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
