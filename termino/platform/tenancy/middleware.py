"""Route each request to its business by host name, before anything else runs."""

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import set_urlconf
from django.utils import translation
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name

from termino.platform.billing.access import BY_STAFF, HOME_WHEN_CLOSED, closed_reason, closed_tenant_may_open

from .routing import request_host, tenant_for_host


class TenantRoutingMiddleware(TenantMainMiddleware):
    """django-tenants' middleware with a cached host lookup and friendly pages instead of errors.

    Unknown hosts get a 404 page (this is where hosts are allow-listed: ALLOWED_HOSTS is `*` because
    custom domains are data). Requests to a suspended or cancelled business are marked here and answered
    by `ClosedBusinessMiddleware`, once the login is known.
    """

    def process_request(self, request):
        # Every request pays for this: one lookup of the connection (django.db.connection is a proxy that
        # looks it up on every attribute), the schema switched only when it changes (the backend's
        # set_tenant), the URLconf chosen without re-reading settings. A miss in the host dictionary reads
        # `public` (routing._lookup).
        db = connections[DEFAULT_DB_ALIAS]
        try:
            host = request_host(request)
        except DisallowedHost:
            db.set_schema_to_public()
            return HttpResponseBadRequest("Bad Host header")

        tenant = tenant_for_host(host)
        if tenant is None:
            db.set_schema_to_public()
            return _page(request, "tenancy/unknown_host.html", {"host": host}, status=404)

        tenant.domain_url = host
        request.tenant = tenant
        db.set_tenant(tenant)
        if tenant.schema_name == self.public_schema:
            request.urlconf = self.public_urlconf
            set_urlconf(self.public_urlconf)
        request.business_closed = tenant.is_closed and not closed_tenant_may_open(request.path_info)
        return None

    def __init__(self, get_response):
        super().__init__(get_response)
        self.public_schema = get_public_schema_name()
        self.public_urlconf = settings.PUBLIC_SCHEMA_URLCONF


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
