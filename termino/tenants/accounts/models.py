"""Logins. The table exists in every schema: a business's staff in its own, platform staff in `public`."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from termino.tenants.business.roles import Role


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.STAFF)
    language = models.CharField(_("language"), max_length=8, blank=True)
    # Opted in: each morning an e-mail with the day's appointments of the person's calendar column.
    agenda_email = models.BooleanField(_("daily agenda by e-mail"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Login names are e-mail addresses, compared without case.
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            # Exactly one owner per business: signup makes it, nothing else grants or removes the role.
            models.UniqueConstraint(fields=["role"], condition=Q(role="owner"), name="user_one_owner"),
        ]

    # --- API tokens end with the password and with the login ------------------------------------------
    # Whoever saves a new password hash (password change, reset, an admin, set_unusable_password) or
    # deactivates a user through save() ends that user's API tokens here, without calling anything else.
    # A hash upgraded at login (same password, new hasher parameters) is no change of password.

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._credentials_saved = user._credentials()
        return user

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        saved_password, saved_active = getattr(self, "_credentials_saved", (None, None))
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        password, active = self._credentials()
        refreshed = set(fields) if fields is not None else {"password", "is_active"}
        self._credentials_saved = (
            password if "password" in refreshed else saved_password,
            active if "is_active" in refreshed else saved_active,
        )

    def _credentials(self) -> tuple[str | None, bool | None]:
        # From __dict__: a deferred field is not loaded just to compare it.
        return self.__dict__.get("password"), self.__dict__.get("is_active")

    def _ends_api_tokens(self, update_fields) -> bool:
        if self._state.adding or self.pk is None:
            return False
        saved_password, saved_active = getattr(self, "_credentials_saved", (None, None))
        writes = set(update_fields) if update_fields is not None else None
        if writes is None or "password" in writes:
            if self._password is not None:  # set_password() with a new password since the last save
                return True
            if (
                saved_password is not None
                and self.__dict__.get("password") != saved_password
                and not getattr(self, "_upgrading_hash", False)
            ):
                return True
        if writes is None or "is_active" in writes:
            return saved_active is not False and self.__dict__.get("is_active") is False
        return False

    def save(self, *args, **kwargs):
        ends_tokens = self._ends_api_tokens(kwargs.get("update_fields"))
        super().save(*args, **kwargs)
        self._credentials_saved = self._credentials()
        if ends_tokens:
            from .services import api_tokens_revoke_all

            api_tokens_revoke_all(user=self)

    def check_password(self, raw_password):
        self._upgrading_hash = True  # Django saves an upgraded hash of the same password from here
        try:
            return super().check_password(raw_password)
        finally:
            self._upgrading_hash = False

    async def acheck_password(self, raw_password):
        self._upgrading_hash = True
        try:
            return await super().acheck_password(raw_password)
        finally:
            self._upgrading_hash = False


class ApiToken(models.Model):
    """A key to the staff API (`Authorization: Token <key>`) of one user, until it expires or is revoked.

    Only the SHA-256 of the key is stored, so a copy of the database opens nothing. The key carries 256
    random bits: a fast hash is as safe as a slow one there, and a request finds its row by that index.
    Revoked tokens are deleted; all of a user's tokens end when their password changes or they are
    deactivated (User.save). The last use is recorded at most once a minute (LAST_USED_PRECISION), so
    using a token costs no write per request.
    """

    PREFIX = "termino_"
    NAME_LENGTH = 100
    LAST_USED_PRECISION = timedelta(minutes=1)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=NAME_LENGTH)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="apitoken_token_hash_hex",
                condition=Q(token_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106 (a pattern, not a secret)
            ),
            models.CheckConstraint(
                name="apitoken_expiry_after_creation", condition=Q(expires_at__gt=F("created_at"))
            ),
            models.CheckConstraint(name="apitoken_name_not_blank", condition=~Q(name="")),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class Invitation(models.Model):
    """A person asked to join the business's team; they set their own password through the link.

    Only the SHA-256 of the link's token is stored, so a copy of the database opens no account.
    Revoked invitations are deleted; accepted ones are kept (accepted_at) as a record.
    """

    VALID_FOR = timedelta(days=7)

    email = models.EmailField(_("e-mail"))
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    # The calendar column the person will work in: an existing one, or a new one made on acceptance.
    # `accounts` is also a shared app (platform staff live in `public`), where scheduling's tables do not
    # exist, so this cannot be a database foreign key; Django still applies SET_NULL when a column goes.
    resource = models.ForeignKey(
        "scheduling.Resource",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="invitations",
        verbose_name=_("calendar column"),
    )
    new_resource_name = models.CharField(_("new calendar column"), max_length=200, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["created_at", "id"]
        constraints = [
            # Owners come from signup only: an invitation makes a manager or a staff member.
            models.CheckConstraint(
                name="invitation_role_not_owner", condition=Q(role__in=["manager", "staff"])
            ),
            models.CheckConstraint(name="invitation_email_lowercase", condition=Q(email=Lower("email"))),
            models.CheckConstraint(
                name="invitation_expiry_after_creation", condition=Q(expires_at__gt=F("created_at"))
            ),
            models.CheckConstraint(
                name="invitation_one_column_choice",
                condition=Q(resource__isnull=True) | Q(new_resource_name=""),
            ),
            models.CheckConstraint(
                name="invitation_token_hash_hex",
                condition=Q(token_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106 (a pattern, not a secret)
            ),
            models.UniqueConstraint(
                Lower("email"), condition=Q(accepted_at__isnull=True), name="invitation_one_open_per_email"
            ),
            models.UniqueConstraint(
                fields=["resource"],
                condition=Q(accepted_at__isnull=True, resource__isnull=False),
                name="invitation_one_open_per_column",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None

    @property
    def is_expired(self) -> bool:
        return not self.is_accepted and self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        return not self.is_accepted and not self.is_expired


class LoginOutcome(models.TextChoices):
    SUCCESS = "success", _("Logged in")
    FAILURE = "failure", _("Failed")
    LOCKED_OUT = "locked_out", _("Locked out")
    LOGOUT = "logout", _("Logged out")
    # Forgotten passwords: a link asked for (any address, known or not) and a new password set through one.
    RESET_REQUESTED = "reset_requested", _("New password requested")
    PASSWORD_RESET = "password_reset", _("Password reset")


class LoginEvent(models.Model):
    """One login attempt (or logout, or password reset) in this schema: a business's staff in its own,
    platform staff in `public`. Kept for abuse investigation; the full IP address only for LOGIN_IP_DAYS,
    after which `login_ips_truncate` cuts it to its network (/24, /48) and sets `ip_truncated`."""

    USER_AGENT_LENGTH = 300

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="login_events",
        verbose_name=_("user"),
    )
    username = models.CharField(_("login name tried"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    ip_truncated = models.BooleanField(_("IP address truncated"), default=False)
    user_agent = models.CharField(_("browser"), max_length=USER_AGENT_LENGTH, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=LoginOutcome.choices)

    class Meta:
        verbose_name = _("login event")
        verbose_name_plural = _("login events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="loginevent_newest"),
            # What the nightly truncation looks for: full addresses older than the period.
            models.Index(fields=["created_at"], condition=Q(ip_truncated=False), name="loginevent_full_ip"),
        ]
        constraints = [
            models.CheckConstraint(
                name="loginevent_outcome_known", condition=Q(outcome__in=LoginOutcome.values)
            ),
            models.CheckConstraint(
                name="loginevent_truncated_has_ip",
                condition=Q(ip_truncated=False) | Q(ip_address__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username or '-'} {self.outcome} {self.created_at:%Y-%m-%d %H:%M}"


class SignInHandover(models.Model):
    """A one-time pass from the platform's signup page into the new business's backoffice.

    Signup (public host) makes one for the owner and redirects to the business's host, which redeems it
    once, within VALID_FOR, and logs the owner in: she does not type the password she just chose again.
    Only a SHA-256 of the token, keyed with the schema name, is stored, so neither a copy of the database
    nor the same token at another business opens anything. Redeeming deletes the row.
    """

    VALID_FOR = timedelta(seconds=60)

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="handover_token_hash_hex",
                condition=Q(token_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106 (a pattern, not a secret)
            ),
            models.CheckConstraint(
                name="handover_expiry_after_creation", condition=Q(expires_at__gt=F("created_at"))
            ),
        ]

    def __str__(self) -> str:
        return f"sign-in pass of user {self.user_id}"

    @staticmethod
    def hash_token(token: str, *, schema_name: str) -> str:
        return hashlib.sha256(f"{schema_name}:{token}".encode()).hexdigest()
