from django.urls import path

from . import apis, visit_apis

app_name = "public_api"
urlpatterns = [
    path("services/", apis.ServicesApi.as_view(), name="services"),
    path("availability/", apis.AvailabilityApi.as_view(), name="availability"),
    path("holds/", apis.HoldsApi.as_view(), name="holds"),
    path("holds/<str:token>/", apis.HoldApi.as_view(), name="hold"),
    path("bookings/", apis.BookingsApi.as_view(), name="bookings"),
    path("visits/", visit_apis.VisitBookingsApi.as_view(), name="visits"),
    path("visits/availability/", visit_apis.PublicVisitAvailabilityApi.as_view(), name="visit-availability"),
    path("bookings/<str:token>/", apis.ManagedBookingApi.as_view(), name="booking"),
    path("bookings/<str:token>/cancel/", apis.CancelBookingApi.as_view(), name="cancel"),
    path("bookings/<str:token>/reschedule/", apis.RescheduleBookingApi.as_view(), name="reschedule"),
]
