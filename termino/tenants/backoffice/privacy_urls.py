"""Privacy (data-subject rights, audit trail, customers' requests, the business's own data), /privacy/."""

from django.urls import path

from . import privacy_views as views

app_name = "privacy"
urlpatterns = [
    path("log/", views.event_log, name="log"),
    path("requests/", views.request_list, name="requests"),
    path("requests/<int:pk>/", views.request_handle, name="request_handle"),
    path("requests/<int:pk>/export.json", views.request_export, name="request_export"),
    path("customers/<int:pk>/export.json", views.customer_export_json, name="customer_export_json"),
    path("customers/<int:pk>/export-csv.zip", views.customer_export_csv, name="customer_export_csv"),
    path("customers/<int:pk>/restrict/", views.customer_restrict, name="customer_restrict"),
    path("customers/<int:pk>/unrestrict/", views.customer_unrestrict, name="customer_unrestrict"),
    path("customers/<int:pk>/object/", views.customer_object, name="customer_object"),
    path("customers/<int:pk>/erase/", views.customer_erase, name="customer_erase"),
    path(
        "customers/<int:pk>/erase/cancel-future/",
        views.customer_erase_cancel_future,
        name="customer_erase_cancel_future",
    ),
    path("business/export.zip", views.business_export, name="business_export"),
    path("business/close/", views.account_close, name="account_close"),
]
