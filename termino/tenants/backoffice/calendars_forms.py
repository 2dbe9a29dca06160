"""Forms of the calendar sync pages: a CalDAV calendar to connect, the business's feed privacy choice."""

from django import forms
from django.utils.translation import gettext_lazy as _

from termino.tenants.calendars.models import FeedDetail


class CalDavConnectForm(forms.Form):
    url = forms.URLField(
        label=_("Calendar address (CalDAV URL)"),
        max_length=500,
        assume_scheme="https",
        help_text=_(
            "The address of one calendar, e.g. https://cloud.example.com/remote.php/dav/calendars/anna/work/"
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
    )
    username = forms.CharField(
        label=_("User name"),
        max_length=200,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label=_("App password"),
        max_length=500,
        strip=False,
        help_text=_("Create an app password for Termino in your calendar's account; it is stored encrypted."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_url(self):
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError(_("Enter an address starting with https://."))
        return url


class FeedPrivacyForm(forms.Form):
    feed_detail = forms.ChoiceField(
        label=_("What calendars outside Termino show of an appointment"),
        choices=FeedDetail.choices,
        widget=forms.RadioSelect,
        help_text=_("Applies to every subscription feed and every connected calendar."),
    )
