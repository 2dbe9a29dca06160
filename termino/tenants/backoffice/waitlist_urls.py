from django.urls import path

from . import waitlist_views as views

app_name = "waitlist"
urlpatterns = [
    path("", views.waitlist_index, name="index"),
    path("<int:pk>/offer/", views.waitlist_offer, name="offer"),
    path("<int:pk>/remove/", views.waitlist_remove, name="remove"),
    path("settings/", views.waitlist_settings, name="settings"),
]
