"""Writes of the staff admin. Each action on a business runs in one transaction with its audit entry:
either both happen or neither does. Billing's services do the status work; Tenant.status is never
written here.
"""

import base64
import logging
import secrets
from datetime import timedelta
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from termino.platform.billing import services as billing_services
from termino.platform.billing.models import BillingAccount
from termino.platform.tenancy.models import Tenant, TenantStatus
from termino.shared.errors import InvalidRequest

from .models import ActionKind, ImpersonationGrant, SmsLock, StaffAction
from .security import tenant_label

logger = logging.getLogger(__name__)
S = TenantStatus


def staff_action_record(
    *,
    staff,
    action: str,
    tenant: Tenant | None = None,
    reason: str = "",
    details: dict | None = None,
    ip: str | None = None,
    staff_username: str | None = None,
) -> StaffAction:
    """Append one entry to the audit log. `staff` may be a user or, in tenant context, a user id."""
    staff_id = staff if isinstance(staff, int) else staff.pk
    return StaffAction.objects.create(
        staff_id=staff_id,
        staff_username=staff_username or staff.get_username(),
        action=action,
        tenant_id=tenant.pk if tenant else None,
        tenant_label=tenant_label(tenant) if tenant else "",
        reason=reason,
        details=details or {},
        ip=ip,
    )


def _status_of(tenant: Tenant) -> str:
    return Tenant.objects.values_list("status", flat=True).get(pk=tenant.pk)


def _account(tenant: Tenant) -> BillingAccount:
    account = BillingAccount.objects.filter(tenant_id=tenant.pk).first()
    if account is None:
        raise InvalidRequest(_("This business has no billing account, so its status cannot be changed here."))
    return account


# --- Status ------------------------------------------------------------------------------------------


@transaction.atomic
def business_suspend(*, staff, tenant: Tenant, reason: str, ip: str | None = None) -> StaffAction:
    """Suspend a business (abuse, fraud): it stays suspended whatever Stripe reports, until reactivated."""
    before = _status_of(tenant)
    if _account(tenant).held_by_staff:
        raise InvalidRequest(_("This business is already suspended by platform staff."))
    try:
        billing_services.billing_staff_suspend(tenant=tenant, reason=reason)
    except billing_services.StatusChangeNotAllowed as exc:
        raise InvalidRequest(_("This business cannot be suspended in its current status.")) from exc
    return staff_action_record(
        staff=staff,
        action=ActionKind.SUSPEND,
        tenant=tenant,
        reason=reason,
        details={"old_status": before, "new_status": _status_of(tenant)},
        ip=ip,
    )


@transaction.atomic
def business_reactivate(*, staff, tenant: Tenant, reason: str, ip: str | None = None) -> StaffAction:
    """Lift a suspension. The business gets the status its subscription and trial give it: one whose trial
    is over without a subscription stays suspended (extend the trial to open it)."""
    before = _status_of(tenant)
    account = _account(tenant)
    if before != S.SUSPENDED and not account.held_by_staff:
        raise InvalidRequest(_("This business is not suspended."))
    target = billing_services.billing_staff_reactivate(tenant=tenant, reason=reason)
    return staff_action_record(
        staff=staff,
        action=ActionKind.REACTIVATE,
        tenant=tenant,
        reason=reason,
        details={"old_status": before, "new_status": _status_of(tenant), "status_by_billing": target},
        ip=ip,
    )


@transaction.atomic
def business_trial_extend(
    *, staff, tenant: Tenant, days: int, reason: str, ip: str | None = None
) -> StaffAction:
    """More trial days; a business suspended because its trial ended is opened again."""
    before_status = _status_of(tenant)
    before_end = _account(tenant).trial_ends_at
    account = billing_services.billing_trial_extend(
        tenant=tenant, days=days, reason=f"platform staff: {reason}"
    )
    return staff_action_record(
        staff=staff,
        action=ActionKind.TRIAL_EXTEND,
        tenant=tenant,
        reason=reason,
        details={
            "days": days,
            "trial_ends_before": before_end.isoformat(),
            "trial_ends": account.trial_ends_at.isoformat(),
            "old_status": before_status,
            "new_status": _status_of(tenant),
        },
        ip=ip,
    )


