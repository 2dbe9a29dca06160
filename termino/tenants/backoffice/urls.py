"""The backoffice: pages the staff of a business use all day, at <slug>.BASE_DOMAIN/."""

from django.urls import include, path

urlpatterns = [
    path("", include("termino.tenants.backoffice.today_urls")),
    path("people/", include("termino.tenants.backoffice.people_urls")),
    path("calendar/", include("termino.tenants.backoffice.calendar_urls")),
    path("customers/", include("termino.tenants.backoffice.customer_urls")),
    path("waitlist/", include("termino.tenants.backoffice.waitlist_urls")),
    path("settings/", include("termino.tenants.backoffice.settings_urls")),
    path("team/", include("termino.tenants.backoffice.team_urls")),
    path("account/logins/", include("termino.tenants.backoffice.security_urls")),
    path("account/calendar/", include("termino.tenants.backoffice.calendars_urls")),
    path("account/", include("termino.tenants.backoffice.account_urls")),
    path("billing/", include("termino.tenants.backoffice.billing_urls")),
    path("payments/", include("termino.tenants.backoffice.payments_urls")),
    path("privacy/", include("termino.tenants.backoffice.privacy_urls")),
    path("data-protection/", include("termino.tenants.backoffice.dataprotection_urls")),
]
