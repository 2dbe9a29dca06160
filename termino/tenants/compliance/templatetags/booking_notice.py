from django import template
from django.utils import translation

from ..documents import booking_notice

register = template.Library()


@register.simple_tag(takes_context=True)
def booking_privacy_notice(context):
    """The booking page's privacy notice: the generated document in the page's language, or None when the
    business wrote its own text (the template shows `settings.privacy_notice` then)."""
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    if tenant is None or getattr(tenant, "schema_name", "public") == "public":
        return None
    rules = context.get("settings")
    if rules is not None and getattr(rules, "privacy_notice", ""):
        return None
    # Only the page's language is built here; the version (a digest of both) is computed when a customer
    # accepts it (booking.services), not for every view of the page.
    return booking_notice((translation.get_language() or "de")[:2], tenant)
