"""At a business's host (tenant URLconf), mounted at /staff-login/: redeeming a sign-in-as-user link and
ending that session."""

from django.urls import path

from . import tenant_views

app_name = "staff_login"
urlpatterns = [
    path("end/", tenant_views.end_now, name="end"),
    path("<str:token>/", tenant_views.redeem, name="redeem"),
]
