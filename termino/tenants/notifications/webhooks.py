"""LOX24's `sms.delivery` webhook. It arrives at the platform's host (one LOX24 account serves every
business); the callback data we sent with each SMS names the business's schema and the outbox row."""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import schema_context, schema_exists

from termino.shared.guard import safejson
from termino.shared.sms.gateways import UnsupportedEvent, parse_delivery_webhook

from .services import delivery_report_apply


@csrf_exempt
@require_POST
def lox24_delivery(request, secret: str):
    # LOX24 signs nothing: the secret in the webhook URL is what proves the sender.
    expected = settings.LOX24_WEBHOOK_SECRET
    if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise Http404
    try:
        report = parse_delivery_webhook(safejson.loads(request.body))
    except UnsupportedEvent:
        return HttpResponse(status=204)  # other events and "no report yet": acknowledged, ignored
    except ValueError:
        return HttpResponseBadRequest("not a LOX24 sms.delivery event")
    schema, _sep, key = (report.callback_data or "").partition("|")
    if not key or not schema.startswith("t_") or not schema_exists(schema):
        return HttpResponse(status=204)  # not one of ours (or the business is gone)
    with schema_context(schema):
        delivery_report_apply(
            idempotency_key=key, provider_id=report.provider_id, status=report.status, code=report.code
        )
    return HttpResponse(status=204)
