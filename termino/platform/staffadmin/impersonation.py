"""The session of a staff member signed in as a business user: its keys, how it starts and how it ends.

Runs at the business's host, in its schema. The session records who is really acting (`impersonated_by`)
and until when (`impersonation_ends`, Unix seconds); the middleware ends it on time.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, logout
from django.middleware.csrf import rotate_token
from django.urls import NoReverseMatch, reverse

from termino.shared.client_ip import client_ip
from termino.shared.urls import platform_url

from .models import ImpersonationGrant
from .security import model_backend
from .services import impersonation_end

IMPERSONATED_BY = "impersonated_by"
IMPERSONATED_BY_NAME = "impersonated_by_name"
IMPERSONATION_ENDS = "impersonation_ends"
IMPERSONATION_GRANT = "impersonation_grant"
# The session row itself outlives the end by this much, so the middleware (not a silent expiry) ends it
# and says so; without the middleware it is still the hard limit.
SESSION_SLACK = timedelta(minutes=5)


def start(request, *, user, grant: ImpersonationGrant) -> None:
    """Sign in as `user` for the grant's time.

    Like django.contrib.auth.login, minus the `user_logged_in` signal: this is not the user signing in,
    so their last login (what the business and the staff list see) stays as it was.
    """
    request.session.flush()  # a fresh session: nothing of whoever was signed in before survives
    request.session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    request.session[BACKEND_SESSION_KEY] = model_backend()
    request.session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    request.session[IMPERSONATED_BY] = grant.staff_username
    request.session[IMPERSONATED_BY_NAME] = grant.staff_name
    request.session[IMPERSONATION_ENDS] = int(grant.ends_at.timestamp())
    request.session[IMPERSONATION_GRANT] = grant.pk
    request.session.set_expiry(grant.ends_at + SESSION_SLACK)
    request.user = user
    rotate_token(request)


def over(request) -> str:
    """Why the running impersonation must end now ("expired", "ended"), or "" while it may go on."""
    ends = request.session.get(IMPERSONATION_ENDS)
    if not isinstance(ends, int) or time.time() >= ends:
        return "expired"
    tenant = getattr(request, "tenant", None)
    still_on = ImpersonationGrant.objects.filter(
        pk=request.session.get(IMPERSONATION_GRANT),
        tenant_id=getattr(tenant, "pk", None),
        used_at__isnull=False,
        ended_at__isnull=True,
    ).exists()
    return "" if still_on else "ended"


def finish(request, *, why: str) -> str:
    """End the impersonation (audit entry, grant closed, signed out); returns the staff admin's page of
    the business to go back to."""
    grant_id = request.session.get(IMPERSONATION_GRANT)
    if isinstance(grant_id, int):
        impersonation_end(grant_id=grant_id, why=why, ip=client_ip(request))
    logout(request)
    tenant = getattr(request, "tenant", None)
    try:
        path = reverse("staffadmin:business", urlconf=settings.PUBLIC_SCHEMA_URLCONF, args=[tenant.pk])
    except (NoReverseMatch, AttributeError):
        path = "/staff/"
    return platform_url(path)


@dataclass(frozen=True)
class Banner:
    staff_name: str
    user_name: str
    ends: datetime
    end_url: str


def banner(request) -> Banner | None:
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    if session is None or IMPERSONATED_BY not in session or user is None or not user.is_authenticated:
        return None
    ends = session.get(IMPERSONATION_ENDS)
    if not isinstance(ends, int):
        return None
    try:
        end_url = reverse("staff_login:end")
    except NoReverseMatch:
        end_url = "/staff-login/end/"
    return Banner(
        staff_name=session.get(IMPERSONATED_BY_NAME) or session[IMPERSONATED_BY],
        user_name=user.get_full_name().strip() or user.get_username(),
        ends=datetime.fromtimestamp(ends, tz=UTC),
        end_url=end_url,
    )
