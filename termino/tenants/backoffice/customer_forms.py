"""Forms of the customer pages. Field rules live in crm.services.customer_clean, shared with the API."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from termino.tenants.crm import csv_io
from termino.tenants.crm.models import Customer
from termino.tenants.crm.services import NOTE_MAX_LENGTH, customer_clean


class CustomerFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=40)


class CustomerForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"), required=False, widget=forms.TextInput(attrs={"maxlength": 100})
    )
    # Not `required`: customer_clean says what is missing, in the same words as everywhere else.
    last_name = forms.CharField(
        label=_("Last name"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 100, "required": True, "aria-required": "true"}),
    )
    email = forms.CharField(
        label=_("E-mail"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        help_text=_("With area code, e.g. 0171 2345678 or +49 171 2345678."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        help_text=_("Separate several tags with commas, e.g. vip, colour."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Lasting information, e.g. allergies. Dated notes go on the customer's page."),
    )

    def __init__(self, *args, region: str = "DE", **kwargs):
        self.region = region
        super().__init__(*args, **kwargs)

    @classmethod
    def initial_for(cls, customer: Customer) -> dict:
        return {
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "email": customer.email,
            "phone": customer.phone,
            "tags": ", ".join(customer.tags),
            "notes": customer.notes,
        }

    def clean(self):
        data = super().clean()
        try:
            return customer_clean(**{name: data.get(name, "") for name in self.fields}, region=self.region)
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("New note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("e.g. Prefers appointments with Anna")}),
        error_messages={"required": _("Please write a note first.")},
    )


class TagForm(forms.Form):
    tags = forms.CharField(
        label=_("Add tag"), max_length=200, error_messages={"required": _("Please enter a tag.")}
    )


class MergeForm(forms.Form):
    keep = forms.ModelChoiceField(queryset=Customer.objects.all(), widget=forms.HiddenInput)
    duplicate = forms.ModelChoiceField(queryset=Customer.objects.all(), widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("keep") and data.get("keep") == data.get("duplicate"):
            raise ValidationError(_("Please choose two different customers."))
        return data


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
        error_messages={"required": _("Please choose a file.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "Up to %(mb)d MB and %(rows)d customers, columns separated by semicolons or commas."
        ) % {"mb": csv_io.MAX_BYTES // (1024 * 1024), "rows": csv_io.MAX_ROWS}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > csv_io.MAX_BYTES:
            raise ValidationError(
                _("The file is larger than %(size)s MB. Please split it into smaller files.")
                % {"size": csv_io.MAX_BYTES // (1024 * 1024)}
            )
        try:
            self.parsed = csv_io.read_customers(upload.read())
        except csv_io.CsvError as exc:
            raise ValidationError(exc.message) from exc
        return upload
