"""Data protection of the business (AV contract, record of processing activities), /data-protection/."""

from django.urls import path

from . import dataprotection_views as views

app_name = "dataprotection"
urlpatterns = [
    path("", views.index, name="index"),
    path("dpa/", views.dpa, name="dpa"),
    path("dpa.pdf", views.dpa_pdf, name="dpa_pdf"),
    path("record/", views.record, name="record"),
    path("record.pdf", views.record_pdf, name="record_pdf"),
    path("record.md", views.record_markdown, name="record_md"),
]
