"""Webhook settings; merged into the "settings" namespace by settings_urls.py."""

from django.urls import path

from . import settings_webhooks_views as views

urlpatterns = [
    path("webhooks/", views.WebhooksView.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", views.WebhookView.as_view(), name="webhook"),
    path("webhooks/<int:pk>/rotate-secret/", views.WebhookRotateView.as_view(), name="webhook_rotate"),
    path("webhooks/<int:pk>/delete/", views.WebhookDeleteView.as_view(), name="webhook_delete"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/resend/",
        views.WebhookResendView.as_view(),
        name="webhook_resend",
    ),
]
