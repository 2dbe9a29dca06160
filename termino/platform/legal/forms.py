from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .models import Category, Operator
from .services import OPERATOR_FIELDS

TEXTAREA = {"rows": 3}


class OperatorForm(forms.ModelForm):
    authority_url = forms.URLField(
        label=capfirst(Operator._meta.get_field("authority_url").verbose_name),
        required=False,
        assume_scheme="https",
    )

    class Meta:
        model = Operator
        fields = OPERATOR_FIELDS
        widgets = {
            "dpo_contact": forms.Textarea(attrs=TEXTAREA),
            "authority_address": forms.Textarea(attrs=TEXTAREA),
            "extra_domains": forms.Textarea(attrs=TEXTAREA),
            "backups": forms.Textarea(attrs=TEXTAREA),
        }
        help_texts = {
            "name": _("The legal name of the company (or person) that runs this installation."),
            "email": _("Shown in the privacy notice; replies to sub-processor notices go here."),
            "authority_name": _("The data-protection authority of the federal state where you are based."),
            "hosting_location": _("E.g. “Data centres of Example GmbH in Frankfurt am Main, Germany”."),
            "backups": _("E.g. “Encrypted daily backups of the database, kept 30 days, in Nuremberg”."),
        }

    def clean(self):
        data = super().clean()
        if data.get("dpo_status") == "appointed" and not data.get("dpo_name"):
            self.add_error("dpo_name", _("Please enter the name of the data-protection officer."))
        return data


class _ChangeFields(forms.Form):
    effective_on = forms.DateField(
        label=_("Takes effect on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reason = forms.CharField(
        label=_("Reason (for the audit log and the e-mail)"), max_length=500, required=False
    )
    notify = forms.BooleanField(
        label=_("Tell every business owner by e-mail (Art. 28(2) GDPR)"),
        required=False,
        initial=True,
        help_text=_("Untick only when you record a provider that is already in use and already known."),
    )


class SubProcessorAddForm(_ChangeFields):
    name = forms.CharField(label=_("Name"), max_length=200)
    address = forms.CharField(label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    category = forms.ChoiceField(label=_("What for"), choices=Category.choices)
    purpose = forms.CharField(label=_("What they do for us"), max_length=300)
    location = forms.CharField(label=_("Where the data is processed"), max_length=200)
    safeguards = forms.CharField(
        label=_("Safeguards for a transfer outside the EU/EEA"),
        max_length=300,
        required=False,
        help_text=_("E.g. adequacy decision, standard contractual clauses. Empty: processing in the EU/EEA."),
    )
    customer_data = forms.BooleanField(
        label=_("Processes data of the businesses' customers (annex 1 of the AV contract)"),
        required=False,
        initial=True,
    )

    field_order = ["name", "address", "category", "purpose", "location", "safeguards", "customer_data"]


class SubProcessorEndForm(_ChangeFields):
    pass
