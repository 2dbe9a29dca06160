from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("waitlist/entries", apis.EntryViewSet, basename="waitlist-entry")
router.register("waitlist/offers", apis.OfferViewSet, basename="waitlist-offer")

urlpatterns = [
    path("waitlist/settings/", apis.SettingsApi.as_view(), name="waitlist-settings"),
    *router.urls,
]
