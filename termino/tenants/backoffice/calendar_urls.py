from django.urls import path

from . import calendar_series_views as series_views
from . import calendar_views as views
from . import calendar_visit_views as visit_views

app_name = "calendar"
urlpatterns = [
    path("", views.calendar_page, name="index"),
    path("events.json", views.events_feed, name="events"),
    path("book/", views.appointment_book, name="book"),
    path("free.json", views.free_slots, name="free"),
    path("block/", views.time_block, name="block"),
    path("blocks/<int:pk>/delete/", views.time_unblock, name="unblock"),
    path("appointments/<int:pk>/move/", views.appointment_move, name="move"),
    path("appointments/<int:pk>/resize/", views.appointment_resize, name="resize"),
    path("appointments/<int:pk>/status/", views.appointment_status, name="status"),
    path("series/preview/", series_views.series_preview, name="series_preview"),
    path("series/book/", series_views.series_book, name="series_book"),
    path("appointments/<int:pk>/series-move/", series_views.series_move, name="series_move"),
    path("appointments/<int:pk>/series-cancel/", series_views.series_cancel, name="series_cancel"),
    path("visits/book/", visit_views.visit_book, name="visit_book"),
    path("appointments/<int:pk>/visit-cancel/", visit_views.visit_cancel, name="visit_cancel"),
]
