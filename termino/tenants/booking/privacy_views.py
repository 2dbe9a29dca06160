""" "Your data" on the booking page: a customer asks for a copy of their data, its erasure, a restriction
or objects to marketing, and confirms through a link e-mailed to them.

The page answers the same whether or not the address belongs to a customer (only a customer gets the
e-mail), so nobody learns from it who is a customer. Attempts are limited per IP address and per e-mail
address at this business (termino.shared.ratelimit: atomic, so concurrent attempts cannot overshoot).
The confirmation is a POST behind the link, so mail scanners that open links do not confirm anything; an
access request then offers the export for download while the link is valid.
"""

import contextlib

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from termino.shared import ratelimit
from termino.shared.ratelimit import Limit, RateLimited
from termino.tenants.business.models import BusinessSettings
from termino.tenants.privacy import services
from termino.tenants.privacy.exports import export_json
from termino.tenants.privacy.forms import PrivacyRequestForm
from termino.tenants.privacy.http import client_ip
from termino.tenants.privacy.models import RequestKind, RequestStatus

from .throttles import client_key, minutes

WINDOW_SECONDS = 3600


def _limits() -> tuple[Limit, Limit]:
    per_hour = settings.PRIVACY_REQUESTS_PER_HOUR
    return Limit("privacy_request_ip", per_hour, WINDOW_SECONDS), Limit(
        "privacy_request_email", per_hour, WINDOW_SECONDS
    )


def _render(request, template: str, context: dict | None = None, status: int = 200):
    base = {"settings": BusinessSettings.current(), "embedded": False}
    response = TemplateResponse(request, template, {**base, **(context or {})}, status=status)
    response["Cache-Control"] = "no-store"
    # The confirmation link must not leak to other sites. Not "no-referrer": browsers then send
    # `Origin: null` with the form, which Django's CSRF check rightly refuses.
    response["Referrer-Policy"] = "same-origin"
    return response


def _too_many(request, retry_after: int):
    response = _render(request, "booking/privacy_limited.html", {"minutes": minutes(retry_after)}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@require_http_methods(["GET", "POST"])
def privacy_request(request):
    if request.method == "GET":
        return _render(request, "booking/privacy.html", {"form": PrivacyRequestForm()})
    per_ip, per_email = _limits()
    schema = request.tenant.schema_name
    try:
        ratelimit.take((per_ip, ratelimit.key_of(schema, client_key(request))))
        form = PrivacyRequestForm(request.POST)
        if not form.is_valid():
            return _render(request, "booking/privacy.html", {"form": form}, status=400)
        ratelimit.take((per_email, ratelimit.key_of(schema, form.cleaned_data["email"].strip().lower())))
    except RateLimited as exc:
        return _too_many(request, exc.retry_after)
    services.privacy_request_start(
        tenant=request.tenant, email=form.cleaned_data["email"], kind=form.cleaned_data["kind"]
    )
    # The same answer whatever happened: no hint whether the address is a customer's.
    return redirect("booking:privacy_sent")


@require_GET
def privacy_sent(request):
    return _render(request, "booking/privacy_sent.html")


def _request_or_404(token: str):
    row = services.privacy_request_by_token(token)
    if row is None:
        raise Http404
    return row


@never_cache
@require_http_methods(["GET", "POST"])
def privacy_confirm(request, token: str):
    row = services.privacy_request_by_token(token)
    if row is None:
        return _render(request, "booking/privacy_confirm.html", {"state": "invalid"}, status=404)
    just_confirmed = False
    if request.method == "POST" and row.status == RequestStatus.PENDING:
        # An expired link confirms nothing; the page then says so (state "expired" below).
        with contextlib.suppress(services.RequestLinkExpired):
            just_confirmed = services.privacy_request_verify(request_row=row, ip=client_ip(request))
    if row.status == RequestStatus.PENDING:
        state = "expired" if row.link_expired else "pending"
    else:
        state = "confirmed"
    can_download = (
        row.kind == RequestKind.ACCESS
        and row.status in (RequestStatus.VERIFIED, RequestStatus.COMPLETED)
        and not row.link_expired
    )
    context = {
        "state": state,
        "request_row": row,
        "token": token,
        "just_confirmed": just_confirmed,
        "can_download": can_download,
        "kind_label": RequestKind(row.kind).label,
    }
    status = 410 if state == "expired" else 200
    return _render(request, "booking/privacy_confirm.html", context, status=status)


@never_cache
@require_GET
def privacy_export(request, token: str):
    """The customer's own download of a confirmed access request, while the link is valid."""
    row = _request_or_404(token)
    if row.kind != RequestKind.ACCESS or row.status not in (RequestStatus.VERIFIED, RequestStatus.COMPLETED):
        raise Http404
    if row.link_expired:
        return _render(request, "booking/privacy_confirm.html", {"state": "expired"}, status=410)
    data = services.privacy_request_export(
        request_row=row, actor_label=services.CUSTOMER_ACTOR, ip=client_ip(request)
    )
    services.privacy_request_close(
        request_row=row, outcome=_("Downloaded by the customer through the confirmed link.")
    )
    response = HttpResponse(export_json(data), content_type="application/json; charset=utf-8")
    filename = f"{slugify(_('my data'))}-{slugify(request.tenant.name)}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# Included by booking/urls.py at /book/privacy/ (names in the "booking" namespace).
urlpatterns = [
    path("", privacy_request, name="privacy"),
    path("sent/", privacy_sent, name="privacy_sent"),
    path("<str:token>/", privacy_confirm, name="privacy_confirm"),
    path("<str:token>/export.json", privacy_export, name="privacy_export"),
]
