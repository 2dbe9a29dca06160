"""/datenschutz/ on the platform host (public URLconf)."""

from django.urls import path

from . import views

urlpatterns = [
    path("datenschutz/", views.privacy_current, name="privacy"),
    path("datenschutz/version/<int:number>/", views.privacy_version, name="privacy_version"),
    path("datenschutz/version/<int:number>.pdf", views.privacy_pdf, name="privacy_pdf"),
]
