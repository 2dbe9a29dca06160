"""Data-subject rights inside a business's schema: the audit trail and the customers' own requests.

`PersonalDataEvent` is append-only, enforced by a trigger (migration 0001): a row can never be changed or
deleted, except that erasing a customer replaces the customer's name in earlier rows by an anonymous
label, and a deleted user's rows lose their link (the actor's name stays).
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The actor of what the customer did themselves through a confirmed link (they have no login).
CUSTOMER_ACTOR = "customer (confirmed by e-mail link)"


class EventAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    EXPORT = "export", _("Exported")
    CHANGE = "change", _("Changed")
    ERASE = "erase", _("Erased")
    RESTRICT = "restrict", _("Processing restricted")
    UNRESTRICT = "unrestrict", _("Restriction lifted")
    OBJECT = "object", _("Objection to marketing")
    REQUEST_VERIFIED = "request_verified", _("Request confirmed by the customer")


class PersonalDataEvent(models.Model):
    """Who looked at, exported, changed or erased whose personal data, when and from where."""

    # The user, while they exist; `actor_label` keeps who it was (also for the customer themself, or a
    # worker, which have no user).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=200)
    # A plain number, not a foreign key: the record outlives the customer's erasure.
    customer_id = models.BigIntegerField(_("customer number"), null=True, blank=True, db_index=True)
    customer_label = models.CharField(_("customer"), max_length=250, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=EventAction.choices)
    # What was done, never the personal data itself (field names, counts, formats).
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("personal data event")
        verbose_name_plural = _("personal data events")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="privacy_event_action_valid", condition=Q(action__in=EventAction.values)
            ),
            models.CheckConstraint(name="privacy_event_actor_named", condition=~Q(actor_label="")),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.customer_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Personal data events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Personal data events are append-only.")


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Copy of the data (access and portability)")
    ERASURE = "erasure", _("Erasure")
    RESTRICTION = "restriction", _("Restriction of processing")
    OBJECTION = "objection", _("Objection to marketing")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    VERIFIED = "verified", _("Confirmed, to do")
    COMPLETED = "completed", _("Done")
    DECLINED = "declined", _("Closed without action")


class PrivacyRequest(models.Model):
    """A customer's request from the booking page, confirmed through a link sent to the address.

    Only the SHA-256 of the link's token is stored, so a copy of the database opens no export.
    """

    VALID_FOR = timedelta(hours=24)

    email = models.EmailField(_("e-mail"))
    kind = models.CharField(_("request"), max_length=16, choices=RequestKind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    created_at = models.DateTimeField(_("received"), default=timezone.now)
    expires_at = models.DateTimeField(_("link valid until"))
    verified_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # How it was handled, in words for the list ("export sent by e-mail", "2 customers erased").
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="privacy_request_kind_valid", condition=Q(kind__in=RequestKind.values)
            ),
            models.CheckConstraint(
                name="privacy_request_status_valid", condition=Q(status__in=RequestStatus.values)
            ),
            models.CheckConstraint(name="privacy_request_email_lowercase", condition=Q(email=Lower("email"))),
            models.CheckConstraint(
                name="privacy_request_token_hash_hex",
                condition=Q(token_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106 (a pattern, not a secret)
            ),
            models.CheckConstraint(
                name="privacy_request_expiry_after_creation", condition=Q(expires_at__gt=F("created_at"))
            ),
            # Confirmed exactly when it left `pending`; handled exactly when it is done or declined.
            models.CheckConstraint(
                name="privacy_request_verified_unless_pending",
                condition=Q(status="pending", verified_at__isnull=True)
                | (~Q(status="pending") & Q(verified_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="privacy_request_handled_when_closed",
                condition=Q(status__in=["completed", "declined"], handled_at__isnull=False)
                | (Q(status__in=["pending", "verified"]) & Q(handled_at__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.email}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def link_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.VERIFIED
