"""Who may frame the booking pages and call the public API from a browser: the business's own origins."""

from functools import wraps

from django.views.decorators.clickjacking import xframe_options_exempt

from termino.tenants.business.models import BusinessSettings


def frame_ancestors(view):
    """Allow framing only by the origins the business lists (CSP frame-ancestors), never by anyone else."""

    @xframe_options_exempt
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        origins = " ".join(BusinessSettings.current().origins)
        response["Content-Security-Policy"] = f"frame-ancestors 'self' {origins}".strip()
        return response

    return wrapped


class PublicApiCorsMiddleware:
    """CORS for `/api/public/`: answers preflights and names the caller's origin if the business lists it."""

    PREFIX = "/api/public/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        origin = request.headers.get("Origin")
        tenant = getattr(request, "tenant", None)
        if (
            not origin
            or not request.path.startswith(self.PREFIX)
            or tenant is None
            or tenant.schema_name == "public"
        ):
            return self.get_response(request)
        allowed = origin.rstrip("/") in BusinessSettings.current().origins
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            from django.http import HttpResponse

            response = HttpResponse(status=204 if allowed else 403)
        else:
            response = self.get_response(request)
        response["Vary"] = "Origin"
        if allowed:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key"
            response["Access-Control-Max-Age"] = "600"
        return response
