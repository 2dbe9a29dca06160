"""The invitee's own page to join the team."""

from django import forms
from django.contrib.auth.forms import SetPasswordMixin
from django.utils.translation import gettext_lazy as _

from termino.tenants.accounts.models import User

# The rules of AUTH_PASSWORD_VALIDATORS in words (Django's own help text is an HTML list).
PASSWORD_HELP = _("At least 10 characters, not too common, not only digits.")


class AcceptForm(SetPasswordMixin, forms.Form):
    """The invitee's name and password; the password is checked against Django's validators."""

    name = forms.CharField(label=_("Your name"), max_length=200)
    password1, password2 = SetPasswordMixin.create_password_fields()

    def __init__(self, *args, invitation, **kwargs):
        super().__init__(*args, initial={"name": invitation.name}, **kwargs)
        self.invitation = invitation
        self.fields["password1"].help_text = PASSWORD_HELP

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean(self):
        data = super().clean()
        self.validate_passwords()
        first_name, _sep, last_name = data.get("name", "").partition(" ")
        candidate = User(
            username=self.invitation.email,
            email=self.invitation.email,
            first_name=first_name,
            last_name=last_name,
        )
        self.validate_password_for_user(candidate)
        return data
