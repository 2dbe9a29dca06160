"""The owner confirms the business's e-mail address (the one given at signup) through an e-mailed link.

The link is signed (SECRET_KEY with its own salt) and names the business and the address it was sent to.
It works only at that business's own host (the link of business A opened at B's host is refused), only
while the business still has that address, for SIGNUP_CONFIRM_LINK_DAYS, and once: afterwards it only
says that the address is confirmed. The page behind the link confirms with a POST (a button), so mail
scanners that open every link confirm nothing.

Until the address is confirmed the booking page takes no bookings and no SMS go out; the backoffice works,
with a banner that can send the link again (rate limited per business). Trial businesses still
unconfirmed SIGNUP_UNCONFIRMED_REMOVE_DAYS after signup are removed by a periodic task, schema and all;
the owner is warned by e-mail a day before, and both are written to the platform log (PlatformEvent).
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from termino.shared import ratelimit, timeutils
from termino.shared.errors import InvalidRequest

from .models import PlatformEvent, PlatformEventKind, Tenant, TenantStatus
from .routing import primary_url
from .services import tenant_delete

logger = logging.getLogger(__name__)

SALT = "termino.tenancy.email-confirm"
MAX_TOKEN_LENGTH = 300


class LinkState(StrEnum):
    VALID = "valid"  # confirms the address when posted
    CONFIRMED = "confirmed"  # the address is confirmed already (this link or another one was used)
    EXPIRED = "expired"
    # Not signed by us, another business's, or sent to an address the business no longer has.
    INVALID = "invalid"


def _address_digest(email: str) -> str:
    # The link carries no address in clear text, only enough to notice that the address has changed.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def link_valid_for() -> timedelta:
    return timedelta(days=settings.SIGNUP_CONFIRM_LINK_DAYS)


def removal_at(tenant: Tenant) -> datetime:
    """When an unconfirmed business is removed (the hourly task does it within the hour after)."""
    signed_up = tenant.activated_at or tenant.created_at
    return timeutils.shift(signed_up, days=settings.SIGNUP_UNCONFIRMED_REMOVE_DAYS)


# --- The link ---------------------------------------------------------------------------------------------


def confirmation_token(*, tenant: Tenant) -> str:
    payload = {"t": tenant.pk, "e": _address_digest(tenant.email), "i": int(timeutils.now().timestamp())}
    return signing.Signer(salt=SALT).sign_object(payload)


def confirmation_url(*, tenant: Tenant) -> str:
    """The absolute link at the business's own host (built from its Domain row, never a Host header)."""
    token = confirmation_token(tenant=tenant)
    path = reverse("email_confirm:confirm", kwargs={"token": token}, urlconf=settings.ROOT_URLCONF)
    return primary_url(tenant, path)


def _state(token: str, row: Tenant) -> LinkState:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return LinkState.INVALID
    try:
        data = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return LinkState.INVALID
    if not isinstance(data, dict) or data.get("t") != row.pk or not isinstance(data.get("i"), int):
        return LinkState.INVALID
    if data.get("e") != _address_digest(row.email):
        return LinkState.INVALID
    if row.email_confirmed_at is not None:
        return LinkState.CONFIRMED
    issued = datetime.fromtimestamp(data["i"], UTC)
    if timeutils.elapsed(issued, timeutils.now()) > link_valid_for():
        return LinkState.EXPIRED
    return LinkState.VALID


def confirmation_link_state(*, tenant: Tenant, token: str) -> LinkState:
    """What the link would do at this business (read from the row, not from the routing cache's copy)."""
    row = Tenant.objects.filter(pk=tenant.pk).first()
    return LinkState.INVALID if row is None else _state(token, row)


@transaction.atomic
def tenant_email_confirm(*, tenant: Tenant, token: str) -> LinkState:
    """Confirm the address if `token` is a valid link of `tenant`; returns the link's state before.

    The row is locked, so the link confirms once however often it is posted at the same moment, and the
    removal of unconfirmed businesses (which locks the row too) either sees it confirmed or removes it first.
    Saving makes the routing cache forget the business's hosts (signals), so the next request sees it.
    """
    row = Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    if row is None:
        return LinkState.INVALID
    state = _state(token, row)
    if state == LinkState.VALID:
        row.email_confirmed_at = timeutils.now()
        row.save(update_fields=["email_confirmed_at"])
        tenant.email_confirmed_at = row.email_confirmed_at
        logger.info("business %s confirmed its e-mail address", row.schema_name)
    return state


# --- The e-mails ------------------------------------------------------------------------------------------


def confirmation_mail_send(*, tenant: Tenant, warning: bool = False) -> None:
    """The link to the business's address, in the business's language. Raises when the mail cannot go out.

    `warning`: the reminder a day before an unconfirmed business is removed.
    """
    # Dates in the business's time zone: the template's date filter shows them in the active one.
    with translation.override(tenant.language or settings.LANGUAGE_CODE), timezone.override(tenant.time_zone):
        context = {
            "owner_name": tenant.owner_name,
            "business": tenant.name,
            "url": confirmation_url(tenant=tenant),
            "valid_until": timeutils.shift(timeutils.now(), link_valid_for()),
            "removal_at": removal_at(tenant),
            "booking_url": primary_url(tenant, "/book/"),
        }
        name = "removal_warning" if warning else "confirm"
        subject = " ".join(render_to_string(f"tenancy/email/{name}_subject.txt", context).split())
        body = render_to_string(f"tenancy/email/{name}_body.txt", context)
    EmailMessage(subject=subject, body=body, to=[tenant.email]).send()


