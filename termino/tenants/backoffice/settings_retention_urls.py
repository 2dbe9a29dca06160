"""Data retention settings; merged into the "settings" namespace by settings_urls.py."""

from django.urls import path

from . import settings_retention_views as views

urlpatterns = [path("retention/", views.RetentionView.as_view(), name="retention")]
