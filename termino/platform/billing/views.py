"""Stripe's webhooks, at the platform's host: POST /billing/webhook/ and /billing/connect/webhook/."""

import logging

from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import connect, services, stripe_gateway

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe cannot send a CSRF token; the signature proves the sender
@require_POST
def stripe_webhook(request):
    try:
        event = stripe_gateway.webhook_event_parse(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except stripe_gateway.SignatureInvalid as exc:
        logger.warning("rejected a Stripe webhook: %s", exc)
        return HttpResponseBadRequest("invalid signature")
    try:
        result = services.stripe_event_handle(event=event)
    except stripe_gateway.PaymentProviderError:
        # Nothing was stored: Stripe delivers the event again later.
        return HttpResponse("Stripe unreachable, retry later", status=503)
    return JsonResponse({"received": True, "result": result})


@csrf_exempt  # Stripe cannot send a CSRF token; the signature proves the sender
@require_POST
def connect_webhook(request):
    """Events of the businesses' connected accounts (Connect), signed with the Connect endpoint's secret."""
    try:
        event = connect.event_parse(payload=request.body, signature=request.headers.get("Stripe-Signature"))
    except stripe_gateway.SignatureInvalid as exc:
        logger.warning("rejected a Stripe Connect webhook: %s", exc)
        return HttpResponseBadRequest("invalid signature")
    try:
        result = connect.event_handle(event=event)
    except stripe_gateway.PaymentProviderError:
        return HttpResponse("Stripe unreachable, retry later", status=503)
    return JsonResponse({"received": True, "result": result})
