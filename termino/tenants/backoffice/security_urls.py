from django.urls import path

from . import security_views as views

app_name = "security"
urlpatterns = [
    path("", views.login_list, name="logins"),
]
