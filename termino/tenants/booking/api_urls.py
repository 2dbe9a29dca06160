from django.urls import path

from . import apis, payment_flow, visit_apis, waitlist_apis

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
    path("payments/<str:token>/", payment_flow.PaymentStatusApi.as_view(), name="payment"),
    path("waitlist/", waitlist_apis.WaitlistJoinApi.as_view(), name="waitlist"),
    path("waitlist/offers/<str:token>/", waitlist_apis.OfferApi.as_view(), name="waitlist-offer"),
    path(
        "waitlist/offers/<str:token>/accept/", waitlist_apis.OfferAcceptApi.as_view(), name="waitlist-accept"
    ),
    path(
        "waitlist/offers/<str:token>/decline/",
        waitlist_apis.OfferDeclineApi.as_view(),
        name="waitlist-decline",
    ),
    path("waitlist/<str:token>/", waitlist_apis.WaitlistLeaveApi.as_view(), name="waitlist-leave"),
]