def signup_mail_send(*, tenant: Tenant) -> bool:
    """The first link, right after signup. Never fails the signup: the banner can send it again."""
    try:
        confirmation_mail_send(tenant=tenant)
    except Exception:  # SMTP and network errors alike
        logger.warning("confirmation mail for %s could not be sent", tenant.schema_name, exc_info=True)
        return False
    return True


def resend_limits() -> tuple[ratelimit.Limit, ratelimit.Limit]:
    return (
        ratelimit.Limit("confirm-resend-hour", settings.SIGNUP_CONFIRM_RESENDS_PER_HOUR, 3600),
        ratelimit.Limit("confirm-resend-day", settings.SIGNUP_CONFIRM_RESENDS_PER_DAY, 86400),
    )


def confirmation_resend(*, tenant: Tenant) -> bool:
    """Send the link again (the backoffice banner). False when the address is confirmed already.

    Limited per business (SIGNUP_CONFIRM_RESENDS_PER_*): raises ratelimit.RateLimited with `retry_after`.
    A mail that could not be sent does not count, and raises InvalidRequest.
    """
    row = Tenant.objects.get(pk=tenant.pk)
    if row.email_confirmed_at is not None:
        return False
    hour, day = resend_limits()
    reservation = ratelimit.take((hour, str(row.pk)), (day, str(row.pk)))
    try:
        confirmation_mail_send(tenant=row)
    except Exception as exc:
        reservation.release()
        logger.warning("confirmation mail for %s could not be sent", row.schema_name, exc_info=True)
        raise InvalidRequest(_("The e-mail could not be sent. Please try again in a few minutes.")) from exc
    return True


# --- Removing unconfirmed businesses ----------------------------------------------------------------------


@dataclass
class CleanupResult:
    warned: list[str]
    removed: list[str]


def _unconfirmed_trials():
    return Tenant.objects.filter(
        status=TenantStatus.TRIAL, email_confirmed_at__isnull=True, slug__isnull=False
    )


def _log(kind: str, row: Tenant, reason: str, **details) -> PlatformEvent:
    return PlatformEvent.objects.create(
        kind=kind,
        tenant_id=row.pk,
        slug=row.slug or "",
        schema_name=row.schema_name,
        tenant_label=f"{row.name} ({row.slug})"[:250],
        reason=reason,
        details=details,
    )


def _remove_one(pk: int, cutoff: datetime, days: int) -> str | None:
    with transaction.atomic():
        # Skip a row someone holds (an owner confirming right now): the next run looks at it again.
        row = (
            _unconfirmed_trials()
            .select_for_update(skip_locked=True)
            .filter(pk=pk, activated_at__lte=cutoff)
            .first()
        )
        if row is None:
            return None
        _log(
            PlatformEventKind.UNCONFIRMED_REMOVED,
            row,
            f"The e-mail address was not confirmed within {days} days of signup.",
            signed_up_at=row.activated_at.isoformat(),
            warned_at=row.removal_warned_at.isoformat() if row.removal_warned_at else None,
        )
        # Schema, domains, billing account and row go in this same transaction, with the log entry.
        tenant_delete(tenant=row)
    logger.info("removed business %s: e-mail address not confirmed within %d days", row.schema_name, days)
    return row.schema_name


def _warn_one(pk: int, cutoff: datetime) -> str | None:
    with transaction.atomic():
        row = (
            _unconfirmed_trials()
            .select_for_update(skip_locked=True)
            .filter(pk=pk, activated_at__lte=cutoff, removal_warned_at__isnull=True)
            .first()
        )
        if row is None:
            return None
        try:
            confirmation_mail_send(tenant=row, warning=True)
        except Exception:  # not marked: the next run tries again
            logger.warning("removal warning for %s could not be sent", row.schema_name, exc_info=True)
            return None
        row.removal_warned_at = timeutils.now()
        row.save(update_fields=["removal_warned_at"])
        _log(
            PlatformEventKind.REMOVAL_WARNED,
            row,
            "The owner was told by e-mail that the business is removed unless the address is confirmed.",
            removal_at=removal_at(row).isoformat(),
        )
    return row.schema_name


def unconfirmed_cleanup(*, now: datetime | None = None) -> CleanupResult:
    """Remove trial businesses unconfirmed SIGNUP_UNCONFIRMED_REMOVE_DAYS after signup; warn those a day
    from it. Confirmed businesses, paying ones (not `trial`) and pool spares are never touched."""
    now = now or timeutils.now()
    days = settings.SIGNUP_UNCONFIRMED_REMOVE_DAYS
    remove_cutoff = timeutils.shift(now, days=-days)
    removed = [
        name
        for pk in _unconfirmed_trials().filter(activated_at__lte=remove_cutoff).values_list("pk", flat=True)
        if (name := _remove_one(pk, remove_cutoff, days))
    ]
    warned = []
    if days > 1:
        warn_cutoff = timeutils.shift(now, days=-(days - 1))
        due = _unconfirmed_trials().filter(activated_at__lte=warn_cutoff, removal_warned_at__isnull=True)
        warned = [name for pk in due.values_list("pk", flat=True) if (name := _warn_one(pk, warn_cutoff))]
    return CleanupResult(warned=warned, removed=removed)
