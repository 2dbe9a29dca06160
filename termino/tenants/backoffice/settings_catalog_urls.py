"""Catalogue settings; merged into the "settings" namespace by settings_urls.py (hence no app_name)."""

from django.urls import path

from . import settings_catalog_views as views

urlpatterns = [
    path("services/", views.ServiceListView.as_view(), name="services"),
    path("services/new/", views.ServiceFormView.as_view(), name="service_create"),
    path("services/<int:pk>/", views.ServiceFormView.as_view(), name="service_edit"),
    path("services/<int:pk>/delete/", views.ServiceDeleteView.as_view(), name="service_delete"),
    path("services/<int:pk>/deactivate/", views.ServiceDeactivateView.as_view(), name="service_deactivate"),
    # Staff members are people now (the People page); this list keeps the rooms and equipment.
    path("rooms/", views.ResourceListView.as_view(), name="resources"),
    path("resources/", views.StaffMovedView.as_view(), name="staff_moved"),
    path("resources/new/", views.ResourceFormView.as_view(), name="resource_create"),
    path("resources/<int:pk>/", views.ResourceFormView.as_view(), name="resource_edit"),
    path("resources/<int:pk>/hours/", views.ResourceHoursView.as_view(), name="resource_hours"),
    path("hours/", views.BusinessHoursView.as_view(), name="hours"),
    path("closures/", views.ClosureListView.as_view(), name="closures"),
    path("closures/<int:pk>/delete/", views.ClosureDeleteView.as_view(), name="closure_delete"),
    path("closures/holidays/", views.HolidayImportView.as_view(), name="holidays_import"),
]
