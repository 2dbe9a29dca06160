from django.urls import include, path

from . import payment_flow, views, waitlist_views

app_name = "booking"
urlpatterns = [
    path("", views.booking_page, name="page"),
    path("embed-check/", views.embed_check, name="embed-check"),
    path("manage/<str:token>/", views.manage_page, name="manage"),
    path("ics/<str:token>.ics", views.booking_ics, name="ics"),
    path("payment/<str:token>/", payment_flow.payment_page, name="payment"),
    path("payment/<str:token>/abandon/", payment_flow.payment_abandon, name="payment-abandon"),
    path("privacy/", include("termino.tenants.booking.privacy_views")),
    path("waitlist/offer/<str:token>/", waitlist_views.offer_page, name="waitlist-offer"),
]
