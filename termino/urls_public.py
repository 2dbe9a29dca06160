"""URLs of the platform itself, at BASE_DOMAIN (schema `public`)."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from termino.tenants.notifications.webhooks import lox24_delivery

urlpatterns = [
    path("", include("termino.platform.tenancy.urls")),
    path("impressum/", TemplateView.as_view(template_name="legal/impressum.html"), name="impressum"),
    path("", include("termino.platform.legal.urls")),  # /datenschutz/ and its versions
    path("terms/", TemplateView.as_view(template_name="legal/terms.html"), name="terms"),
    path("", include("termino.shared.cookies_urls")),  # /cookies/
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("staff/traffic/", include("termino.platform.accesslog.urls")),
    path("staff/", include("termino.platform.staffadmin.urls")),
    path("webhooks/lox24/<str:secret>/", lox24_delivery, name="lox24-delivery"),
    path("billing/", include("termino.platform.billing.urls")),
]

handler400 = "termino.shared.guard.responses.bad_request"  # 413 for a body too large, JSON under /api/
