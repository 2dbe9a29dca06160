"""The staff login's moving parts: the half-done login between password and code, the staff session's
fixed lifetime and failure counters (rate limits).

Counters live in the `platform` cache (Redis, shared by every web process, not keyed by schema). Without
the cache, sign-in still works: wrong codes stay throttled by django-otp on the device row itself.
"""

import contextlib
import logging
import time

from django.conf import settings

from termino.platform.tenancy.models import Tenant
from termino.shared import ratelimit
from termino.shared.urls import site_url

logger = logging.getLogger(__name__)

PENDING_USER = "staffadmin_pending_user"
PENDING_AT = "staffadmin_pending_at"
PENDING_NEXT = "staffadmin_next"
LOGIN_AT = "staffadmin_login_at"


def _setting(name: str, default):
    return getattr(settings, name, default)


def session_seconds() -> int:
    return _setting("STAFFADMIN_SESSION_SECONDS", 8 * 60 * 60)


def is_platform_host(request) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is not None and tenant.schema_name == settings.PUBLIC_SCHEMA_NAME


def staff_session_valid(request) -> bool:
    """A platform staff member, signed in with password and TOTP at /staff/, within the session's time."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not (user.is_active and user.is_staff):
        return False
    if not is_platform_host(request):
        return False
    is_verified = getattr(user, "is_verified", None)
    if is_verified is None or not is_verified():
        return False
    login_at = request.session.get(LOGIN_AT)
    return isinstance(login_at, int | float) and time.time() - login_at < session_seconds()


# --- Between the password and the code ---------------------------------------------------------------


def pending_start(request, user, next_url: str) -> None:
    request.session.cycle_key()  # a new session id once the password is known: no fixation
    request.session[PENDING_USER] = user.pk
    request.session[PENDING_AT] = int(time.time())
    request.session[PENDING_NEXT] = next_url


def pending_user(request):
    """The staff user who gave the right password a moment ago, or None."""
    from django.contrib.auth import get_user_model

    pk, started = request.session.get(PENDING_USER), request.session.get(PENDING_AT)
    if pk is None or not isinstance(started, int):
        return None
    if time.time() - started > _setting("STAFFADMIN_PENDING_SECONDS", 300):
        pending_clear(request)
        return None
    return get_user_model().objects.filter(pk=pk, is_active=True, is_staff=True).first()


def pending_clear(request) -> str:
    """Forget the half-done login; returns where it wanted to go."""
    for key in (PENDING_USER, PENDING_AT):
        request.session.pop(key, None)
    return request.session.pop(PENDING_NEXT, "")


# --- Rate limits -------------------------------------------------------------------------------------


# Failed sign-ins counted in the shared atomic windows (termino.shared.ratelimit), per login name and per
# address, over the lockout period. Without Redis the counters read 0: django-otp's own throttle on the
# device row still slows down wrong codes.


def _limits() -> tuple[ratelimit.Limit, ratelimit.Limit]:
    window = _setting("STAFFADMIN_LOCKOUT_SECONDS", 900)
    return (
        ratelimit.Limit("staff-login-user", _setting("STAFFADMIN_MAX_FAILURES", 5), window, fail_open=True),
        ratelimit.Limit(
            "staff-login-ip", _setting("STAFFADMIN_MAX_FAILURES_PER_IP", 20), window, fail_open=True
        ),
    )


def _keys(username: str, ip: str | None) -> tuple[str, str]:
    return ratelimit.key_of(username.strip().lower()[:150]), ratelimit.key_of(ip or "unknown")


def login_blocked(username: str, ip: str | None) -> bool:
    """Too many failures for this login name or from this address lately."""
    return any(
        ratelimit.count(limit, key) >= limit.limit
        for limit, key in zip(_limits(), _keys(username, ip), strict=True)
    )


def failure_record(username: str, ip: str | None) -> int:
    """Count one failure for the login name and the address; returns the login name's count."""
    for limit, key in zip(_limits(), _keys(username, ip), strict=True):
        with contextlib.suppress(ratelimit.RateLimited):  # already at the limit: blocked either way
            ratelimit.take((limit, key))
    logger.warning("staff login failed for %r from %s", username[:150], ip)
    user_limit, _ip_limit = _limits()
    return ratelimit.count(user_limit, _keys(username, ip)[0])


def failures_clear(username: str) -> None:
    ratelimit.clear(_limits()[0], _keys(username, None)[0])


def lockout_minutes() -> int:
    return max(1, _setting("STAFFADMIN_LOCKOUT_SECONDS", 900) // 60)


# --- Requests ----------------------------------------------------------------------------------------


def model_backend() -> str:
    """The backend that loads users from the database, for sessions this app signs in itself.

    Not simply AUTHENTICATION_BACKENDS[0]: a guard backend (e.g. a lockout one) may come first, and a
    session naming it would load no user.
    """
    wanted = "django.contrib.auth.backends.ModelBackend"
    backends = list(settings.AUTHENTICATION_BACKENDS)
    return wanted if wanted in backends else backends[-1]


def host_url(domain: str | None) -> str:
    """`https://acme.termino.de/` for a host name from a Domain row ("" without one)."""
    return site_url(domain) if domain else ""


def tenant_label(tenant: Tenant) -> str:
    return f"{tenant.name} ({tenant.slug})" if tenant.slug else (tenant.name or tenant.schema_name)
