"""`{% load payments_display %}`: amounts in cents as the business's customers read them, and the payments
of a booking or a customer for the pages that show them (the manage page, the backoffice)."""

from decimal import Decimal

from babel.numbers import format_currency
from django import template

from termino.shared import money

from .. import selectors

register = template.Library()


@register.filter
def cents(amount) -> str:
    """2000 → "20,00 €" (an amount of money, never "free")."""
    if amount is None or amount == "":
        return ""
    return format_currency(Decimal(int(amount)) / 100, money.CURRENCY, locale=money.display_locale())


@register.inclusion_tag("payments/_booking_payments.html")
def booking_payments(appointment):
    """What the customer paid for a booking, and what went back (the manage page)."""
    paid = selectors.booking_payments(appointment) if appointment is not None else []
    return {"payments": paid}


@register.inclusion_tag("payments/_customer_payments.html", takes_context=True)
def customer_payments(context, customer):
    """The customer's payments and the deposit rule, for the backoffice's customer page."""
    from ..models import CustomerPaymentRule

    rule = CustomerPaymentRule.objects.filter(customer=customer).first()
    return {
        "customer": customer,
        "payments": list(selectors.payments(customer_id=customer.pk)[:50]),
        "always_deposit": bool(rule and rule.always_deposit),
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }


_PAGE_RULES = "payments.service_rules"  # {service id: rule}, or False when the business cannot charge


@register.simple_tag(takes_context=True)
def service_payment_note(context, service) -> str:
    """What booking the service asks for online, for its card on the booking page ("" for nothing).

    Called once per service card: whether the business can charge and the services' rules are read once per
    page (kept in the render context), not twice per service."""
    from django.utils.html import format_html
    from django.utils.translation import gettext as _

    from termino.platform.billing import connect
    from termino.platform.tenancy.selectors import current_business

    from .. import services
    from ..models import PaymentKind, ServicePaymentRule

    rules = context.render_context.get(_PAGE_RULES)
    if rules is None:
        charging = connect.can_charge(current_business())
        rules = {rule.service_id: rule for rule in ServicePaymentRule.objects.all()} if charging else False
        context.render_context[_PAGE_RULES] = rules
    if rules is False:
        return ""
    requirement = services.requirement_of_rule(rules.get(service.pk), service)
    if requirement is None:
        return ""
    if requirement.kind == PaymentKind.CARD_ON_FILE:
        text = _("Card needed to book; charged %(fee)s only if you do not come") % {
            "fee": cents(requirement.fee_cents)
        }
    elif requirement.kind == PaymentKind.PREPAYMENT:
        text = _("Paid online when booking")
    else:
        text = _("Deposit of %(amount)s paid online when booking") % {
            "amount": cents(requirement.amount_cents)
        }
    return format_html('<span class="bk-card-desc bk-pay-note">{}</span>', text)
