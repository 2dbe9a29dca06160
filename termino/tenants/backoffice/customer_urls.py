"""Customers (CRM) of the backoffice, under /customers/."""

from django.urls import path

from . import customer_views as views

app_name = "customers"
urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("search.json", views.CustomerSearchJsonView.as_view(), name="search_json"),
    path("new/", views.CustomerCreateView.as_view(), name="create"),
    path("merge/", views.MergeView.as_view(), name="merge"),
    path("duplicates/", views.DuplicateListView.as_view(), name="duplicates"),
    path("duplicates/<int:pk>/merge/", views.DuplicateMergeView.as_view(), name="duplicate_merge"),
    path("duplicates/<int:pk>/dismiss/", views.DuplicateDismissView.as_view(), name="duplicate_dismiss"),
    path("import/", views.ImportView.as_view(), name="import"),
    path("import/sample.csv", views.ImportSampleView.as_view(), name="import_sample"),
    path("import/<str:token>/", views.ImportPreviewView.as_view(), name="import_preview"),
    path("export.csv", views.ExportView.as_view(), name="export"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.CustomerEditView.as_view(), name="edit"),
    path("<int:pk>/notes/", views.NoteAddView.as_view(), name="note_add"),
    path("<int:pk>/notes/<int:note_pk>/delete/", views.NoteDeleteView.as_view(), name="note_delete"),
    path("<int:pk>/tags/", views.TagsView.as_view(), name="tags"),
]
