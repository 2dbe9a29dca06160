from django.urls import path

from . import billing_views as views

app_name = "billing"
urlpatterns = [
    path("", views.billing_index, name="index"),
    path("checkout/", views.billing_checkout, name="checkout"),
    path("portal/", views.billing_portal, name="portal"),
    path("sms/", views.billing_sms_pack, name="sms"),
]
