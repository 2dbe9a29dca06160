from django.urls import path

from . import payments_views as views

app_name = "payments"
urlpatterns = [
    path("", views.payments_list, name="list"),
    path("export.csv", views.payments_export, name="export"),
    path("settings/", views.payments_settings, name="settings"),
    path("connect/", views.connect_start, name="connect"),
    path("connect/return/", views.connect_return, name="connect-return"),
    path("connect/refresh/", views.connect_refresh, name="connect-refresh"),
    path("appointments/<int:pk>/", views.appointment_payments, name="appointment"),
    path("appointments/<int:pk>/refund/<int:payment_id>/", views.payment_refund, name="refund"),
    path("appointments/<int:pk>/fee/", views.fee_charge, name="fee"),
    path("customers/<int:pk>/deposit/", views.customer_deposit, name="customer-deposit"),
]
