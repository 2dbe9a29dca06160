from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from termino.shared import phones

from .models import Tenant
from .services import BusinessSignup
from .validators import validate_slug

COUNTRIES = [
    ("DE", _("Germany")),
    ("AT", _("Austria")),
    ("CH", _("Switzerland")),
    ("LI", _("Liechtenstein")),
    ("LU", _("Luxembourg")),
    ("BE", _("Belgium")),
    ("NL", _("Netherlands")),
    ("FR", _("France")),
    ("IT", _("Italy")),
    ("DK", _("Denmark")),
    ("PL", _("Poland")),
    ("CZ", _("Czechia")),
]
POSTCODE_DIGITS = {"DE": 5, "AT": 4, "CH": 4, "LI": 4, "LU": 4, "BE": 4, "DK": 4, "FR": 5, "IT": 5}
TAKEN = _("This address is already taken. Please choose another one.")


class RegistrationForm(forms.Form):
    """The business's registration data, as given at signup and edited later on the owner's account page.

    Phone numbers become E.164 for the chosen country; postcodes must have that country's digits.
    """

    owner_name = forms.CharField(label=_("Your full name"), max_length=200)
    company_name = forms.CharField(label=_("Company name"), max_length=200)
    street = forms.CharField(label=_("Street and number"), max_length=200)
    postcode = forms.CharField(label=_("Postcode"), max_length=12)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.ChoiceField(label=_("Country"), choices=COUNTRIES, initial="DE")
    phone = forms.CharField(
        label=_("Phone"), max_length=40, help_text=_("With area code, e.g. 030 1234567 or +49 30 1234567.")
    )
    email = forms.EmailField(label=_("E-mail"), help_text=_("This is also your login name."))

    @classmethod
    def initial_from(cls, tenant) -> dict:
        return {
            "owner_name": tenant.owner_name,
            "company_name": tenant.name,
            "street": tenant.street,
            "postcode": tenant.postcode,
            "city": tenant.city,
            "country": tenant.country,
            "phone": tenant.phone,
            "email": tenant.email,
        }

    def clean_owner_name(self) -> str:
        return " ".join(self.cleaned_data["owner_name"].split())

    def clean_company_name(self) -> str:
        return self.cleaned_data["company_name"].strip()

    def clean_street(self) -> str:
        return self.cleaned_data["street"].strip()

    def clean_city(self) -> str:
        return self.cleaned_data["city"].strip()

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_postcode(self) -> str:
        return self.cleaned_data["postcode"].strip().upper()

    def clean(self):
        data = super().clean()
        country = data.get("country")
        self._clean_phone(data, country)
        self._clean_postcode(data, country)
        return data

    def _clean_phone(self, data: dict, country: str | None) -> None:
        raw = data.get("phone")
        if not raw:
            return
        try:
            data["phone"] = phones.normalise(raw, country or phones.DEFAULT_REGION)
        except phones.PhoneError as exc:
            self.add_error("phone", exc.message)

    def _clean_postcode(self, data: dict, country: str | None) -> None:
        postcode, digits = data.get("postcode"), POSTCODE_DIGITS.get(country or "")
        if postcode and digits and not (postcode.isdigit() and len(postcode) == digits):
            self.add_error("postcode", _("A postcode in this country has %(n)d digits.") % {"n": digits})


class SignupForm(RegistrationForm):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not too common, not only digits."),
    )
    slug = forms.CharField(
        label=_("Your address"),
        max_length=40,
        min_length=3,
        help_text=_("Lowercase letters, digits and hyphens. Your customers book at this address."),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    accept_terms = forms.BooleanField(
        label=_("I accept the terms of service and have read the privacy notice."),
        error_messages={"required": _("Please accept the terms of service and the privacy notice.")},
    )
    # The privacy notice version the page linked to: recorded with the signup (Tenant.privacy_notice_version).
    # Never an error of its own: a missing or made-up number records the current version instead.
    privacy_version = forms.CharField(required=False, max_length=12, widget=forms.HiddenInput)

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip().lower()
        validate_slug(slug)
        if Tenant.objects.filter(slug=slug).exists():
            raise ValidationError(TAKEN, code="taken")
        return slug

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("email"):
            first_name, _sep, last_name = data.get("owner_name", "").partition(" ")
            candidate = get_user_model()(
                username=data["email"], email=data["email"], first_name=first_name, last_name=last_name
            )
            try:
                password_validation.validate_password(data["password"], user=candidate)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data

    def to_signup(self) -> BusinessSignup:
        d = self.cleaned_data
        return BusinessSignup(
            slug=d["slug"],
            company_name=d["company_name"],
            owner_name=d["owner_name"],
            email=d["email"],
            password_hash=make_password(d["password"]),
            phone=d["phone"],
            street=d["street"],
            postcode=d["postcode"],
            city=d["city"],
            country=d["country"],
            language=(get_language() or "de")[:2],
            email_confirmed=False,  # typed into a public form: the owner confirms it through the link
            privacy_notice_version=self.privacy_notice_version(),
        )

    def privacy_notice_version(self) -> int:
        """The version the page showed, if it exists; otherwise (no or a made-up number) the current one."""
        from termino.platform.legal.models import DocumentKind
        from termino.platform.legal.selectors import version_get
        from termino.platform.legal.services import document_current

        shown = self.cleaned_data.get("privacy_version") or ""
        if shown.isdigit() and version_get(DocumentKind.PRIVACY, int(shown)) is not None:
            return int(shown)
        return document_current(DocumentKind.PRIVACY).number
