"""Phone numbers, one rule set for the whole code base (CRM, booking, rate limits, signup, SMS).

Stored and compared in E.164 ("+491701234567"); read as a national number of the business's country
unless it carries a prefix; shown in national format for that country and international otherwise.
Whether a number may receive an SMS is decided here too: only numbers `phonenumbers` types as mobile (or
fixed-line-or-mobile, where a country's plan does not tell them apart) in the countries a business allows.
Premium-rate, shared-cost, UAN, personal, VoIP, pager, satellite and unknown types are refused before
anything is stored — the numbers SMS pumping aims at.
"""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _
from phonenumbers import PhoneNumberType

DEFAULT_REGION = "DE"

# Where a business may text by default: Germany, Austria, Switzerland and the rest of the EU/EEA.
EU_EEA = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT",
    "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO",
)  # fmt: skip
SMS_DEFAULT_REGIONS = ("DE", "AT", "CH", *sorted(set(EU_EEA) - {"DE", "AT"}))

SMS_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)

MAX_INPUT = 40  # longer input is no phone number; phonenumbers would reject it after work


class PhoneError(ValueError):
    """Input that is no usable phone number; `message` says why, for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _region(region: str | None) -> str:
    return (region or DEFAULT_REGION).upper()


def parse(raw: str, region: str | None = DEFAULT_REGION) -> phonenumbers.PhoneNumber | None:
    """The number in `raw` (national for `region` without a prefix), or None if it is no valid number."""
    text = str(raw or "").strip()
    if not text or len(text) > MAX_INPUT or "\x00" in text:
        return None
    try:
        number = phonenumbers.parse(text, _region(region))
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalise(raw: str, region: str | None = DEFAULT_REGION) -> str:
    """E.164 of a valid number, "" for empty input; PhoneError for anything else."""
    if not str(raw or "").strip():
        return ""
    number = parse(raw, region)
    if number is None:
        raise PhoneError(_("This does not look like a valid phone number. Include the area code."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_or_empty(raw: str, region: str | None = DEFAULT_REGION) -> str:
    """E.164 of a valid number, else "" (for keys such as rate limits, where input is not checked yet)."""
    try:
        return normalise(raw, region)
    except PhoneError:
        return ""


def display(phone: str, region: str | None = DEFAULT_REGION) -> str:
    """E.164 as people write it: national format for the business's own country, else international."""
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    own = phonenumbers.region_code_for_number(number) == _region(region)
    style = phonenumbers.PhoneNumberFormat.NATIONAL if own else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


def international(phone: str) -> str:
    """E.164 in international format ("+49 170 1234567"), for texts that may be read abroad."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def sms_refusal(phone: str, allowed_regions: tuple[str, ...] | list[str] | None = None) -> str | None:
    """Why this E.164 number cannot receive our SMS (a sentence for the customer), or None if it can."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return _("This does not look like a valid phone number. Include the area code.")
    regions = tuple(allowed_regions or SMS_DEFAULT_REGIONS)
    region = phonenumbers.region_code_for_number(number)
    if phonenumbers.number_type(number) not in SMS_TYPES:
        return _(
            "Text messages can only be sent to mobile numbers. Please give a mobile number, or leave SMS "
            "reminders off."
        )
    if region not in regions:
        return _(
            "Text messages cannot be sent to numbers of this country. Please give a mobile number from "
            "%(countries)s, or leave SMS reminders off."
        ) % {"countries": ", ".join(regions[:5]) + (" …" if len(regions) > 5 else "")}
    return None


def may_receive_sms(phone: str, allowed_regions=None) -> bool:
    return sms_refusal(phone, allowed_regions) is None
