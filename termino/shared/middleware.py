from zoneinfo import ZoneInfo

from django.utils import timezone


class TenantTimezoneMiddleware:
    """Dates and times in pages and API answers are in the business's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and getattr(tenant, "time_zone", None):
            timezone.activate(ZoneInfo(tenant.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