# --- SMS ---------------------------------------------------------------------------------------------


@transaction.atomic
def sms_lock(*, staff, tenant: Tenant, reason: str, ip: str | None = None) -> StaffAction:
    """Stop the business's SMS (abuse); the outbox skips them with a reason until unlocked."""
    try:
        with transaction.atomic():
            SmsLock.objects.create(tenant=tenant, reason=reason, locked_by=staff)
    except IntegrityError as exc:
        raise InvalidRequest(_("SMS of this business are locked already.")) from exc
    return staff_action_record(staff=staff, action=ActionKind.SMS_LOCK, tenant=tenant, reason=reason, ip=ip)


@transaction.atomic
def sms_unlock(*, staff, tenant: Tenant, reason: str, ip: str | None = None) -> StaffAction:
    lock = SmsLock.objects.select_for_update().filter(tenant_id=tenant.pk).first()
    if lock is None:
        raise InvalidRequest(_("SMS of this business are not locked."))
    details = {
        "locked_at": lock.created_at.isoformat(),
        "locked_by_id": lock.locked_by_id,
        "lock_reason": lock.reason,
    }
    lock.delete()
    return staff_action_record(
        staff=staff, action=ActionKind.SMS_UNLOCK, tenant=tenant, reason=reason, details=details, ip=ip
    )


# --- Impersonation -----------------------------------------------------------------------------------


class GrantNotFound(Exception):
    """No such link for this business's host (or none at all)."""


class GrantGone(Exception):
    """The link was used, has expired, was ended, or its user no longer exists."""


def _display_name(user) -> str:
    return user.get_full_name().strip() or user.get_username()


@transaction.atomic
def impersonation_grant_create(
    *, staff, tenant: Tenant, target_user_id: int, reason: str, ip: str | None = None
) -> tuple[ImpersonationGrant, str]:
    """A one-time link to sign in as a business user. Returns the grant and the token (never stored)."""
    if tenant.status in (S.PREPARING, S.SPARE) or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        raise InvalidRequest(_("This is not a business."))
    with schema_context(tenant.schema_name):
        target = get_user_model().objects.filter(pk=target_user_id, is_active=True).first()
    if target is None:
        raise InvalidRequest(_("This user does not exist or is deactivated."))
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    grant = ImpersonationGrant.objects.create(
        token_hash=ImpersonationGrant.hash_token(token),
        staff=staff,
        staff_username=staff.get_username(),
        staff_name=_display_name(staff),
        tenant=tenant,
        target_user_id=target.pk,
        target_username=target.get_username(),
        reason=reason,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.STAFFADMIN_IMPERSONATION_GRANT_SECONDS),
    )
    staff_action_record(
        staff=staff,
        action=ActionKind.IMPERSONATE,
        tenant=tenant,
        reason=reason,
        details={
            "grant": grant.pk,
            "user_id": target.pk,
            "username": target.get_username(),
            "role": target.role,
        },
        ip=ip,
    )
    return grant, token


@transaction.atomic
def impersonation_grant_redeem(*, token: str, tenant: Tenant, ip: str | None = None):
    """Use a link once, at the business's own host (the current schema is the business's).

    Returns (grant, user). Raises GrantNotFound for an unknown token or another business's token (without
    telling which), GrantGone for a used, expired or ended one.
    """
    grant = ImpersonationGrant.objects.filter(token_hash=ImpersonationGrant.hash_token(token)).first()
    if grant is None or grant.tenant_id != tenant.pk:
        raise GrantNotFound
    now = timezone.now()
    if grant.used_at or grant.ended_at or grant.expires_at <= now:
        raise GrantGone
    user = get_user_model().objects.filter(pk=grant.target_user_id, is_active=True).first()
    if user is None:
        raise GrantGone
    ends = now + timedelta(minutes=settings.STAFFADMIN_IMPERSONATION_MINUTES)
    # The conditional update is the one-time guard: of two redemptions racing, exactly one changes the row.
    taken = ImpersonationGrant.objects.filter(
        pk=grant.pk, used_at__isnull=True, ended_at__isnull=True, expires_at__gt=now
    ).update(used_at=now, ends_at=ends)
    if taken != 1:
        raise GrantGone
    grant.used_at, grant.ends_at = now, ends
    staff_action_record(
        staff=grant.staff_id,  # an id: in tenant context the user model's table is the business's
        staff_username=grant.staff_username,
        action=ActionKind.IMPERSONATION_START,
        tenant=tenant,
        reason=grant.reason,
        details={
            "grant": grant.pk,
            "user_id": user.pk,
            "username": user.get_username(),
            "ends": ends.isoformat(),
        },
        ip=ip,
    )
    return grant, user


