from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis, series_apis

router = SimpleRouter()
router.register("services", apis.ServiceViewSet, basename="service")
router.register("resources", apis.ResourceViewSet, basename="resource")
router.register("hours", apis.WeeklyHoursViewSet, basename="hours")
router.register("closures", apis.ClosureViewSet, basename="closure")
router.register("appointments", apis.AppointmentViewSet, basename="appointment")
router.register("series", series_apis.SeriesViewSet, basename="series")

urlpatterns = [
    path("availability/", apis.AvailabilityApi.as_view(), name="availability"),
    *router.urls,
]
