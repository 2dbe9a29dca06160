from django.urls import path

from . import people_views as views

app_name = "people"
urlpatterns = [
    path("", views.people_list, name="list"),
    path("new/", views.person_add, name="new"),
    path("<int:pk>/", views.person_edit, name="edit"),
    path("<int:pk>/deactivate/", views.person_deactivate, name="deactivate"),
    path("columns/<int:pk>/", views.column_edit, name="column"),
    path("columns/<int:pk>/deactivate/", views.column_deactivate, name="column-deactivate"),
]
