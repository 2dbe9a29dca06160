"""The booking page's payment step (tenants/payments does the work): the Checkout session opened for a
booking to be paid first, what the booking API answers about it, and the page the customer returns to."""

import contextlib

from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from termino.platform.billing.connect import PaymentProviderError
from termino.shared.errors import InvalidRequest
from termino.tenants.payments import selectors as payment_selectors
from termino.tenants.payments import services as payments
from termino.tenants.payments.models import PaymentStatus

from .framing import frame_ancestors
from .throttles import RequestRateLimitMixin


def _context(request, **extra) -> dict:
    from .views import _context as page_context  # the booking page's frame (views imports nothing of ours)

    return page_context(request, **extra)


class PaymentStepOutput(serializers.Serializer):
    token = serializers.CharField()
    kind = serializers.CharField()
    amount_cents = serializers.IntegerField()
    fee_cents = serializers.IntegerField()
    currency = serializers.CharField()
    checkout_url = serializers.URLField()
    status_url = serializers.CharField()
    page_url = serializers.CharField()


@extend_schema_field(PaymentStepOutput(allow_null=True))
class PaymentStepField(serializers.Field):
    """The payment a held booking waits for; null for a booking that needs none."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, appointment):
        if appointment.status != "held":
            return None
        payment = payments.pending_payment(appointment)
        if payment is None:
            return None
        return {
            "token": payment.token,
            "kind": payment.kind,
            "amount_cents": payment.amount_cents,
            "fee_cents": payment.fee_cents,
            "currency": payment.currency,
            "checkout_url": payment.checkout_url,
            "status_url": f"/api/public/v1/payments/{payment.token}/",
            "page_url": f"/book/payment/{payment.token}/",
        }


def checkout_open(appointment) -> Response | None:
    """Open the Checkout session; on failure free the slot and answer 503 with a sentence."""
    try:
        with transaction.atomic():
            payments.checkout_start(appointment=appointment)
    except (PaymentProviderError, InvalidRequest) as exc:
        with transaction.atomic():
            payments.hold_release(appointment)
        return Response(
            {"detail": getattr(exc, "message", "") or _("Online payment is not available right now.")},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return None


def _payment_or_404(token: str):
    payment = payment_selectors.payment_by_token(token)
    if payment is None or payment.kind == "fee":
        raise Http404
    return payment


@require_GET
@frame_ancestors
def payment_page(request, token: str):
    """Where Checkout sends the customer back: paid (the booking and what cancelling means), still open,
    or not completed."""
    payment = _payment_or_404(token)
    if request.GET.get("session") and payment.status == PaymentStatus.PENDING:
        with contextlib.suppress(PaymentProviderError):  # the webhook settles it; the page asks again
            payment = payments.checkout_sync(payment=payment)
    appointment = payment.appointment
    return TemplateResponse(
        request,
        "booking/payment.html",
        _context(
            request,
            payment=payment,
            appointment=appointment,
            policy=payment_selectors.policy_for(payment),
            back=request.GET.get("back") == "1",
        ),
    )


@csrf_exempt  # the link's token is the capability (and third-party cookies may be blocked in the embed)
@require_POST
def payment_abandon(request, token: str):
    """The customer gives up paying: the Checkout session is closed and the time freed."""
    payment = _payment_or_404(token)
    with contextlib.suppress(PaymentProviderError):  # the session ends on its own; the hold with it
        payments.checkout_abandon(payment=payment)
    return redirect(f"/book/payment/{token}/" + ("?embed=1" if request.GET.get("embed") == "1" else ""))


class PaymentStatusOutput(serializers.Serializer):
    status = serializers.CharField()
    booking_status = serializers.CharField(allow_null=True)
    manage_token = serializers.CharField(allow_null=True)


class PaymentStatusApi(RequestRateLimitMixin, APIView):
    """How a booking's payment stands (the return page asks until Stripe's word has come)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    rate_scope = "public_read"

    @extend_schema(responses=PaymentStatusOutput)
    def get(self, request, token):
        payment = payment_selectors.payment_by_token(token)
        if payment is None or payment.kind == "fee":
            raise NotFound(_("This payment link is not valid."))
        appointment = payment.appointment
        settled = appointment is not None and appointment.status != "held"
        return Response(
            {
                "status": payment.status,
                "booking_status": appointment.status if appointment is not None else None,
                "manage_token": appointment.manage_token if settled else None,
            }
        )
