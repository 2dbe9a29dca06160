"""`/api/v1/webhooks/`: the owner's endpoints and delivery log."""

from django.urls import path

from . import apis

urlpatterns = [
    path("endpoints/", apis.EndpointListApi.as_view(), name="webhook-endpoints"),
    path("endpoints/<int:pk>/", apis.EndpointDetailApi.as_view(), name="webhook-endpoint"),
    path(
        "endpoints/<int:pk>/rotate-secret/",
        apis.EndpointSecretRotateApi.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path("deliveries/", apis.DeliveryListApi.as_view(), name="webhook-deliveries"),
    path("deliveries/<int:pk>/", apis.DeliveryDetailApi.as_view(), name="webhook-delivery"),
    path("deliveries/<int:pk>/resend/", apis.DeliveryResendApi.as_view(), name="webhook-delivery-resend"),
]
