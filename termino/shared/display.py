"""Template filters that show data the way the business's country writes it (`{% load display %}`).

`price`: "39,50 €", "€39.50", "free" for 0 (termino/shared/money.py); `phone`: an E.164 number in the
national format of the business's country, international otherwise (termino/shared/phones.py).
"""

from django import template
from django.db import connection

from termino.shared import money, phones

register = template.Library()


@register.filter
def price(amount) -> str:
    return money.format_price(amount)


@register.filter
def phone(number: str, country: str | None = None) -> str:
    """`{{ customer.phone|phone }}` for the current business; `|phone:business.country` for another."""
    region = country or getattr(getattr(connection, "tenant", None), "country", None) or phones.DEFAULT_REGION
    return phones.display(number or "", region)


@register.simple_tag
def price_locale() -> str:
    """The BCP 47 tag prices are shown in ("de-DE", "en-DE"), for scripts that format prices themselves."""
    locale = money.display_locale()
    return "-".join(part for part in (locale.language, locale.territory) if part)