@transaction.atomic
def impersonation_end(*, grant_id: int, why: str, ip: str | None = None) -> bool:
    """End a grant (its session, or the unused link). Idempotent: returns False when it had ended."""
    grant = ImpersonationGrant.objects.select_for_update().filter(pk=grant_id).first()
    if grant is None or grant.ended_at is not None:
        return False
    now = timezone.now()
    ImpersonationGrant.objects.filter(pk=grant.pk).update(ended_at=now)
    tenant = Tenant.objects.filter(pk=grant.tenant_id).first()
    staff_action_record(
        staff=grant.staff_id,
        staff_username=grant.staff_username,
        action=ActionKind.IMPERSONATION_END,
        tenant=tenant,
        details={"grant": grant.pk, "username": grant.target_username, "why": why},
        ip=ip,
    )
    return True


# --- Two-factor enrolment ----------------------------------------------------------------------------


def totp_device_for_enrolment(*, user) -> TOTPDevice:
    """The unconfirmed device a staff member is setting up (the same secret until confirmed)."""
    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)
    return device


def totp_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed: base32, without padding."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def totp_config_url(device: TOTPDevice, user) -> str:
    issuer = settings.STAFFADMIN_TOTP_ISSUER.replace(":", "")
    label = f"{issuer}:{user.get_username()}"
    params = urlencode(
        {
            "secret": totp_secret(device),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        }
    )
    return f"otpauth://totp/{quote(label)}?{params}"


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, ip: str | None = None) -> None:
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    device.confirmed = True
    # Any other half-set-up device is void now.
    TOTPDevice.objects.filter(user_id=device.user_id, confirmed=False).exclude(pk=device.pk).delete()
    staff_action_record(
        staff=device.user, action=ActionKind.OTP_ENROLLED, details={"device": device.pk}, ip=ip
    )


# --- Forgotten password ------------------------------------------------------------------------------
# The flow is accounts' (termino/tenants/accounts/password_reset.py); here: staff accounts only, the link on
# the platform host, and both steps in the staff audit log. The reset sets the password and nothing else:
# the TOTP device stays, so signing in afterwards asks for the code as always.


def staff_password_reset_mail_send(*, address: str, ip: str | None = None, language: str = "") -> int:
    """Mail a link to each active staff account with this address (usually none or one); in `public`."""
    from termino.shared.urls import platform_url
    from termino.tenants.accounts import password_reset

    sent = 0
    for user in password_reset.reset_users(address or "", staff_only=True):
        staff_action_record(staff=user, action=ActionKind.PASSWORD_RESET_REQUESTED, ip=ip)
        path = password_reset.reset_path(
            user=user, url_name="staffadmin:password_reset_confirm", urlconf=settings.PUBLIC_SCHEMA_URLCONF
        )
        try:
            password_reset.reset_mail_send(
                user=user,
                url=platform_url(path),
                place=gettext_lazy("Termino platform staff"),
                language=language,
            )
        except Exception:  # SMTP and network alike: the person can ask again
            logger.warning("password reset mail for staff user %s failed", user.pk, exc_info=True)
            continue
        sent += 1
    return sent


@transaction.atomic
def staff_password_reset_complete(*, request, user_pk: int, token: str, password: str):
    """Set a staff member's new password through a valid link (accounts' rules), and log it here too."""
    from termino.shared.client_ip import client_ip
    from termino.tenants.accounts import password_reset

    user = password_reset.reset_complete(
        request=request, user_pk=user_pk, token=token, password=password, staff_only=True
    )
    staff_action_record(staff=user, action=ActionKind.PASSWORD_RESET, ip=client_ip(request))
    return user
