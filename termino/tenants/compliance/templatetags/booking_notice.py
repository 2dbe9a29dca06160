from django import template

from ..services import booking_notice_current

register = template.Library()


@register.simple_tag(takes_context=True)
def booking_privacy_notice(context):
    """The booking page's privacy notice: the generated document in the page's language, or None when the
    business wrote its own text (the template shows `settings.privacy_notice` then)."""
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    if tenant is None or getattr(tenant, "schema_name", "public") == "public":
        return None
    return booking_notice_current(tenant, context.get("settings")).document()
