from django import template

from termino.platform.tenancy.models import TenantStatus

from .. import impersonation

register = template.Library()

STATUS_BADGES = {
    TenantStatus.TRIAL: "badge-info",
    TenantStatus.ACTIVE: "badge-ok",
    TenantStatus.PAST_DUE: "badge-warn",
    TenantStatus.SUSPENDED: "badge-err",
    TenantStatus.CANCELLED: "",
}


@register.simple_tag(takes_context=True)
def impersonation_banner(context):
    """What the banner shows while a staff member is signed in as a business user, else None."""
    request = context.get("request")
    return impersonation.banner(request) if request is not None else None


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "")


@register.filter
def status_label(status: str) -> str:
    return str(TenantStatus(status).label) if status in TenantStatus.values else status


@register.filter
def details_text(details) -> str:
    """An audit entry's details as `key: value` pairs, for reading rather than parsing."""
    if not isinstance(details, dict):
        return ""
    return " · ".join(f"{key}: {value}" for key, value in details.items())
