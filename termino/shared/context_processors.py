from django.conf import settings


def site(request):
    """What every page needs to link across the platform and its businesses."""
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return {
        "platform_url": f"{settings.SITE_SCHEME}://{settings.BASE_DOMAIN}{port}",
        "base_domain": settings.BASE_DOMAIN,
        "tenant": getattr(request, "tenant", None),
    }
