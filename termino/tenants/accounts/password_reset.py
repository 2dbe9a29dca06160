"""Forgotten passwords: a one-time link by e-mail. The services of the flow, for both kinds of login.

- A business's people (owner, managers, staff) ask at their business's own host; their link is built from
  the business's primary domain and works only in the business's schema (tokens.py).
- Platform staff ask at /staff/ on the platform host (termino/platform/staffadmin/password_reset.py wraps
  these functions); the reset sets the password only, the sign-in still asks for the TOTP code.

The request answers the same for every address, known or not, and does the same work for both: count the
rate limits, record the request in the login audit, queue a task. Only the task, away from the request and
its timing, looks the address up and sends the link (to the address on record, never to what was typed
when the two differ in case). Limits are per client IP and per address (at this business), atomic in Redis.

Completing a reset re-checks the token under a row lock, so two tabs posting the same link set a password
once. Setting the password ends the person's other sessions (deleted here; Django would also refuse them
because their stored password hash no longer matches) and records the reset in the login audit.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from termino.shared import ratelimit
from termino.shared.client_ip import client_ip

from .audit import login_event_record
from .models import LoginOutcome, User
from .services import _sessions_end
from .tokens import reset_tokens

logger = logging.getLogger(__name__)

WINDOW = 60 * 60
ADDRESS_MAX_LENGTH = 254


class ResetLinkInvalid(Exception):
    """The link was used already, was mistyped, belongs to another business, or its account changed."""


def normalise_address(address: str) -> str:
    return (address or "").strip().lower()[:ADDRESS_MAX_LENGTH]


# --- Asking for a link ---------------------------------------------------------------------------------


def reset_limits() -> tuple[ratelimit.Limit, ratelimit.Limit]:
    """(per client IP, per address): hourly, read from the settings on each use (tests change them)."""
    return (
        ratelimit.Limit("password-reset-ip", int(settings.PASSWORD_RESET_PER_IP), WINDOW),
        ratelimit.Limit("password-reset-address", int(settings.PASSWORD_RESET_PER_ADDRESS), WINDOW),
    )


def reset_request(*, request, address: str, enqueue) -> None:
    """Count, record and queue one request for a link; raises ratelimit.RateLimited when over a limit.

    `enqueue(address)` hands the address to the task that looks it up and mails the link; it runs once the
    audit row is committed. Nothing here depends on whether the address belongs to anyone.
    """
    address = normalise_address(address)
    per_ip, per_address = reset_limits()
    ip = client_ip(request)
    ratelimit.take(
        # Every client IP is counted (one without a usable address shares the "unknown" bucket).
        (per_ip, ratelimit.key_of(ip or "unknown")),
        (per_address, ratelimit.key_of(connection.schema_name, address)),
    )
    with transaction.atomic():
        login_event_record(request=request, username=address, outcome=LoginOutcome.RESET_REQUESTED)
        transaction.on_commit(lambda: enqueue(address))


# --- The task's part: find the person, make the link, send it -------------------------------------------


def reset_users(address: str, *, staff_only: bool = False) -> list[User]:
    """The active logins with this address (as login name or e-mail) in the current schema that may log
    in with a password; with `staff_only`, platform staff only."""
    address = normalise_address(address)
    if not address or "@" not in address:
        return []
    users = User.objects.filter(Q(username__iexact=address) | Q(email__iexact=address), is_active=True)
    if staff_only:
        users = users.filter(is_staff=True)
    return [user for user in users.order_by("pk") if user.has_usable_password() and mail_address(user)]


def mail_address(user: User) -> str:
    """Where a person's link goes: the e-mail address on record (login names are addresses too)."""
    if user.email:
        return user.email
    return user.username if "@" in user.username else ""


def reset_path(*, user: User, url_name: str, urlconf: str | None = None) -> str:
    """The path of a fresh link for `user` (a token of the current schema)."""
    kwargs = {"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": reset_tokens.make_token(user)}
    return reverse(url_name, kwargs=kwargs, urlconf=urlconf)


def reset_mail_send(*, user: User, url: str, place: str, language: str) -> None:
    """The e-mail with the link, in the person's language (or the one the request was made in)."""
    with translation.override(user.language or language or settings.LANGUAGE_CODE):
        context = {
            "name": user.get_full_name() or user.get_username(),
            "login": user.get_username(),
            "place": place,
            "url": url,
            "minutes": max(1, int(settings.PASSWORD_RESET_TIMEOUT) // 60),
        }
        subject = " ".join(render_to_string("accounts/email/password_reset_subject.txt", context).split())
        body = render_to_string("accounts/email/password_reset_body.txt", context)
    EmailMessage(subject=subject, body=body, to=[mail_address(user)]).send()


# --- Setting the new password ----------------------------------------------------------------------------


def reset_user_for_link(uidb64: str, *, staff_only: bool = False) -> User | None:
    """The person a link names (None for a broken id); whether the token fits is checked separately."""
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    users = User.objects.filter(pk=pk, is_active=True)
    if staff_only:
        users = users.filter(is_staff=True)
    return users.first()


@transaction.atomic
def reset_complete(*, request, user_pk: int, token: str, password: str, staff_only: bool = False) -> User:
    """Set the password a valid link allows (checked by the caller's form against the validators).

    Locks the person's row and checks the token again, so the same link cannot set a password twice even
    from two tabs at once. Ends their sessions and records the reset. Raises ResetLinkInvalid.
    """
    users = User.objects.select_for_update().filter(pk=user_pk, is_active=True)
    if staff_only:
        users = users.filter(is_staff=True)
    user = users.first()
    if user is None or not reset_tokens.check_token(user, token):
        raise ResetLinkInvalid
    user.set_password(password)
    user.save(update_fields=["password"])
    _sessions_end(user)
    login_event_record(
        request=request, username=user.get_username(), user=user, outcome=LoginOutcome.PASSWORD_RESET
    )
    return user
