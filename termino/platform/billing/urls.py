"""Billing on the platform's host (public URLconf): Stripe's webhook."""

from django.urls import path

from . import views

app_name = "platform_billing"
urlpatterns = [
    path("webhook/", views.stripe_webhook, name="webhook"),
    path("connect/webhook/", views.connect_webhook, name="connect-webhook"),
]
