from django.urls import path

from . import today_views as views

app_name = "today"
urlpatterns = [
    path("", views.today, name="index"),
    path("start/myself/", views.checklist_myself, name="myself"),
    path("start/website/", views.checklist_website, name="website"),
    path("start/dismiss/", views.checklist_dismiss, name="dismiss"),
]
