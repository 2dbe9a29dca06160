"""Forms of the webhook settings: an endpoint's URL, description, events (and, when editing, active)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from termino.tenants.webhooks.models import EventType
from termino.tenants.webhooks.services import URL_MAX_LENGTH


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=URL_MAX_LENGTH,
        widget=forms.URLInput(
            attrs={"placeholder": "https://example.com/termino-webhook", "inputmode": "url"}
        ),
        help_text=_("Where Termino sends the events, by HTTPS POST. It must be reachable from the internet."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("For you: what receives the events."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Please choose at least one event.")},
    )


class EndpointEditForm(EndpointForm):
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("Inactive endpoints receive nothing; no events are kept for them."),
    )
