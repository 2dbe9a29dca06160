from django.urls import path

from . import apis

urlpatterns = [
    path("feed/", apis.MyFeedApi.as_view(), name="calendar-feed"),
    path("business-feed/", apis.BusinessFeedApi.as_view(), name="calendar-business-feed"),
    path("settings/", apis.CalendarSettingsApi.as_view(), name="calendar-settings"),
    path("caldav/", apis.MyCalDavApi.as_view(), name="calendar-caldav"),
    path("caldav/sync/", apis.MyCalDavSyncApi.as_view(), name="calendar-caldav-sync"),
]
