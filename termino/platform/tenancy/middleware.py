"""Route each request to its business by host name, before anything else runs."""

from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import translation
from django_tenants.middleware.main import TenantMainMiddleware

from termino.platform.billing.access import HOME_WHEN_CLOSED, closed_tenant_may_open

from .routing import normalise_host, tenant_for_host


class TenantRoutingMiddleware(TenantMainMiddleware):
    """django-tenants' middleware with a cached host lookup and friendly pages instead of errors.

    Unknown hosts get a 404 page (this is where hosts are allow-listed: ALLOWED_HOSTS is `*` because
    custom domains are data); suspended or cancelled businesses a page that says so.
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
        if tenant.is_closed and not closed_tenant_may_open(request.path_info):
            if request.path_info == "/":  # where a login lands: the owner's way back is the billing page
                return HttpResponseRedirect(HOME_WHEN_CLOSED)
            return _page(request, "tenancy/closed.html", {"tenant": tenant}, status=403)
        return None


def _page(request, template: str, context: dict, status: int):
    # Runs before LocaleMiddleware, so pick the language here.
    translation.activate(translation.get_language_from_request(request))
    response = TemplateResponse(request, template, context, status=status)
    return response.render()
