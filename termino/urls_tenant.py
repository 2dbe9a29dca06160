"""URLs of one business, at <slug>.BASE_DOMAIN (its own schema)."""

from django.urls import include, path

urlpatterns = [
    path("", include("termino.tenants.accounts.urls")),
    path("book/", include("termino.tenants.booking.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
