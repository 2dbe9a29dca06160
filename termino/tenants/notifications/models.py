"""The outbox: one row per SMS or e-mail to send. Workers claim rows; a row is sent at most once.

Also the business's own wording of its messages (`MessageTemplate`), where it replaces the default text.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class MessageKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Booking confirmation")
    REQUEST = "request", _("Booking request received")
    DECLINED = "declined", _("Booking request declined")
    CHANGE = "change", _("Booking change")
    CANCELLATION = "cancellation", _("Cancellation")
    REMINDER = "reminder", _("Reminder")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class OutboxMessage(models.Model):
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=16, choices=MessageKind.choices)
    recipient = models.CharField(max_length=254)
    text = models.TextField(blank=True)  # rendered when sent, kept for the message log
    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    provider_message_id = models.CharField(max_length=100, blank=True)
    # Derived from what the message is about (e.g. "confirmation:42:email"): the same event never
    # queues the same message twice.
    idempotency_key = models.CharField(max_length=200, unique=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # when the gateway accepted it
    # A resend is a new row; it points at the row it repeats, which itself is never sent again.
    resend_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="resends"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(status="queued"), name="outbox_due_queued_idx"),
            # The message log lists the newest first.
            models.Index(fields=["-due_at", "-id"], name="outbox_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} → {self.recipient}"


class MessageTemplate(models.Model):
    """A business's own text for one kind of message on one channel, replacing the default text.

    Texts hold only the fixed placeholders of `rendering.PLACEHOLDERS` (plain substitution, never
    template code); the form rejects any other.
    """

    kind = models.CharField(max_length=16, choices=MessageKind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    subject = models.CharField(max_length=200, blank=True)  # e-mail only
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "channel"], name="message_template_one_per_kind_channel"),
            models.CheckConstraint(
                name="message_template_kind_valid", condition=Q(kind__in=MessageKind.values)
            ),
            models.CheckConstraint(
                name="message_template_channel_valid", condition=Q(channel__in=Channel.values)
            ),
            models.CheckConstraint(name="message_template_body_not_empty", condition=~Q(body="")),
            # An SMS has no subject; an e-mail needs one.
            models.CheckConstraint(
                name="message_template_subject_by_channel",
                condition=Q(channel="sms", subject="") | (Q(channel="email") & ~Q(subject="")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel}"


class SmsDay(models.Model):
    """SMS handed to the gateway on one local day of the business, against its daily cap (a business
    whose booking page is misused to send texts loses at most a day's cap). Counted with one conditional
    UPDATE, so workers sending at once cannot overshoot it."""

    day = models.DateField(unique=True)
    sent = models.PositiveIntegerField(default=0)
    # The owner is told once a day that the cap held SMS back.
    cap_notice_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.day}: {self.sent} SMS"
