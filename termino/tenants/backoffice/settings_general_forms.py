"""Forms of the general settings: profile, legal texts, booking rules, messages and the message log filter."""

import re
import secrets
from urllib.parse import urlsplit

import phonenumbers
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from termino.shared import phones, timeutils
from termino.shared.phones import SMS_DEFAULT_REGIONS
from termino.shared.sms.segments import sms_segments
from termino.tenants.business.models import SENDER_ID_PATTERN, BusinessSettings, CustomerAddress
from termino.tenants.business.services import MAX_ORIGINS
from termino.tenants.notifications import rendering
from termino.tenants.notifications.models import Channel, MessageKind, MessageStatus

CUSTOMER_LANGUAGES = (("de", "Deutsch"), ("en", "English"))

LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_SIDE = 4000
# Raster formats only: an SVG can carry scripts that would run on the business's own host.
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}

REMINDER_MAX_HOURS = 14 * 24
TEXT_MAX = 20_000


def _offset_text(offset) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def time_zone_choices(current: str) -> list:
    """Every IANA time zone, grouped: the common ones first, then all others A–Z.

    Each label shows the zone's UTC offset right now (Asia/Kolkata (UTC+05:30)). A business whose zone is
    valid but not listed (an alias such as CET) finds it at the top.
    """
    now = timeutils.now()
    common_names = set(timeutils.COMMON_ZONES)
    common, others = [], []
    for name, label in timeutils.zone_choices():
        offset = _offset_text(timeutils.localtime(now, timeutils.zone(name)).utcoffset())
        (common if name in common_names else others).append((name, f"{label} ({offset})"))
    if current and timeutils.is_valid_zone(current) and current not in {name for name, _ in common + others}:
        offset = _offset_text(timeutils.localtime(now, timeutils.zone(current)).utcoffset())
        common.insert(0, (current, f"{current} ({offset})"))
    return [(_("Common time zones"), common), (_("All time zones"), others)]


def _relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(hex_colour: str) -> float:
    return 1.05 / (_relative_luminance(hex_colour) + 0.05)


class LogoField(forms.ImageField):
    """An image of at most 1 MB in PNG, JPEG or WebP, checked by opening it (not by its name)."""

    def to_python(self, data):
        if data in self.empty_values:
            return None
        # Checked before Pillow reads it: nobody waits for a huge file to be decoded.
        if data.size > LOGO_MAX_BYTES:
            raise ValidationError(
                _("The logo may be at most 1 MB. Please save it smaller, e.g. as PNG or WebP."),
                code="too_large",
            )
        image_file = super().to_python(data)
        kind = getattr(image_file.image, "format", None)
        if kind not in LOGO_FORMATS:
            raise ValidationError(_("Please upload the logo as PNG, JPEG or WebP."), code="format")
        width, height = image_file.image.size
        if max(width, height) > LOGO_MAX_SIDE:
            raise ValidationError(_("The logo may be at most 4000 pixels wide and high."), code="dimensions")
        # Stored under a name of our own: the extension matches the content, whatever the upload was called.
        image_file.name = f"logo-{secrets.token_hex(6)}.{LOGO_FORMATS[kind]}"
        return image_file


class ProfileForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Your calendar and every time in customer messages use this time zone."),
        error_messages={
            "invalid_choice": _("“%(value)s” is not a time zone we know. Please choose one from the list.")
        },
        # settings.js puts a filter box in front of the long list; without it the list works as it is.
        widget=forms.Select(
            attrs={
                "data-zone-select": "",
                "data-filter-label": _("Find a time zone"),
                "data-filter-placeholder": _("e.g. Kolkata or +05:30"),
                "data-count-none": _("No time zone matches."),
                "data-count-one": _("1 time zone matches."),
                "data-count-many": _("{n} time zones match."),
            }
        ),
    )
    language = forms.ChoiceField(
        label=_("Language of customer texts"),
        choices=CUSTOMER_LANGUAGES,
        help_text=_("Confirmations, reminders and other messages to your customers are in this language."),
    )
    customer_address = forms.ChoiceField(
        label=_("Address customers"),
        choices=CustomerAddress.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "For German texts: formal (Sie) or informal (du). English texts read the same either way."
        ),
    )
    brand_colour = forms.CharField(
        label=_("Colour of your booking page"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("Buttons and highlights on your booking page. White text must be readable on it."),
    )
    logo = LogoField(
        label=_("Logo"),
        required=False,
        # A plain file input: removing the logo has its own checkbox.
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text=_("PNG, JPEG or WebP, at most 1 MB. Shown at the top of your booking page."),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    def __init__(self, *args, current_time_zone: str = "Europe/Berlin", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices(current_time_zone)

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"]
        try:
            timeutils.zone(name)  # listed and loadable with zoneinfo
        except ValueError as exc:
            raise ValidationError(
                _("“%(value)s” is not a time zone we know. Please choose one from the list."),
                params={"value": name},
            ) from exc
        return name

    def clean_brand_colour(self) -> str:
        colour = self.cleaned_data["brand_colour"].strip().lower()
        if not re.fullmatch(r"#[0-9a-f]{6}", colour):
            raise ValidationError(_("Please choose a colour, e.g. #1d4ed8."))
        if contrast_with_white(colour) < 3:
            raise ValidationError(
                _(
                    "This colour is too light: white text on it would be hard to read. "
                    "Please choose a darker one."
                )
            )
        return colour

    def clean(self):
        data = super().clean()
        if data.get("logo") and data.get("remove_logo"):
            self.add_error("remove_logo", _("Upload a new logo or remove the old one, not both at once."))
        return data


def _normalise_text(text: str) -> str:
    return "\n".join(
        line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ).strip()


class LegalForm(forms.ModelForm):
    class Meta:
        model = BusinessSettings
        fields = ["impressum", "privacy_notice"]
        labels = {"impressum": _("Legal notice (Impressum)"), "privacy_notice": _("Privacy notice")}
        help_texts = {
            "impressum": _(
                "Who runs the business: name, address, contact, register and VAT number where required. "
                "Empty: your company name, address and phone are shown."
            ),
            "privacy_notice": _(
                "What you do with your customers' details. Customers accept it when they book; "
                "when you change it, later bookings record the new version."
            ),
        }
        widgets = {
            "impressum": forms.Textarea(attrs={"rows": 8, "maxlength": TEXT_MAX}),
            "privacy_notice": forms.Textarea(attrs={"rows": 12, "maxlength": TEXT_MAX}),
        }

    def _clean_text(self, name: str) -> str:
        text = _normalise_text(self.cleaned_data.get(name, ""))
        if len(text) > TEXT_MAX:
            raise ValidationError(_("At most 20,000 characters, please."))
        return text

    def clean_impressum(self) -> str:
        return self._clean_text("impressum")

    def clean_privacy_notice(self) -> str:
        return self._clean_text("privacy_notice")


def parse_origin(line: str) -> str:
    """ "https://www.example.com/" → "https://www.example.com"; anything but an origin → ValueError."""
    value = line.strip().rstrip("/")
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
        or "*" in value
        or not re.fullmatch(r"[a-z0-9.-]+", parts.hostname)
    ):
        raise ValueError(line)
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(line) from exc
    default_port = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port and port != default_port else "")


class BookingRulesForm(forms.ModelForm):
    class Meta:
        model = BusinessSettings
        fields = [
            "cancel_cutoff_hours",
            "approval_required",
            "auto_complete",
            "max_open_bookings",
            "allowed_origins",
            "sms_countries",
            "sms_daily_cap",
        ]
        labels = {
            "cancel_cutoff_hours": _("Customers may cancel or reschedule online until (hours before)"),
            "approval_required": _("New online bookings need my approval"),
            "auto_complete": _("Mark past appointments as completed"),
            "max_open_bookings": _("Open bookings per customer"),
            "allowed_origins": _("Websites allowed to show your booking page"),
            "sms_countries": _("Countries whose mobile numbers get SMS"),
            "sms_daily_cap": _("SMS per day at most"),
        }
        help_texts = {
            "cancel_cutoff_hours": _(
                "0 allows changes until the appointment begins. Later, customers call you."
            ),
            "approval_required": _(
                "Bookings then arrive as requests; the customer is told the time is not yet confirmed."
            ),
            "auto_complete": _(
                "Confirmed appointments count as completed once their day is over. Mark a no-show in the "
                "calendar; it stays as it is."
            ),
            "max_open_bookings": _("How many future appointments one customer may book online at a time."),
            "allowed_origins": _(
                "One address per line, e.g. https://www.example.com. Only these websites may embed "
                "your booking page."
            ),
            "sms_countries": _(
                "Two-letter country codes separated by commas, e.g. DE, AT, CH. Empty: Germany, Austria, "
                "Switzerland and the rest of the EU/EEA. Customers with other numbers book without SMS."
            ),
        }
        widgets = {
            "cancel_cutoff_hours": forms.NumberInput(attrs={"min": 0, "max": 720}),
            "max_open_bookings": forms.NumberInput(attrs={"min": 1, "max": 20}),
            "allowed_origins": forms.Textarea(
                attrs={"rows": 4, "placeholder": "https://www.example.com", "spellcheck": "false"}
            ),
            "sms_countries": forms.TextInput(
                attrs={"placeholder": ", ".join(SMS_DEFAULT_REGIONS[:3]) + " …", "spellcheck": "false"}
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cancel_cutoff_hours"].validators += [MaxValueValidator(720)]
        self.fields["max_open_bookings"].validators += [MinValueValidator(1), MaxValueValidator(20)]
        cap = self.fields["sms_daily_cap"]
        cap.validators += [MinValueValidator(1), MaxValueValidator(settings.SMS_DAILY_CAP_MAX)]
        cap.widget.attrs.update(min=1, max=settings.SMS_DAILY_CAP_MAX, placeholder=settings.SMS_DAILY_CAP)
        cap.help_text = _(
            "Protects you if someone misuses your booking page to send text messages at your expense: "
            "beyond this number no SMS go out that day, and you get an e-mail. Empty: %(default)d."
        ) % {"default": settings.SMS_DAILY_CAP}
        if self.instance.sms_countries and not self.is_bound:
            self.initial["sms_countries"] = ", ".join(self.instance.sms_countries.split())

    def clean_sms_countries(self) -> str:
        codes = [
            code.upper() for code in re.split(r"[\s,;]+", self.cleaned_data.get("sms_countries", "")) if code
        ]
        wrong = [code for code in codes if code not in phonenumbers.SUPPORTED_REGIONS]
        if wrong:
            raise ValidationError(
                _(
                    "Unknown country code: %(codes)s. Use two-letter codes such as DE, AT, CH, separated "
                    "by commas."
                ),
                params={"codes": ", ".join(wrong[:5])},
            )
        return " ".join(dict.fromkeys(codes))

    def clean_allowed_origins(self) -> str:
        lines = [line for line in self.cleaned_data.get("allowed_origins", "").splitlines() if line.strip()]
        origins, wrong = [], []
        for line in lines:
            try:
                origin = parse_origin(line)
            except ValueError:
                wrong.append(line.strip())
                continue
            if origin not in origins:
                origins.append(origin)
        if wrong:
            raise ValidationError(
                _(
                    "Not a website address: %(lines)s. Write one address per line, beginning with "
                    "https:// and without a path, e.g. https://www.example.com."
                ),
                params={"lines": ", ".join(wrong[:3])},
            )
        if len(origins) > MAX_ORIGINS:
            raise ValidationError(_("At most 20 websites, please."))
        return "\n".join(origins)


class MessageSettingsForm(forms.Form):
    reminder_1 = forms.IntegerField(
        label=_("First reminder"), required=False, min_value=1, max_value=REMINDER_MAX_HOURS
    )
    reminder_2 = forms.IntegerField(
        label=_("Second reminder"), required=False, min_value=1, max_value=REMINDER_MAX_HOURS
    )
    reminder_3 = forms.IntegerField(
        label=_("Third reminder"), required=False, min_value=1, max_value=REMINDER_MAX_HOURS
    )
    quiet_hours_start = forms.TypedChoiceField(
        label=_("No SMS from"), coerce=int, choices=[(h, f"{h:02d}:00") for h in range(24)]
    )
    quiet_hours_end = forms.TypedChoiceField(
        label=_("until"), coerce=int, choices=[(h, f"{h:02d}:00") for h in range(24)]
    )
    sms_sender_id = forms.CharField(
        label=_("SMS sender"),
        required=False,
        max_length=40,  # longer than allowed, so the rule below explains what is wrong
        help_text=_(
            "What your customers' phones show as the sender: up to 11 letters (A–Z, no umlauts), "
            "digits and spaces, or a phone number with up to 15 digits. Empty: taken from your company name."
        ),
    )

    team_notice_email = forms.BooleanField(
        label=_("E-mail us when a customer books, moves or cancels online"), required=False
    )
    team_notice_email_to = forms.EmailField(
        label=_("Send these e-mails to"),
        required=False,
        help_text=_("Empty: the owner's e-mail address."),
    )
    team_notice_sms_to = forms.CharField(
        label=_("Also send an SMS to"),
        required=False,
        max_length=40,
        help_text=_("A mobile number, e.g. 0170 1234567. Empty: no SMS. Each SMS counts towards your SMS."),
    )

    REMINDER_FIELDS = ("reminder_1", "reminder_2", "reminder_3")
    TEAM_FIELDS = ("team_notice_email", "team_notice_email_to", "team_notice_sms_to")

    @classmethod
    def initial_from(cls, rules: BusinessSettings) -> dict:
        initial = {
            "quiet_hours_start": rules.quiet_hours_start,
            "quiet_hours_end": rules.quiet_hours_end,
            "sms_sender_id": rules.sms_sender_id,
            **{field: getattr(rules, field) for field in cls.TEAM_FIELDS},
        }
        for field, hours in zip(cls.REMINDER_FIELDS, rules.reminder_leads[:3], strict=False):
            initial[field] = hours
        return initial

    def clean_sms_sender_id(self) -> str:
        value = " ".join(self.cleaned_data["sms_sender_id"].split())
        if value.startswith("+") or value.replace(" ", "").isdigit():
            value = value.replace(" ", "")
        if value and not re.fullmatch(SENDER_ID_PATTERN, value):
            raise ValidationError(
                _(
                    "Use up to 11 letters (A–Z without umlauts), digits and spaces, "
                    "or a phone number with up to 15 digits, e.g. +4930123456."
                )
            )
        return value

    def clean_team_notice_sms_to(self) -> str:
        raw = self.cleaned_data["team_notice_sms_to"].strip()
        try:
            number = phones.normalise(raw)
        except phones.PhoneError as exc:
            raise ValidationError(exc.message) from exc
        refusal = number and phones.sms_refusal(number, BusinessSettings.current().sms_regions)
        if refusal:
            raise ValidationError(refusal)
        return number

    def clean(self):
        data = super().clean()
        hours = [data[f] for f in self.REMINDER_FIELDS if data.get(f)]
        if len(set(hours)) != len(hours):
            raise ValidationError(_("Two reminders at the same time: please give each a different time."))
        data["reminder_hours"] = ",".join(str(h) for h in sorted(hours, reverse=True))
        return data


def text_errors(text: str, *, field_label: str) -> list[str]:
    """What is wrong with the placeholders of a message text, in words a business understands."""
    errors = []
    unknown = rendering.unknown_placeholders(text)
    if unknown:
        errors.append(
            _("%(field)s: unknown placeholder %(names)s. Use only the placeholders listed below.")
            % {"field": field_label, "names": ", ".join("{" + n + "}" for n in unknown)}
        )
    if rendering.has_stray_braces(text):
        errors.append(
            _("%(field)s: a brace { or } without its partner. Placeholders look like {service}.")
            % {"field": field_label}
        )
    used = rendering.used_placeholders(text)
    if "time" in used and "time_zone" not in used:
        errors.append(
            _(
                "%(field)s: with {time} please also give {time_zone}, so customers elsewhere read "
                "the time right."
            )
            % {"field": field_label}
        )
    return errors


class MessageTemplateForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "true"}))

    SMS_MAX = 800
    EMAIL_MAX = 5000

    def __init__(self, *args, channel: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        body_max = self.SMS_MAX if channel == Channel.SMS else self.EMAIL_MAX
        self.fields["body"].validators.append(MaxLengthValidator(body_max))
        self.fields["body"].widget.attrs.update(
            {"maxlength": body_max, "rows": 5 if channel == Channel.SMS else 14}
        )
        if channel == Channel.SMS:
            del self.fields["subject"]
        else:
            self.fields["subject"].required = True

    def clean_subject(self) -> str:
        subject = self.cleaned_data.get("subject", "")
        if "\n" in subject or "\r" in subject:
            raise ValidationError(_("The subject must be one line."))
        errors = text_errors(subject, field_label=_("Subject"))
        if errors:
            raise ValidationError(errors)
        return subject.strip()

    def clean_body(self) -> str:
        body = _normalise_text(self.cleaned_data.get("body", ""))
        errors = text_errors(body, field_label=_("Text"))
        if self.channel == Channel.SMS and sms_segments(body)[1] > 10:
            errors.append(_("An SMS may be at most 10 parts long. Please shorten the text."))
        if errors:
            raise ValidationError(errors)
        return body


class OutboxFilterForm(forms.Form):
    """The message log's filters (GET); invalid values are ignored, not answered with an error page."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *MessageStatus.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("SMS and e-mail")), *Channel.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *MessageKind.choices]
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def filters(self) -> dict:
        self.is_valid()  # fields with invalid values are left out of cleaned_data
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
