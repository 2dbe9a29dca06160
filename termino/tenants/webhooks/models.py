"""Outgoing webhooks: the business's endpoints, one delivery row per (endpoint, event), and every attempt.

Deliveries are written in the transaction of the change they report (a transactional outbox) and sent by
the workers (`delivery.py`); the attempts are the delivery log the business reads.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    APPOINTMENT_CREATED = "appointment.created", _("Appointment booked")
    APPOINTMENT_REQUESTED = "appointment.requested", _("Appointment requested")
    APPOINTMENT_CONFIRMED = "appointment.confirmed", _("Appointment confirmed")
    APPOINTMENT_DECLINED = "appointment.declined", _("Appointment request declined")
    APPOINTMENT_MOVED = "appointment.moved", _("Appointment moved")
    APPOINTMENT_CANCELLED = "appointment.cancelled", _("Appointment cancelled")
    APPOINTMENT_NO_SHOW = "appointment.no_show", _("Appointment marked as no-show")
    APPOINTMENT_COMPLETED = "appointment.completed", _("Appointment completed")
    CUSTOMER_CREATED = "customer.created", _("Customer created")
    CUSTOMER_UPDATED = "customer.updated", _("Customer updated")
    CUSTOMER_ERASED = "customer.erased", _("Customer erased")


class Endpoint(models.Model):
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = ArrayField(models.CharField(max_length=32, choices=EventType.choices), verbose_name=_("events"))
    # The signing secret. Kept in clear: HMAC needs it. Shown to the owner when made or rotated only.
    secret = models.CharField(max_length=80)
    active = models.BooleanField(_("active"), default=True)
    # Since when every attempt has failed (cleared by a success); long enough, and the endpoint is disabled.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["url"], name="webhooks_endpoint_url_unique"),
            models.CheckConstraint(name="webhooks_endpoint_has_events", condition=Q(events__len__gt=0)),
            models.CheckConstraint(
                name="webhooks_endpoint_disabled_inactive",
                condition=Q(disabled_at__isnull=True) | Q(active=False),
            ),
        ]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


# Not yet settled: a delivery in one of these holds back the later ones of its subject and endpoint.
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
SETTLED_STATUSES = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)


class Delivery(models.Model):
    # Stable across retries and resends: receivers dedupe by it (`Termino-Delivery` header, body "id").
    uid = models.UUIDField(unique=True)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32, choices=EventType.choices)
    # What the event is about ("appointment:12", "customer:5"): deliveries of one subject go out in order.
    subject = models.CharField(max_length=40)
    payload = models.JSONField()  # the event's "data", as it was when it happened
    occurred_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)  # since queued (or resent): the back-off's step
    next_attempt_at = models.DateTimeField()
    give_up_at = models.DateTimeField()  # retries stop here (3 days after it was queued or resent)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    failure = models.CharField(max_length=300, blank=True)  # why it failed for good
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="webhooks_delivery_due_idx", condition=Q(status="pending")
            ),
            models.Index(
                fields=["endpoint", "subject", "id"],
                name="webhooks_delivery_open_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"


class Attempt(models.Model):
    """One HTTP request of a delivery: the delivery log."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # None: no answer
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)  # the body's start, truncated
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error} at {self.at:%Y-%m-%d %H:%M:%S}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
