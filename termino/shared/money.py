"""Prices: read as the business writes them, shown as its customers read them (Babel's CLDR data).

A price typed into a form is read in the business's locale (its language and country: "de_DE" takes
"39,50" and "1.234,50"), whatever language the browser's form controls speak; the other convention is
accepted too where it cannot be misread ("39.50", "1,234.50"). What could mean two amounts ("1,234" in a
German business: 1234 or 1.234?) is refused with a sentence that says how to write it. A price of 0 is
shown as "free". The API takes machine decimals ("39.50"), never a locale's.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal
from django import forms
from django.db import connection
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _
from rest_framework import serializers

CURRENCY = "EUR"  # services are priced in euros (scheduling.Service.price)
MAX_PRICE = Decimal("999999.99")  # the column: 8 digits, 2 of them decimals
DEFAULT_LOCALE = "de_DE"

_CURRENCY_MARKS = re.compile(r"€|\bEUR\b", re.IGNORECASE)
_SPACES = re.compile(r"[\s\u00a0\u202f'’]+")  # thin/non-breaking spaces and Swiss apostrophes group thousands
_SHAPE = re.compile(r"[0-9.,_]+")


class PriceError(ValueError):
    """Input that is no price; `message` says why, for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def locale_for(language: str | None, country: str | None = None) -> Locale:
    """The CLDR locale of a language as written in a country ("en" in "DE": decimal comma), else the
    language's own."""
    language = (language or "de").split("-")[0].split("_")[0].lower()
    for tag in (f"{language}_{(country or '').upper()}", language):
        try:
            return Locale.parse(tag)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(DEFAULT_LOCALE)


def _business():
    tenant = getattr(connection, "tenant", None)  # django-tenants' current tenant (a FakeTenant in public)
    return getattr(tenant, "language", None), getattr(tenant, "country", None) or None


def business_locale() -> Locale:
    """How the current business writes numbers: its language in its country (German if unknown)."""
    language, country = _business()
    return locale_for(language or "de", country or "DE")


def display_locale() -> Locale:
    """How prices are shown right now: the page's language as written in the business's country."""
    _language, country = _business()
    return locale_for(get_language(), country or "DE")


def format_amount(amount: Decimal, locale: Locale | None = None) -> str:
    """The number alone, two decimals, grouped ("1.234,50"), as typed into a price field."""
    return format_decimal(amount, format="#,##0.00", locale=locale or business_locale())


def format_price(amount, locale: Locale | None = None) -> str:
    """A price for people: "39,50 €", "€39.50", and "free" for 0; "" for no price."""
    if amount is None or amount == "":
        return ""
    amount = Decimal(str(amount))
    if amount == 0:
        return pgettext("price", "free")
    return format_currency(amount, CURRENCY, locale=locale or display_locale())


