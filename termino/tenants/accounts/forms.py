"""Forms of the forgotten-password pages (business and platform staff alike)."""

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from .password_reset import ADDRESS_MAX_LENGTH

PASSWORD_HELP = _("At least 10 characters, not too common, not only digits.")


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=ADDRESS_MAX_LENGTH,
        error_messages={
            "required": _("Please enter the e-mail address you log in with."),
            "invalid": _("Please enter a complete e-mail address, such as anna@example.com."),
        },
        widget=forms.EmailInput(
            attrs={
                "autocomplete": "username",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )


class ResetPasswordForm(SetPasswordForm):
    """The new password twice, checked by AUTH_PASSWORD_VALIDATORS against the person it is for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = PASSWORD_HELP
        self.fields["new_password1"].widget.attrs["autofocus"] = True

    def clean(self):
        # As Django's, but what is wrong with the password shows at the field it was chosen in; only a
        # mismatch belongs to the confirmation.
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password1")
        return forms.Form.clean(self)
