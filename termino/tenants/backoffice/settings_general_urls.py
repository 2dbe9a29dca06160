"""General settings (profile, legal texts, booking rules, messages) and the message log; merged into the
"settings" namespace by settings_urls.py."""

from django.urls import path

from . import settings_general_views as views

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("legal/", views.LegalView.as_view(), name="legal"),
    path("legal/notice/", views.BookingNoticeView.as_view(), name="legal_notice"),
    path("booking/", views.BookingRulesView.as_view(), name="booking"),
    path("messages/", views.MessagesView.as_view(), name="messages"),
    path("messages/<str:kind>/<str:channel>/", views.MessageTemplateView.as_view(), name="message_template"),
    path(
        "messages/<str:kind>/<str:channel>/preview/",
        views.MessagePreviewView.as_view(),
        name="message_preview",
    ),
    path("outbox/", views.OutboxView.as_view(), name="outbox"),
    path("outbox/<int:pk>/resend/", views.OutboxResendView.as_view(), name="outbox_resend"),
]