def parse_price(text: str, locale: Locale | None = None) -> Decimal:
    """The amount in `text` as the business writes it; PriceError with a reason for anything else."""
    locale = locale or business_locale()
    raw = str(text or "").strip()
    value = _SPACES.sub(" ", _CURRENCY_MARKS.sub("", raw)).strip()
    example = format_amount(Decimal("39.50"), locale)
    if value.startswith(("-", "−")):
        raise PriceError(_("A price cannot be negative."))
    value = value.replace(" ", "_")  # a space groups thousands, like the locale's own separator
    if not value or len(value) > 20 or not _SHAPE.fullmatch(value) or not value[-1].isdigit():
        raise PriceError(_("Enter a price such as %(example)s.") % {"example": example})
    if value[0] in ".,_":
        value = "0" + value

    marks = [c for c in value if c in ".,"]
    decimal_mark = None
    if len(set(marks)) == 2:
        decimal_mark = marks[-1]  # "1.234,50" and "1,234.50": the last mark is the decimal one
        if marks.count(decimal_mark) > 1:
            raise PriceError(_("Enter a price such as %(example)s.") % {"example": example})
    elif len(marks) == 1:
        decimals = len(value) - value.index(marks[0]) - 1
        if decimals != 3:
            decimal_mark = marks[0]  # "39,50", "39.5": no thousands separator is followed by 1 or 2 digits
        elif marks[0] != locale.number_symbols["latn"]["group"] or "_" in value:
            # "1,234" in a German business: 1234 to an English reader, 1.234 to a German one.
            raise PriceError(
                _(
                    "Is “%(value)s” meant as %(whole)s? Please write the price without a thousands separator "
                    "(%(whole)s) or with at most two decimal places."
                )
                % {"value": raw, "whole": re.sub(r"[.,_]", "", value)}
            )

    whole, _sep, fraction = value.rpartition(decimal_mark) if decimal_mark else (value, "", "")
    groups = re.split(r"[.,_]", whole)
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])):
        raise PriceError(_("Enter a price such as %(example)s.") % {"example": example})
    if len(fraction) > 2:
        raise PriceError(_("A price has at most two decimal places."))
    try:
        amount = Decimal(f"{''.join(groups)}.{fraction or '0'}")
    except InvalidOperation:  # pragma: no cover - the shape check admits digits only
        raise PriceError(_("Enter a price such as %(example)s.") % {"example": example}) from None
    if amount > MAX_PRICE:
        raise PriceError(_("A price can be at most %(max)s.") % {"max": format_price(MAX_PRICE, locale)})
    return amount.quantize(Decimal("0.01"))


class PriceInput(forms.TextInput):
    """A text box (not type=number, whose parsing follows the browser's language) with the currency sign
    after it and, below, the amount as it will be saved ("39,50 €", "free")."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        box = super().render(name, value, attrs, renderer)
        locale = business_locale()
        try:
            amount = parse_price(value, locale) if value not in (None, "") else None
        except PriceError:
            amount = None
        preview = ""
        if amount is not None:
            preview = format_html(
                '<output class="help price-preview" for="{}" aria-live="polite">{}</output>',
                (attrs or {}).get("id", ""),
                _("Customers see: %(price)s") % {"price": format_price(amount, locale)},
            )
        symbol = locale.currency_symbols.get(CURRENCY, CURRENCY)
        return format_html(
            '<div class="slug-input">{}<span class="suffix">{}</span></div>{}', box, symbol, preview
        )


def _price_help() -> str:
    return _("Written as on a price tag, e.g. %(example)s. 0 makes the service free.") % {
        "example": format_amount(Decimal("1234.50"))
    }


class PriceField(forms.DecimalField):
    """A price in the business's way of writing numbers; shown back normalised ("39,50")."""

    widget = PriceInput

    def __init__(self, **kwargs):
        kwargs.setdefault("label", gettext_lazy("Price"))
        kwargs.setdefault("help_text", lazy(_price_help, str)())
        kwargs.setdefault("max_digits", 8)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", MAX_PRICE)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        try:
            return parse_price(value)
        except PriceError as error:
            raise forms.ValidationError(error.message, code="invalid") from None

    def prepare_value(self, value):
        if isinstance(value, str):  # what was typed: shown normalised once it reads as a price
            try:
                value = parse_price(value)
            except PriceError:
                return value
        return format_amount(value) if isinstance(value, Decimal) else value

    def widget_attrs(self, widget):
        return {}  # no min/max/step: those belong to type=number


class ApiPriceField(serializers.DecimalField):
    """A price in the API: a decimal with a point ("39.50"), as a string or a number, answered as a string."""

    default_error_messages = {
        "invalid": gettext_lazy("Send the price as a decimal number with a point, such as “39.50”."),
        "max_decimal_places": gettext_lazy("A price has at most two decimal places."),
        "min_value": gettext_lazy("A price cannot be negative."),
        "max_value": gettext_lazy("A price can be at most {max_value}."),
        "max_whole_digits": gettext_lazy("A price can be at most 999999.99."),
    }

    def __init__(self, **kwargs):
        kwargs.update(max_digits=8, decimal_places=2, min_value=Decimal(0), max_value=MAX_PRICE)
        super().__init__(**kwargs)
