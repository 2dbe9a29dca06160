"""Customers of a business (tenant schema)."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Customer(models.Model):
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.CheckConstraint(
                name="customer_phone_e164", condition=Q(phone="") | Q(phone__regex=r"^\+[1-9]\d{6,14}$")
            ),
            models.CheckConstraint(name="customer_email_lowercase", condition=Q(email=Lower("email"))),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ConsentKind(models.TextChoices):
    PRIVACY = "privacy", _("Privacy notice accepted")
    SMS_REMINDERS = "sms_reminders", _("SMS reminders")
    MARKETING = "marketing", _("Marketing")


class Consent(models.Model):
    """Each consent given or withdrawn, with time and the policy version it referred to (kept as history)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(_("kind"), max_length=20, choices=ConsentKind.choices)
    granted = models.BooleanField(_("granted"))
    policy_version = models.CharField(_("policy version"), max_length=40, blank=True)
    source = models.CharField(_("source"), max_length=20)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {'yes' if self.granted else 'no'}"
