"""Mounted at /staff/traffic/ of the public URLconf (before the staff admin's own /staff/)."""

from django.urls import path

from . import views

app_name = "accesslog"
urlpatterns = [path("", views.TrafficView.as_view(), name="traffic")]
