"""/cookies/, included by the platform's URLconf and by every business's (one line each)."""

from django.urls import path

from .cookies import cookies_page

urlpatterns = [
    path("cookies/", cookies_page, name="cookies"),
]
