"""Retention rules of one business and the record of each run (tenant schema).

The rules say how long personal data is kept; the nightly worker (`services.retention_run`) applies them.
Each limit has bounds in the database, so no form or script can store "delete after -1 days".
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

CUSTOMER_YEARS_MAX = 30
APPOINTMENT_YEARS_MAX = 30
MESSAGE_DAYS_MAX = 3650
LOGIN_IP_DAYS_MIN = 1
LOGIN_IP_DAYS_MAX = 365


def default_login_ip_days() -> int:
    """The platform's default (setting LOGIN_IP_DAYS, 7 days), clamped to what the table accepts."""
    days = int(getattr(settings, "LOGIN_IP_DAYS", 7))
    return min(max(days, LOGIN_IP_DAYS_MIN), LOGIN_IP_DAYS_MAX)


class RetentionPolicy(models.Model):
    """One row per business (id = 1). A limit of 0 means "keep" for the first three rules."""

    customer_erase_years = models.PositiveSmallIntegerField(
        _("erase customers without appointments after (years)"), default=3
    )
    # Ten years: the longest retention period of German commercial and tax law (§ 147 AO, § 257 HGB).
    appointment_anonymise_years = models.PositiveSmallIntegerField(
        _("anonymise appointments after (years)"), default=10
    )
    message_text_days = models.PositiveIntegerField(_("delete message texts after (days)"), default=90)
    login_ip_days = models.PositiveSmallIntegerField(
        _("remove full IP addresses of logins after (days)"), default=default_login_ip_days
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("retention rules")
        constraints = [
            models.CheckConstraint(name="retention_policy_singleton", condition=Q(id=1)),
            models.CheckConstraint(
                name="retention_customer_years_range",
                condition=Q(customer_erase_years__gte=0, customer_erase_years__lte=CUSTOMER_YEARS_MAX),
            ),
            models.CheckConstraint(
                name="retention_appointment_years_range",
                condition=Q(
                    appointment_anonymise_years__gte=0, appointment_anonymise_years__lte=APPOINTMENT_YEARS_MAX
                ),
            ),
            models.CheckConstraint(
                name="retention_message_days_range",
                condition=Q(message_text_days__gte=0, message_text_days__lte=MESSAGE_DAYS_MAX),
            ),
            # Full IP addresses are never kept for good: there is no "0 = never" here.
            models.CheckConstraint(
                name="retention_login_ip_days_range",
                condition=Q(login_ip_days__gte=LOGIN_IP_DAYS_MIN, login_ip_days__lte=LOGIN_IP_DAYS_MAX),
            ),
        ]

    def __str__(self) -> str:
        return "retention rules"

    @classmethod
    def current(cls) -> "RetentionPolicy":
        policy, _created = cls.objects.get_or_create(id=1)
        return policy

    def snapshot(self) -> dict:
        return {
            "customer_erase_years": self.customer_erase_years,
            "appointment_anonymise_years": self.appointment_anonymise_years,
            "message_text_days": self.message_text_days,
            "login_ip_days": self.login_ip_days,
        }


class RetentionRun(models.Model):
    """One application of the rules (or a recorded dry run): when, what it changed, and how it ended.

    `counts` maps each rule to the rows it changed (a dry run: would change); `policy` keeps the limits
    the run applied, so a record stays meaningful after the rules change.
    """

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    counts = models.JSONField(default=dict, blank=True)
    policy = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("retention run")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="retention_run_finished_after_start",
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=F("started_at")),
            ),
        ]

    def __str__(self) -> str:
        return f"retention run {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def state(self) -> str:
        if self.error:
            return "failed"
        return "running" if self.finished_at is None else "done"
