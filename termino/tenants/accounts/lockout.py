"""How django-axes locks out repeated failed logins here.

- Lock by login name *and* client IP (AXES_LOCKOUT_PARAMETERS), for AXES_COOLOFF_TIME: never a lock
  that only an admin lifts, and a stranger elsewhere cannot lock a person out.
- The client IP comes from termino.shared.client_ip (NUM_PROXIES deep), so X-Forwarded-For cannot be
  forged to dodge the counter.
- axes is a shared app: its counters live in one table in `public`. Each business is its own set of
  logins, so the name axes counts under carries the schema (`acme:anna@example.com`): the same e-mail
  address at two businesses never shares a counter. Names are compared without case, as logins are.
"""

import math
from datetime import timedelta

from django.db import connection
from django.db.models import Max
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

from termino.shared.client_ip import client_ip

SEPARATOR = ":"


def _schema(request) -> str:
    tenant = getattr(request, "tenant", None) if request is not None else None
    return getattr(tenant, "schema_name", None) or connection.schema_name


def axes_username(request, credentials=None) -> str:
    """AXES_USERNAME_CALLABLE: the login name tried, prefixed with the schema it was tried in."""
    name = None
    if credentials:
        name = credentials.get("username")
    if name is None and request is not None:
        data = getattr(request, "data", None)
        if data is None:
            data = getattr(request, "POST", {})
        name = data.get("username") if hasattr(data, "get") else None
    return f"{_schema(request)}{SEPARATOR}{str(name or '').strip().lower()[:200]}"


def axes_username_plain(request, axes_name: str) -> str:
    """The login name without the schema prefix `axes_username` added."""
    prefix = f"{_schema(request)}{SEPARATOR}"
    return axes_name[len(prefix) :] if axes_name and axes_name.startswith(prefix) else (axes_name or "")


def axes_client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE."""
    return client_ip(request)


def lockout_ends_at(request, credentials=None):
    """When this login name may be tried again from this address: the cool-off after the last
    counted failure (failures while locked out are not counted, so this time does not move)."""
    from axes.helpers import get_client_username, get_cool_off
    from axes.models import AccessAttempt

    cool_off = get_cool_off(request) or timedelta(minutes=15)
    ip = getattr(request, "axes_ip_address", None) or client_ip(request)
    latest = AccessAttempt.objects.filter(
        username=get_client_username(request, credentials), ip_address=ip
    ).aggregate(latest=Max("attempt_time"))["latest"]
    return (latest or timezone.now()) + cool_off


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: a clear page (or JSON for API clients) saying when to try again, 429."""
    retry_at = lockout_ends_at(request, credentials)
    seconds = max(1, math.ceil((retry_at - timezone.now()).total_seconds()))
    minutes = max(1, math.ceil(seconds / 60))
    wants_json = request.path.startswith("/api/") or request.headers.get("X-Requested-With") == (
        "XMLHttpRequest"
    )
    if wants_json:
        response = JsonResponse(
            {
                "detail": ngettext(
                    "Too many failed logins. Please try again in %(minutes)d minute.",
                    "Too many failed logins. Please try again in %(minutes)d minutes.",
                    minutes,
                )
                % {"minutes": minutes}
            },
            status=429,
        )
    else:
        response = render(
            request,
            "accounts/locked_out.html",
            {"retry_at": retry_at, "minutes": minutes},
            status=429,
        )
    response["Retry-After"] = str(seconds)
    return response


def lockout_counters_purge(*, now=None) -> int:
    """Delete axes' failure counters whose cool-off is over (they hold login names and full IPs).

    axes deletes them itself at the next login attempt anywhere; this is for the nightly clean-up, so
    none outlives its purpose on a quiet installation. Runs against `public`, where the table lives.
    """
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt

    threshold = (now or timezone.now()) - (get_cool_off() or timedelta(minutes=15))
    deleted, _ = AccessAttempt.objects.filter(attempt_time__lt=threshold).delete()
    return deleted
