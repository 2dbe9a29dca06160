from zoneinfo import ZoneInfo

from django import template

from termino.shared import timeutils

from ..confirmation import removal_at

register = template.Library()


@register.simple_tag(takes_context=True)
def email_confirm_banner(context):
    """What the backoffice banner shows while the business's e-mail address is unconfirmed, else None.

    Reads the request's tenant (the routing cache's copy, refreshed when the row changes): no query.
    """
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or tenant.email_confirmed or not tenant.slug or not (user and user.is_authenticated):
        return None
    return {
        "email": tenant.email,
        "removal_date": timeutils.local_date(removal_at(tenant), ZoneInfo(tenant.time_zone)),
    }
