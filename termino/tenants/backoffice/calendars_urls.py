from django.urls import path

from . import calendars_views as views

app_name = "calendarsync"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("feed/", views.my_feed_issue, name="feed_issue"),
    path("feed/revoke/", views.my_feed_revoke, name="feed_revoke"),
    path("caldav/sync/", views.caldav_sync_now, name="sync"),
    path("caldav/disconnect/", views.caldav_disconnect, name="disconnect"),
    path("business/", views.business, name="business"),
    path("business/feed/", views.business_feed_issue, name="business_feed_issue"),
    path("business/feed/revoke/", views.business_feed_revoke, name="business_feed_revoke"),
]
