"""URLs of one business, at <slug>.BASE_DOMAIN (its own schema)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from termino.tenants.accounts.api import TokenObtainView
from termino.tenants.booking import views as booking_views

urlpatterns = [
    # The API first: its paths all start with api/, which no other pattern matches, and the resolver tries
    # patterns in order (the pages' "" includes hold some hundred of them).
    path("api/v1/auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("api/v1/calendar/", include("termino.tenants.calendars.api_urls")),
    path("api/v1/", include("termino.tenants.scheduling.urls")),
    path("api/v1/webhooks/", include("termino.tenants.webhooks.urls")),
    path("api/v1/", include("termino.tenants.payments.urls")),
    path("api/v1/", include("termino.tenants.waitlist.urls")),
    path("api/public/v1/", include("termino.tenants.booking.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("termino.tenants.accounts.urls")),
    path("", include("termino.tenants.backoffice.urls")),
    path("book/", include("termino.tenants.booking.urls")),
    path("embed.js", booking_views.embed_js, name="embed-js"),
    path("", include("termino.tenants.calendars.urls")),  # /calendar/<token>.ics
    path("", include("termino.shared.cookies_urls")),  # /cookies/
    path("media/<str:schema>/<path:path>", booking_views.media_file, name="media"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff-login/", include("termino.platform.staffadmin.tenant_urls")),
    path("confirm-email/", include("termino.platform.tenancy.confirm_views")),
]

handler400 = "termino.shared.guard.responses.bad_request"  # 413 for a body too large, JSON under /api/
