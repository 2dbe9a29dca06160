"""Staff API of payments (`/api/v1/payments/`): list and read payments with their refunds, refund all or
part of one, charge the fee of a card on file. Owners and managers only: money is the business's."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from termino.platform.billing.connect import PaymentProviderError
from termino.shared.errors import InvalidRequest
from termino.tenants.business.roles import is_manager

from . import selectors, services
from .models import Payment, PaymentStatus, Refund


class ManagersOnly(BasePermission):
    message = _("Only the owner or a manager can see and move payments.")

    def has_permission(self, request, view):
        return is_manager(request.user)


class RefundOutput(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = [
            "id",
            "amount_cents",
            "status",
            "reason",
            "stripe_refund_id",
            "failure_message",
            "created_at",
        ]


class PaymentOutput(serializers.ModelSerializer):
    refunds = RefundOutput(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "appointment",
            "customer",
            "kind",
            "status",
            "description",
            "amount_cents",
            "refunded_cents",
            "application_fee_cents",
            "fee_cents",
            "currency",
            "payment_intent_id",
            "failure_message",
            "created_at",
            "paid_at",
            "refunds",
        ]


class RefundInput(serializers.Serializer):
    amount_cents = serializers.IntegerField(
        required=False, min_value=1, max_value=99_999_999, help_text="Empty: all that is left"
    )


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, ManagersOnly]
    serializer_class = PaymentOutput

    def get_queryset(self):
        params = self.request.query_params
        status_ = params.get("status", "")

        def number(name):
            value = params.get(name, "")
            return int(value) if value.isdigit() and len(value) < 10 else None

        return selectors.payments(
            appointment_id=number("appointment"),
            customer_id=number("customer"),
            status=status_ if status_ in PaymentStatus.values else "",
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("appointment", int),
            OpenApiParameter("customer", int),
            OpenApiParameter("status", str, enum=PaymentStatus.values),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=RefundInput, responses={201: RefundOutput})
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Refund all that is left of a payment, or `amount_cents` of it (sent to Stripe at once)."""
        payment = self.get_object()
        data = RefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            refund = services.refund_by_staff(
                payment=payment, amount_cents=data.validated_data.get("amount_cents"), user=request.user
            )
        except InvalidRequest as exc:
            return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
        refund.refresh_from_db()
        return Response(RefundOutput(refund).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: PaymentOutput, 402: PaymentOutput})
    @action(detail=True, methods=["post"], url_path="charge-fee")
    def charge_fee(self, request, pk=None):
        """Charge the no-show (or late cancellation) fee to the card saved with this payment."""
        card = self.get_object()
        try:
            fee = services.fee_charge(card=card, user=request.user)
        except InvalidRequest as exc:
            return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
        except PaymentProviderError as exc:
            return Response({"detail": exc.message}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        answer = (
            status.HTTP_201_CREATED
            if fee.status != PaymentStatus.FAILED
            else status.HTTP_402_PAYMENT_REQUIRED
        )
        return Response(PaymentOutput(selectors.payments().get(pk=fee.pk)).data, status=answer)
