from django.urls import path

from . import team_views as views

app_name = "team"
urlpatterns = [
    path("", views.team_list, name="list"),
    path("invite/", views.team_invite, name="invite"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="invitation-resend"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("<int:pk>/", views.member_edit, name="edit"),
    path("accept/<str:token>/", views.accept, name="accept"),
]
