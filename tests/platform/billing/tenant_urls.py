"""The tenant URLconf with the billing page mounted at /billing/, until the lead includes it for real."""

from django.urls import include, path

from termino.tenants.backoffice import urls as backoffice_urls
from termino.urls_tenant import urlpatterns as tenant_urlpatterns


def _wired() -> bool:
    return any(getattr(pattern, "namespace", None) == "billing" for pattern in backoffice_urls.urlpatterns)


urlpatterns = (
    list(tenant_urlpatterns)
    if _wired()
    else [path("billing/", include("termino.tenants.backoffice.billing_urls")), *tenant_urlpatterns]
)
