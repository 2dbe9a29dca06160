from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis, series_apis, visit_apis

router = SimpleRouter()
router.register("services", apis.ServiceViewSet, basename="service")
router.register("resources", apis.ResourceViewSet, basename="resource")
router.register("hours", apis.WeeklyHoursViewSet, basename="hours")
router.register("closures", apis.ClosureViewSet, basename="closure")
router.register("appointments", apis.AppointmentViewSet, basename="appointment")
router.register("series", series_apis.SeriesViewSet, basename="series")

urlpatterns = [
    path("availability/", apis.AvailabilityApi.as_view(), name="availability"),
    path("visits/", visit_apis.VisitsApi.as_view(), name="visits"),
    path("visits/availability/", visit_apis.VisitAvailabilityApi.as_view(), name="visit-availability"),
    path("visits/<int:pk>/", visit_apis.VisitApi.as_view(), name="visit"),
    path("visits/<int:pk>/cancel/", visit_apis.VisitCancelApi.as_view(), name="visit-cancel"),
    *router.urls,
]
