"""Prices read in the business's locale whatever the browser speaks, and shown as its customers read them."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation
from django_tenants.utils import schema_context

from termino.shared.money import (
    ApiPriceField,
    PriceError,
    PriceField,
    format_price,
    locale_for,
    parse_price,
)

GERMAN = locale_for("de", "DE")
BRITISH = locale_for("en", "GB")
SWISS = locale_for("de", "CH")


@pytest.mark.parametrize(
    ("text", "german", "british"),
    [
        ("39,50", "39.50", "39.50"),  # a decimal comma is never a thousands separator before two digits
        ("39.50", "39.50", "39.50"),
        ("39", "39.00", "39.00"),
        ("39,5", "39.50", "39.50"),
        ("1.234,50", "1234.50", "1234.50"),  # both marks: the last one is the decimal one
        ("1,234.50", "1234.50", "1234.50"),
        ("1.234", "1234.00", None),  # the business's own thousands separator
        ("1,234", None, "1234.00"),
        ("1 234,50", "1234.50", "1234.50"),
        ("39,50 €", "39.50", "39.50"),
        ("€ 39.50", "39.50", "39.50"),
        ("39,50 EUR", "39.50", "39.50"),
        (",50", "0.50", "0.50"),
        ("0", "0.00", "0.00"),
        ("999.999,99", "999999.99", "999999.99"),
    ],
)
def test_prices_in_either_convention(text, german, british):
    for locale, expected in ((GERMAN, german), (BRITISH, british)):
        if expected is None:
            with pytest.raises(PriceError):
                parse_price(text, locale)
        else:
            assert parse_price(text, locale) == Decimal(expected), (text, str(locale))


def test_swiss_apostrophes_group_thousands():
    assert parse_price("1'234.50", SWISS) == Decimal("1234.50")
    assert parse_price("1’234.50", SWISS) == Decimal("1234.50")


@pytest.mark.parametrize(
    ("text", "german_message"),
    [
        ("1,234", "Ist „1,234“ als 1234 gemeint?"),
        ("39,505", "Ist „39,505“ als 39505 gemeint?"),
        ("abc", "Bitte geben Sie einen Preis wie 39,50 ein."),
        ("", "Bitte geben Sie einen Preis wie 39,50 ein."),
        ("39,", "Bitte geben Sie einen Preis wie 39,50 ein."),
        ("1.23,50", "Bitte geben Sie einen Preis wie 39,50 ein."),
        ("1,2,3", "Bitte geben Sie einen Preis wie 39,50 ein."),
        ("39,50,00", "Bitte geben Sie einen Preis wie 39,50 ein."),
        ("3e5", "Bitte geben Sie einen Preis wie 39,50 ein."),
        ("NaN", "Bitte geben Sie einen Preis wie 39,50 ein."),
        ("39.5.0", "Bitte geben Sie einen Preis wie 39,50 ein."),
        ("1.234,567", "höchstens zwei Nachkommastellen"),
        ("-5", "Ein Preis kann nicht negativ sein."),
        ("−5", "Ein Preis kann nicht negativ sein."),
        ("1000000", "Ein Preis kann höchstens 999.999,99\xa0€ betragen."),
        ("9" * 40, "Bitte geben Sie einen Preis wie 39,50 ein."),
    ],
)
def test_garbage_gets_a_sentence_that_says_what_to_write(text, german_message):
    with translation.override("de"), pytest.raises(PriceError) as refused:
        parse_price(text, GERMAN)
    assert german_message in refused.value.message


def test_the_english_example_uses_the_business_convention():
    with translation.override("en"), pytest.raises(PriceError) as german_business:
        parse_price("abc", GERMAN)
    with translation.override("en"), pytest.raises(PriceError) as british_business:
        parse_price("abc", BRITISH)
    assert german_business.value.message == "Enter a price such as 39,50."
    assert british_business.value.message == "Enter a price such as 39.50."


def test_a_price_is_shown_as_customers_read_it_and_zero_is_free():
    assert format_price(Decimal("39.5"), GERMAN) == "39,50\xa0€"
    assert format_price(Decimal("1234.5"), GERMAN) == "1.234,50\xa0€"
    assert format_price(Decimal("39.5"), BRITISH) == "€39.50"
    assert format_price(None) == ""
    with translation.override("de"):
        assert format_price(Decimal("0"), GERMAN) == "kostenlos"
    with translation.override("en"):
        assert format_price("0.00", BRITISH) == "free"


def test_english_pages_of_a_german_business_write_prices_the_german_way(business_a):
    template = Template("{% load display %}{{ p|price }} · {{ zero|price }}")
    with schema_context(business_a.schema):  # business A: German, in Germany
        with translation.override("en"):
            assert template.render(Context({"p": Decimal("39.5"), "zero": 0})) == "39,50\xa0€ · free"
        with translation.override("de"):
            assert template.render(Context({"p": Decimal("39.5"), "zero": 0})) == "39,50\xa0€ · kostenlos"


def test_phone_numbers_in_the_national_format_of_the_business(business_a):
    template = Template("{% load display %}{{ own|phone }} · {{ foreign|phone }} · {{ own|phone:'AT' }}")
    with schema_context(business_a.schema):
        shown = template.render(Context({"own": "+493012345678", "foreign": "+43 1 234567"}))
    assert shown == "030 12345678 · +43 1 234567 · +49 30 12345678"


def test_the_form_field_reads_the_business_locale_and_shows_it_back_normalised(business_a):
    with schema_context(business_a.schema), translation.override("en"):
        field = PriceField()
        assert field.clean("39,50") == Decimal("39.50")
        assert field.clean("1.234,5") == Decimal("1234.50")
        assert field.prepare_value("39.5") == "39,50"  # as typed, normalised when the form comes back
        assert field.prepare_value("oops") == "oops"  # left as typed to be corrected
        assert field.prepare_value(Decimal("1234.5")) == "1.234,50"
        html = field.widget.render("price", "39,50", {"id": "id_price"})
        assert 'inputmode="decimal"' in html and 'type="text"' in html
        assert "Customers see: 39,50\xa0€" in html
        with pytest.raises(Exception) as refused:
            field.clean("1,234")
        assert "Is “1,234” meant as 1234?" in str(refused.value)


def test_the_api_takes_machine_decimals_only():
    field = ApiPriceField()
    assert field.run_validation("39.50") == Decimal("39.50")
    assert field.run_validation(39.5) == Decimal("39.50")
    assert field.to_representation(Decimal("39.5")) == "39.50"
    for bad, message in (
        ("39,50", "decimal number with a point"),
        ("39.505", "at most two decimal places"),
        ("-1", "cannot be negative"),
        ("1000000", "at most"),
    ):
        with pytest.raises(Exception) as refused:
            field.run_validation(bad)
        assert message in str(refused.value.detail), bad
