"""Staff API of webhooks (`/api/v1/webhooks/`), for the owner only: endpoints, the delivery log, resend.
Thin: validation here, the work in services and selectors."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from termino.tenants.business.roles import OWNER

from . import selectors, services
from .models import Attempt, Delivery, DeliveryStatus, Endpoint, EventType


class OwnerOnly(BasePermission):
    message = _("Only the owner can manage webhooks.")

    def has_permission(self, request, view):
        return request.user.role in OWNER


PERMISSIONS = [IsAuthenticated, OwnerOnly]


class EndpointOutput(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "active",
            "disabled_at",
            "failing_since",
            "created_at",
        ]


class EndpointWithSecret(EndpointOutput):
    secret = serializers.CharField(help_text="The signing secret: shown only now. Keep it safe.")

    class Meta(EndpointOutput.Meta):
        fields = [*EndpointOutput.Meta.fields, "secret"]


class EndpointInput(serializers.Serializer):
    url = serializers.CharField(max_length=services.URL_MAX_LENGTH)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False, max_length=20
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EndpointPatch(serializers.Serializer):
    url = serializers.CharField(max_length=services.URL_MAX_LENGTH, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        allow_empty=False,
        max_length=20,
        required=False,
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


def _endpoint(pk: int) -> Endpoint:
    endpoint = selectors.endpoint_get(pk)
    if endpoint is None:
        raise Http404
    return endpoint


class EndpointListApi(generics.ListAPIView):
    """The business's webhook endpoints; POST adds one (its secret is in the answer, and only there)."""

    permission_classes = PERMISSIONS
    serializer_class = EndpointOutput

    def get_queryset(self):
        return selectors.endpoint_list()

    @extend_schema(request=EndpointInput, responses={201: EndpointWithSecret})
    def post(self, request):
        data = EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(**data.validated_data, created_by=request.user)
        return Response(EndpointWithSecret(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetailApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(responses=EndpointOutput)
    def get(self, request, pk: int):
        return Response(EndpointOutput(_endpoint(pk)).data)

    @extend_schema(request=EndpointPatch, responses=EndpointOutput)
    def patch(self, request, pk: int):
        endpoint = _endpoint(pk)
        data = EndpointPatch(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.endpoint_delete(endpoint=_endpoint(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointSecretRotateApi(APIView):
    """A new signing secret, in force at once (in the answer, and only there)."""

    permission_classes = PERMISSIONS

    @extend_schema(request=None, responses=EndpointWithSecret)
    def post(self, request, pk: int):
        endpoint = services.endpoint_secret_rotate(endpoint=_endpoint(pk))
        return Response(EndpointWithSecret(endpoint).data)


class AttemptOutput(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = ["at", "status_code", "error", "response_excerpt", "duration_ms"]


class DeliveryOutput(serializers.ModelSerializer):
    id = serializers.IntegerField(read_only=True)
    delivery_id = serializers.UUIDField(source="uid", help_text="The Termino-Delivery header's value.")
    endpoint = serializers.IntegerField(source="endpoint_id")

    class Meta:
        model = Delivery
        fields = [
            "id", "delivery_id", "endpoint", "event", "status", "attempts", "occurred_at", "next_attempt_at",
            "last_attempt_at", "last_status_code", "failure",
        ]  # fmt: skip


class DeliveryDetailOutput(DeliveryOutput):
    payload = serializers.JSONField(help_text="The body's `data`.")
    attempt_log = AttemptOutput(many=True, read_only=True, source="attempts_newest_first")

    class Meta(DeliveryOutput.Meta):
        fields = [*DeliveryOutput.Meta.fields, "payload", "attempt_log"]


class DeliveryFilter(serializers.Serializer):
    endpoint = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_ID)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)


def _delivery(pk: int) -> Delivery:
    delivery = selectors.delivery_get(pk)
    if delivery is None:
        raise Http404
    return delivery


@extend_schema(
    parameters=[
        OpenApiParameter("endpoint", int, description="Only this endpoint's deliveries."),
        OpenApiParameter("status", str, enum=DeliveryStatus.values),
    ]
)
class DeliveryListApi(generics.ListAPIView):
    """The delivery log, newest first."""

    permission_classes = PERMISSIONS
    serializer_class = DeliveryOutput

    def get_queryset(self):
        query = DeliveryFilter(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.delivery_list(
            endpoint_id=query.validated_data.get("endpoint"), status=query.validated_data.get("status")
        )


class DeliveryDetailApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(responses=DeliveryDetailOutput)
    def get(self, request, pk: int):
        delivery = _delivery(pk)
        delivery.attempts_newest_first = list(selectors.attempts_of(delivery))
        return Response(DeliveryDetailOutput(delivery).data)


class DeliveryResendApi(APIView):
    """Queue the delivery again now, with the same id (400 while it is still open or its endpoint is off)."""

    permission_classes = PERMISSIONS

    @extend_schema(request=None, responses={202: DeliveryOutput})
    def post(self, request, pk: int):
        delivery = services.delivery_resend(delivery=_delivery(pk))
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
