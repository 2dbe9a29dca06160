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
    # One message for a whole appointment series: all its dates (and a calendar file with every one).
    SERIES = "series", _("Series booking confirmation")
    SERIES_CHANGE = "series_change", _("Series change")
    # To the business itself, written when queued (in the team's language), not from a customer text.
    TEAM_BOOKED = "team_booked", _("Team notice: booked online")
    TEAM_MOVED = "team_moved", _("Team notice: moved online")
    TEAM_CANCELLED = "team_cancelled", _("Team notice: cancelled online")
    AGENDA = "agenda", _("Daily agenda")
    # A free time offered to a waitlisted customer; written when queued (it carries the offer's own link).
    WAITLIST_OFFER = "waitlist_offer", _("Waitlist offer")


# Messages to customers: their texts come from `texts.py` or the business's own (`MessageTemplate`).
CUSTOMER_KINDS = (
    MessageKind.CONFIRMATION,
    MessageKind.REQUEST,
    MessageKind.DECLINED,
    MessageKind.CHANGE,
    MessageKind.CANCELLATION,
    MessageKind.REMINDER,
)
TEAM_KINDS = (MessageKind.TEAM_BOOKED, MessageKind.TEAM_MOVED, MessageKind.TEAM_CANCELLED, MessageKind.AGENDA)
# Messages whose words are written when queued (the row keeps subject and text), not rendered when sent.
WRITTEN_KINDS = (*TEAM_KINDS, MessageKind.WAITLIST_OFFER)


class Reason(models.TextChoices):
    """Why a message was skipped or failed, stored as a code and shown in the reader's language. Any other
    text in `OutboxMessage.reason` comes from the SMS provider or the mail server and is shown as it is."""

    RESTRICTED = "restricted", _("Processing of this customer's data is restricted.")
    NO_CONSENT = "no_consent", _("The customer has not given (or has withdrawn) consent for this channel.")
    ERASED = "erased", _("Customer data erased.")
    SMS_LOCKED = "sms_locked", _("SMS of this business are locked by Termino support.")
    EMAIL_UNCONFIRMED = (
        "email_unconfirmed",
        _(
            "Not sent: the business has not confirmed its e-mail address yet. SMS go out once it has; "
            "resend this one from the message log if it is still needed."
        ),
    )
    NOT_MOBILE = "not_mobile", _("Not a mobile number of the countries this business texts: SMS not sent.")
    DAILY_CAP = (
        "daily_cap",
        _(
            "Daily SMS limit of this business reached: not sent. If the bookings are genuine, raise the "
            "limit under Settings → Booking rules and send it again."
        ),
    )
    QUOTA_USED_UP = "quota_used_up", _("SMS quota of this month used up.")
    WORKER_STOPPED_SMS = (
        "worker_stopped_sms",
        _("The worker stopped while sending; checked with the provider before sending again."),
    )
    WORKER_STOPPED_EMAIL = (
        "worker_stopped_email",
        _("The worker stopped while sending; the e-mail may have gone out. Check, then resend."),
    )
    RESTORED_SMS = (
        "restored_sms",
        _("The database was restored from a backup; checked with the provider before sending."),
    )
    RESTORED_EMAIL = (
        "restored_email",
        _(
            "The database was restored from a backup; this e-mail may have gone out before. "
            "Check, then resend."
        ),
    )


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
    # A customer's message is rendered when sent; a team message when queued. Kept for the message log.
    subject = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    reason = models.CharField(max_length=500, blank=True)  # a `Reason` code, or the provider's words
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

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language (a provider's own words as they are)."""
        return str(Reason(self.reason).label) if self.reason in Reason.values else self.reason

    @property
    def to_team(self) -> bool:
        return self.kind in TEAM_KINDS

    @property
    def written_when_queued(self) -> bool:
        return self.kind in WRITTEN_KINDS


class MessageTemplate(models.Model):
    """A business's own text for one kind of message on one channel, replacing the default text.

    Texts hold only the fixed placeholders of `rendering.PLACEHOLDERS` (plain substitution, never
    template code); the form rejects any other.
    """

    kind = models.CharField(max_length=16, choices=[(k.value, k.label) for k in CUSTOMER_KINDS])
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
            models.CheckConstraint(name="message_template_kind_valid", condition=Q(kind__in=CUSTOMER_KINDS)),
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
