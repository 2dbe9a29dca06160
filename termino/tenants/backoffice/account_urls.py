from django.urls import path

from . import account_views as views

app_name = "account"
urlpatterns = [
    path("", views.account_index, name="index"),
    path("password/", views.password_change, name="password"),
    path("agenda/", views.agenda, name="agenda"),
    path("tokens/", views.api_tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="token_revoke"),
    path("backups/", views.backups, name="backups"),
    path("backups/<int:pk>/download/", views.backup_download, name="backup_download"),
]
