from django.urls import path

from . import feed_views

app_name = "calendars"
urlpatterns = [
    path("calendar/<str:token>.ics", feed_views.feed, name="feed"),
]
