"""Login audit: every login, failed login, lockout and logout, recorded in the schema it happened in.

A business's staff log in at its own host, so their events land in the business's schema; platform
staff log in on the platform's host and theirs land in `public`. The signal receivers in `signals.py`
record what Django and django-axes report; a login view that decides a login by other means (the staff
admin's TOTP step, for one) calls `login_event_record` itself.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from termino.shared.client_ip import client_ip, ip_prefix_label

from .models import LoginEvent, LoginOutcome

# Set on the request once its attempt is recorded, so the signals of one attempt make one event.
REQUEST_EVENT_ATTRIBUTE = "_termino_login_event"


def login_ip_days() -> int:
    """How many days the full IP address of a login is kept (then only its network)."""
    return int(getattr(settings, "LOGIN_IP_DAYS", 7))


def login_ip_cutoff(*, now: datetime | None = None) -> datetime:
    """Events older than this keep only their truncated address."""
    return (now or timezone.now()) - timedelta(days=login_ip_days())


def login_event_record(*, request, username: str, user=None, outcome: str) -> LoginEvent:
    """Record one login attempt (or logout) with the client's IP address and browser.

    `user` may be None for a failed attempt: the login name is then looked up (without case), so the
    owner sees whose account someone tried; an unknown name stays a name only.
    """
    if outcome not in LoginOutcome.values:
        raise ValueError(f"unknown login outcome {outcome!r}")
    username = (username or (user.get_username() if user is not None else "")).strip()[:150]
    if user is None and username:
        user = get_user_model().objects.filter(username__iexact=username).first()
    meta = getattr(request, "META", {}) if request is not None else {}
    event = LoginEvent.objects.create(
        user=user,
        username=username,
        ip_address=client_ip(request) if request is not None else None,
        user_agent=(meta.get("HTTP_USER_AGENT") or "")[: LoginEvent.USER_AGENT_LENGTH],
        outcome=outcome,
    )
    if request is not None:
        setattr(request, REQUEST_EVENT_ATTRIBUTE, event)
    return event


def login_event_of_request(request) -> LoginEvent | None:
    return getattr(request, REQUEST_EVENT_ATTRIBUTE, None) if request is not None else None


# --- Reading -----------------------------------------------------------------------------------------


def login_event_list(*, outcome: str = "") -> QuerySet[LoginEvent]:
    """This schema's login events, newest first, optionally of one outcome."""
    events = LoginEvent.objects.select_related("user").order_by("-created_at", "-id")
    if outcome:
        events = events.filter(outcome=outcome)
    return events


def login_event_ip_display(event: LoginEvent, *, cutoff: datetime | None = None) -> tuple[str, bool]:
    """(address to show, whether it is the full one). The full address is shown only while it is kept;
    older events show their network even before the nightly truncation has reached them."""
    if not event.ip_address:
        return "", False
    if event.ip_truncated or event.created_at < (cutoff or login_ip_cutoff()):
        return ip_prefix_label(event.ip_address), False
    return event.ip_address, True
