"""The tenant URLconf as the lead wires it (`staff-login/` included), plus a page showing the banner."""

from django.http import HttpResponse
from django.template import engines
from django.urls import include, path

import termino.urls_tenant


def banner_page(request):
    template = engines["django"].from_string('{% include "staffadmin/_impersonation_banner.html" %}')
    return HttpResponse(template.render({}, request))


urlpatterns = [
    path("staff-login/", include("termino.platform.staffadmin.tenant_urls")),
    path("__banner__/", banner_page),
    *termino.urls_tenant.urlpatterns,
]
