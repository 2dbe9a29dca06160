"""What platform staff did (append-only), SMS locks, and one-time impersonation grants. Public schema.

Careful in tenant context (the impersonation views run at a business's host, search_path `<tenant>,
public`): a foreign key to the user model would be followed into the *tenant's* accounts_user table.
So staff users are only ever referenced by id there, and the rows carry what pages need (login name,
display name, business label) as plain text.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class ActionKind(models.TextChoices):
    LOGIN = "login", _("Signed in")
    OTP_FAILED = "otp_failed", _("Wrong two-factor code")
    OTP_ENROLLED = "otp_enrolled", _("Authenticator app set up")
    PASSWORD_RESET_REQUESTED = "reset_requested", _("New password requested")
    PASSWORD_RESET = "password_reset", _("Password reset")
    SUSPEND = "suspend", _("Suspended")
    REACTIVATE = "reactivate", _("Reactivated")
    TRIAL_EXTEND = "trial_extend", _("Trial extended")
    SMS_LOCK = "sms_lock", _("SMS locked")
    SMS_UNLOCK = "sms_unlock", _("SMS unlocked")
    IMPERSONATE = "impersonate", _("Sign-in as user granted")
    IMPERSONATION_START = "impersonation_start", _("Signed in as user")
    IMPERSONATION_END = "impersonation_end", _("Sign-in as user ended")
    LEGAL_OPERATOR = "legal_operator", _("Operator details for the legal texts changed")
    SUBPROCESSOR_ADD = "subprocessor_add", _("Sub-processor added")
    SUBPROCESSOR_END = "subprocessor_end", _("Sub-processor ended")
    RESTORE = "restore", _("Restored from an export")


# Actions on a business: each names the business and says why.
BUSINESS_ACTIONS = (
    ActionKind.SUSPEND,
    ActionKind.REACTIVATE,
    ActionKind.TRIAL_EXTEND,
    ActionKind.SMS_LOCK,
    ActionKind.SMS_UNLOCK,
    ActionKind.IMPERSONATE,
    ActionKind.RESTORE,
)


class AppendOnlyError(RuntimeError):
    """The staff audit log is never changed or deleted (the database refuses too, see migration 0001)."""


class StaffActionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("staff actions cannot be changed")

    def delete(self):
        raise AppendOnlyError("staff actions cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("staff actions cannot be changed")


class StaffAction(models.Model):
    """One thing a platform staff member did. Written once, never changed: the trail behind every action.

    A business may be deleted for good (retention) while its trail stays: `tenant` is not a database
    foreign key and `tenant_label` keeps its name. Staff users with entries cannot be deleted (PROTECT);
    deactivate them instead.
    """

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("staff member")
    )
    staff_username = models.CharField(_("staff login"), max_length=150)
    action = models.CharField(_("action"), max_length=24, choices=ActionKind.choices)
    tenant = models.ForeignKey(
        "tenancy.Tenant",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("business"),
    )
    tenant_label = models.CharField(_("business"), max_length=250, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = StaffActionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("staff action")
        verbose_name_plural = _("staff actions")
        constraints = [
            models.CheckConstraint(name="staff_action_kind_valid", condition=Q(action__in=ActionKind.values)),
            # An action on a business names it and gives a reason.
            models.CheckConstraint(
                name="staff_action_business_has_reason",
                condition=~Q(action__in=BUSINESS_ACTIONS) | (Q(tenant__isnull=False) & ~Q(reason="")),
            ),
            models.CheckConstraint(name="staff_action_username_not_empty", condition=~Q(staff_username="")),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="staff_action_tenant_idx"),
            models.Index(fields=["-created_at"], name="staff_action_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.staff_username}: {self.action} {self.tenant_label}".strip()

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("staff actions cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("staff actions cannot be deleted")


class SmsLock(models.Model):
    """SMS of this business are not sent (abuse): the outbox skips them with a reason. Lifting the lock
    deletes the row; the audit log keeps the history."""

    tenant = models.OneToOneField(
        "tenancy.Tenant", on_delete=models.CASCADE, related_name="sms_lock", verbose_name=_("business")
    )
    reason = models.TextField(_("reason"))
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("locked by"),
    )
    created_at = models.DateTimeField(_("locked since"), auto_now_add=True)

    class Meta:
        verbose_name = _("SMS lock")
        verbose_name_plural = _("SMS locks")
        constraints = [models.CheckConstraint(name="sms_lock_has_reason", condition=~Q(reason=""))]

    def __str__(self) -> str:
        return f"SMS locked: {self.tenant_id}"


class ImpersonationGrant(models.Model):
    """Permission for one staff member to sign in once, as one user of one business, for a while.

    Made on the platform host; the link it yields (only the token's SHA-256 is stored) is redeemed once at
    the business's own host before `expires_at`. Redeeming sets `used_at` and `ends_at` (the end of the
    session); ending early, or the staff member ending it from the platform side, sets `ended_at`.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    staff_username = models.CharField(max_length=150)
    staff_name = models.CharField(max_length=300)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    # A user of the business's own schema (no foreign key can reach there).
    target_user_id = models.PositiveBigIntegerField()
    target_username = models.CharField(max_length=150)
    reason = models.TextField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()  # redeem before this
    used_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)  # the signed-in session ends here
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sign-in as user")
        verbose_name_plural = _("sign-ins as user")
        constraints = [
            models.CheckConstraint(
                name="grant_token_hash_hex",
                condition=Q(token_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106 (a pattern, not a secret)
            ),
            models.CheckConstraint(name="grant_has_reason", condition=~Q(reason="")),
            models.CheckConstraint(
                name="grant_expires_after_creation", condition=Q(expires_at__gt=F("created_at"))
            ),
            # Redeemed at most once, in time, and then for a limited session.
            models.CheckConstraint(
                name="grant_used_in_time",
                condition=Q(used_at__isnull=True, ends_at__isnull=True)
                | Q(used_at__isnull=False, used_at__lte=F("expires_at"), ends_at__gt=F("used_at")),
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="grant_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.staff_username} → {self.target_username} ({self.tenant_id})"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
