"""What a business sets up once and every part reads: its booking rules, message timing, SMS sender and
countries, look and legal texts (tenant schema).

Its own app, so that booking and notifications both depend on it and not on each other.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from termino.shared import request_memo
from termino.shared.phones import SMS_DEFAULT_REGIONS

# Countries whose mobile numbers may get SMS: two-letter codes separated by spaces ("DE AT CH").
SMS_COUNTRIES_PATTERN = r"^[A-Z]{2}( [A-Z]{2})*$"

# What LOX24 accepts as a sender: up to 11 letters, digits and spaces, or a number of up to 15 digits.
SENDER_ID_PATTERN = r"^(\+?[1-9][0-9]{0,14}|[a-zA-Z0-9 ]{1,11})$"


class CustomerAddress(models.TextChoices):
    """How German customer texts address the customer; English texts read the same either way."""

    FORMAL = "formal", _("Formal (Sie)")
    INFORMAL = "informal", _("Informal (du)")


class BusinessSettings(models.Model):
    """The business's own settings, one row per business (id = 1): rules of its booking page, texts and
    timing of its messages, SMS sender and countries, quiet hours, its look and its legal texts.

    The registration data (name, address, time zone, language) stays in the platform's Tenant row.
    Read it through `selectors.business_settings()`.
    """

    cancel_cutoff_hours = models.PositiveIntegerField(_("self-service cut-off (hours before)"), default=24)
    approval_required = models.BooleanField(_("bookings need staff approval"), default=False)
    max_open_bookings = models.PositiveIntegerField(_("open bookings per customer"), default=3)
    privacy_policy_version = models.CharField(_("privacy notice version"), max_length=40, default="1")
    privacy_notice = models.TextField(_("privacy notice"), blank=True)
    impressum = models.TextField(_("legal notice (Impressum)"), blank=True)
    logo = models.ImageField(_("logo"), upload_to="branding/", blank=True)
    reminder_hours = models.CharField(
        _("reminders (hours before, comma-separated)"), max_length=40, default="24,2", blank=True
    )
    quiet_hours_start = models.PositiveSmallIntegerField(_("no SMS from (hour)"), default=21)
    quiet_hours_end = models.PositiveSmallIntegerField(_("no SMS until (hour)"), default=8)
    brand_colour = models.CharField(_("colour of the booking page"), max_length=7, default="#1d4ed8")
    allowed_origins = models.TextField(
        _("websites allowed to embed the booking page"), blank=True, help_text=_("One origin per line.")
    )
    customer_address = models.CharField(
        _("address customers"), max_length=8, choices=CustomerAddress.choices, default=CustomerAddress.FORMAL
    )
    # Empty: derived from the company name when a message is sent.
    sms_sender_id = models.CharField(_("SMS sender"), max_length=16, blank=True)
    # Empty: Germany, Austria, Switzerland and the rest of the EU/EEA (phones.SMS_DEFAULT_REGIONS).
    sms_countries = models.CharField(_("countries for SMS"), max_length=300, blank=True)
    # Empty: the platform's settings.SMS_DAILY_CAP.
    sms_daily_cap = models.PositiveIntegerField(_("SMS per day at most"), null=True, blank=True)
    # Confirmed appointments whose local day has ended are marked completed by a periodic task.
    auto_complete = models.BooleanField(_("mark past appointments as completed"), default=True)
    # The team hears of bookings, moves and cancellations customers make online.
    team_notice_email = models.BooleanField(_("e-mail the team about online bookings"), default=True)
    # Empty: the owner's e-mail address.
    team_notice_email_to = models.EmailField(_("send these e-mails to"), blank=True)
    # Empty: no SMS to the team. E.164.
    team_notice_sms_to = models.CharField(_("also send an SMS to"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("business settings")
        constraints = [
            models.CheckConstraint(name="booking_settings_singleton", condition=Q(id=1)),
            models.CheckConstraint(
                name="booking_quiet_hours_range",
                condition=Q(quiet_hours_start__lte=23, quiet_hours_end__lte=23),
            ),
            models.CheckConstraint(
                name="booking_brand_colour_hex", condition=Q(brand_colour__regex=r"^#[0-9a-fA-F]{6}$")
            ),
            models.CheckConstraint(
                name="booking_customer_address_valid",
                condition=Q(customer_address__in=CustomerAddress.values),
            ),
            models.CheckConstraint(
                name="booking_sms_sender_id_format",
                condition=Q(sms_sender_id="") | Q(sms_sender_id__regex=SENDER_ID_PATTERN),
            ),
            models.CheckConstraint(
                name="business_team_notice_sms_e164",
                condition=Q(team_notice_sms_to="") | Q(team_notice_sms_to__regex=r"^\+[1-9][0-9]{6,14}$"),
            ),
            models.CheckConstraint(
                name="booking_sms_countries_format",
                condition=Q(sms_countries="") | Q(sms_countries__regex=SMS_COUNTRIES_PATTERN),
            ),
        ]

    def __str__(self) -> str:
        return "business settings"

    @classmethod
    def current(cls) -> "BusinessSettings":
        # Read once per request (a booking asks in its view, its service and its team notice).
        return request_memo.remembered("business.settings", lambda: cls.objects.get_or_create(id=1)[0])

    @property
    def reminder_leads(self) -> list[int]:
        return sorted(
            {int(h) for h in self.reminder_hours.replace(" ", "").split(",") if h.isdigit()}, reverse=True
        )

    @property
    def sms_regions(self) -> tuple[str, ...]:
        """The countries whose mobile numbers this business texts."""
        return tuple(self.sms_countries.split()) or SMS_DEFAULT_REGIONS

    @property
    def sms_cap(self) -> int:
        """SMS per local day at most."""
        return settings.SMS_DAILY_CAP if self.sms_daily_cap is None else self.sms_daily_cap

    @property
    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]


request_memo.forget_on_change("business.settings", BusinessSettings)
