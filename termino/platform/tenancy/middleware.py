"""Route each request to its business by host name, before anything else runs."""

from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import translation
from django_tenants.middleware.main import TenantMainMiddleware

from termino.platform.billing.access import BY_STAFF, HOME_WHEN_CLOSED, closed_reason, closed_tenant_may_open

from .routing import normalise_host, tenant_for_host


class TenantRoutingMiddleware(TenantMainMiddleware):
    """django-tenants' middleware with a cached host lookup and friendly pages instead of errors.

    Unknown hosts get a 404 page (this is where hosts are allow-listed: ALLOWED_HOSTS is `*` because
    custom domains are data). Requests to a suspended or cancelled business are marked here and answered
    by `ClosedBusinessMiddleware`, once the login is known.
    """

    def process_request(self, request):
        connection.set_schema_to_public()
        try:
            host = normalise_host(request.get_host())
        except DisallowedHost:
            return HttpResponseBadRequest("Bad Host header")

        tenant = tenant_for_host(host)
        if tenant is None:
            return _page(request, "tenancy/unknown_host.html", {"host": host}, status=404)

        tenant.domain_url = host
        request.tenant = tenant
        connection.set_tenant(tenant)
        self.setup_url_routing(request)
        request.business_closed = tenant.is_closed and not closed_tenant_may_open(request.path_info)
        return None


class ClosedBusinessMiddleware:
    """What a suspended or cancelled business's host answers, by reason and by who asks (after the login).

    The owner of a business closed for an open payment (or cancelled) goes to the billing page: paying is
    the way back. A suspension by platform staff is lifted only by them, so everyone signed in reads
    "contact support", never "pay". Customers read that online booking is not available, nothing more.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not getattr(request, "business_closed", False):
            return self.get_response(request)
        reason = closed_reason(request.tenant)
        user = request.user
        owner = user.is_authenticated and user.role == "owner"  # business.roles.Role.OWNER (no port needed)
        if owner and reason != BY_STAFF:
            return HttpResponseRedirect(HOME_WHEN_CLOSED)
        context = {"tenant": request.tenant, "reason": reason, "signed_in": user.is_authenticated}
        return _page(request, "tenancy/closed.html", context, status=403)


def _page(request, template: str, context: dict, status: int):
    # Runs before LocaleMiddleware, so pick the language here.
    translation.activate(translation.get_language_from_request(request))
    response = TemplateResponse(request, template, context, status=status)
    return response.render()
