from django.conf import settings

from .urls import platform_url


def site(request):
    """What every page needs to link across the platform and its businesses."""
    return {
        "platform_url": platform_url("").rstrip("/"),
        "base_domain": settings.BASE_DOMAIN,
        "tenant": getattr(request, "tenant", None),
    }
