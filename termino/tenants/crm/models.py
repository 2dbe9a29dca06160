"""Customers of a business (tenant schema)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Func, Q, TextField, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

TAG_MAX_LENGTH = 40


def _tags_joined():
    return Func(F("tags"), Value("\x1f"), function="array_to_string", output_field=TextField())


class Customer(models.Model):
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Short lower-case labels ("vip", "stammkundin"); an array with a GIN index keeps the schema to one
    # table and makes "customers tagged x" an index lookup (`tags @> '{x}'`).
    tags = ArrayField(
        models.CharField(max_length=TAG_MAX_LENGTH), verbose_name=_("tags"), default=list, blank=True
    )
    # Art. 18 GDPR: while set, the data is only stored; no messages go to this customer.
    processing_restricted = models.BooleanField(_("processing restricted"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["last_name", "first_name", "id"]
        indexes = [GinIndex(fields=["tags"], name="customer_tags_gin")]
        constraints = [
            models.CheckConstraint(
                name="customer_phone_e164", condition=Q(phone="") | Q(phone__regex=r"^\+[1-9]\d{6,14}$")
            ),
            models.CheckConstraint(name="customer_email_lowercase", condition=Q(email=Lower("email"))),
            models.CheckConstraint(
                name="customer_tags_lowercase", condition=Exact(_tags_joined(), Lower(_tags_joined()))
            ),
            models.CheckConstraint(name="customer_tags_not_blank", condition=~Q(tags__contains=[""])),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class CustomerNote(models.Model):
    """A dated note about a customer by a team member ("prefers Anna", "allergic to ammonia")."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="customer_notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer note")
        verbose_name_plural = _("customer notes")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(name="customer_note_not_blank", condition=~Q(text=""))]

    def __str__(self) -> str:
        return self.text[:40]


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


class DuplicateReason(models.TextChoices):
    EMAIL = "email", _("Same e-mail address")
    PHONE = "phone", _("Same phone number")
    NAME = "name", _("Same name")


class DuplicateSuspicion(models.Model):
    """Two customer entries that may be one person, for the team to merge or to keep apart.

    Written when an online booking's contact data only partly matches an existing customer: the booking
    then gets a new entry (an anonymous request never joins or fills in someone else's), and the pair is
    shown in the backoffice. Stored once per pair (lower id first); a dismissed pair is kept, so it is not
    suggested again. Both foreign keys are hidden (`+`): a merge does not carry suspicions over, deleting
    either customer (merge, erasure) deletes the pair.
    """

    customer_a = models.ForeignKey(  # no index of its own: duplicate_suspicion_once starts with it
        Customer, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    customer_b = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("why"), max_length=10, choices=DuplicateReason.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    dismissed_at = models.DateTimeField(_("dismissed"), null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("likely duplicate")
        verbose_name_plural = _("likely duplicates")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="duplicate_suspicion_ordered_pair", condition=Q(customer_a__lt=F("customer_b"))
            ),
            models.UniqueConstraint(fields=["customer_a", "customer_b"], name="duplicate_suspicion_once"),
            models.CheckConstraint(
                name="duplicate_suspicion_reason_valid", condition=Q(reason__in=DuplicateReason.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_a_id} ~ {self.customer_b_id} ({self.reason})"

    @property
    def pending(self) -> bool:
        return self.dismissed_at is None
