"""The platform's legal documents (schema `public`): what the operator decides, the sub-processors, every
published version of the privacy notice and the data-processing agreement, and the businesses' acceptances.

What the code decides (cookies, log fields, retention periods, security measures) is not stored here: the
documents read it from the code each time they are built (facts.py), and a new version is published when
the result differs from the last one (services.document_current).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DpoStatus(models.TextChoices):
    UNSET = "", _("Not entered yet")
    NONE = "none", _("No data-protection officer appointed")
    APPOINTED = "appointed", _("A data-protection officer is appointed")


class Operator(models.Model):
    """Who runs this installation of Termino and what they decided (id = 1): the controller of the
    platform's own processing and the processor of the businesses' customer data."""

    name = models.CharField(_("company or name"), max_length=200, blank=True)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    representative = models.CharField(_("represented by"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail for privacy questions"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    dpo_status = models.CharField(
        _("data-protection officer"), max_length=10, choices=DpoStatus.choices, default="", blank=True
    )
    dpo_name = models.CharField(_("name of the data-protection officer"), max_length=200, blank=True)
    dpo_contact = models.TextField(_("how to reach the data-protection officer"), blank=True)
    authority_name = models.CharField(_("supervisory authority"), max_length=200, blank=True)
    authority_address = models.TextField(_("address of the supervisory authority"), blank=True)
    authority_url = models.URLField(_("website of the supervisory authority"), blank=True)
    extra_domains = models.TextField(
        _("further domains of the platform"), blank=True, help_text=_("One host name per line.")
    )
    backups = models.TextField(_("backups (how, where, how long)"), blank=True)
    hosting_location = models.CharField(_("where the servers are"), max_length=200, blank=True)
    # Art. 28(2) GDPR: businesses are told of a new sub-processor this many days before it starts.
    notice_days = models.PositiveSmallIntegerField(
        _("notice period for sub-processor changes (days)"), default=30
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("operator")
        constraints = [
            models.CheckConstraint(name="legal_operator_singleton", condition=Q(id=1)),
            models.CheckConstraint(
                name="legal_operator_dpo_status", condition=Q(dpo_status__in=DpoStatus.values)
            ),
            models.CheckConstraint(name="legal_operator_notice_days", condition=Q(notice_days__lte=365)),
        ]

    def __str__(self) -> str:
        return self.name or "operator"

    @classmethod
    def current(cls) -> "Operator":
        operator, _created = cls.objects.get_or_create(id=1)
        return operator

    @property
    def address_lines(self) -> list[str]:
        place = " ".join(part for part in (self.postcode, self.city) if part)
        return [line for line in (self.street, place, self.country) if line]

    @property
    def domains(self) -> list[str]:
        return [line.strip().lower() for line in self.extra_domains.splitlines() if line.strip()]


class Category(models.TextChoices):
    HOSTING = "hosting", _("Hosting (servers, database)")
    BACKUP = "backup", _("Backup storage")
    EMAIL = "email", _("E-mail delivery")
    SMS = "sms", _("SMS delivery")
    PAYMENTS = "payments", _("Payments")
    SUPPORT = "support", _("Support")
    OTHER = "other", _("Other")


class SubProcessor(models.Model):
    """A provider the platform uses (a recipient in the privacy notice; with `customer_data`, also a
    sub-processor of the businesses in annex 1 of their AV contract), from `active_from` until before
    `active_until`."""

    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    category = models.CharField(_("what for"), max_length=16, choices=Category.choices)
    purpose = models.CharField(_("what they do for us"), max_length=300)
    location = models.CharField(_("where the data is processed"), max_length=200)
    safeguards = models.CharField(
        _("safeguards for a transfer outside the EU/EEA"),
        max_length=300,
        blank=True,
        help_text=_("E.g. adequacy decision, standard contractual clauses. Empty: processing in the EU/EEA."),
    )
    customer_data = models.BooleanField(
        _("processes data of the businesses' customers"),
        default=True,
        help_text=_("Then it is a sub-processor in the businesses' AV contract (annex 1)."),
    )
    active_from = models.DateField(_("from"))
    active_until = models.DateField(_("until (not including)"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["category", "name", "id"]
        verbose_name = _("sub-processor")
        verbose_name_plural = _("sub-processors")
        constraints = [
            models.CheckConstraint(
                name="legal_subprocessor_category", condition=Q(category__in=Category.values)
            ),
            models.CheckConstraint(
                name="legal_subprocessor_period",
                condition=Q(active_until__isnull=True) | Q(active_until__gt=models.F("active_from")),
            ),
            models.CheckConstraint(name="legal_subprocessor_name", condition=~Q(name="")),
        ]

    def __str__(self) -> str:
        return self.name


class ChangeKind(models.TextChoices):
    ADDED = "added", _("added")
    ENDED = "ended", _("ended")


class SubProcessorChange(models.Model):
    """A change of the sub-processors, announced to every business owner by e-mail (Art. 28(2) GDPR)."""

    kind = models.CharField(max_length=8, choices=ChangeKind.choices)
    subprocessor = models.ForeignKey(SubProcessor, on_delete=models.PROTECT, related_name="changes")
    effective_on = models.DateField(_("takes effect on"))
    reason = models.TextField(_("reason"), blank=True)
    staff_username = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    businesses = models.PositiveIntegerField(default=0)  # owners to notify, counted when the fan-out ran

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(name="legal_change_kind", condition=Q(kind__in=ChangeKind.values)),
        ]

    def __str__(self) -> str:
        return f"{self.subprocessor} {self.kind} {self.effective_on}"


class ChangeNotice(models.Model):
    """One owner's e-mail about one change: written when it was sent, so a retried fan-out sends no
    second one."""

    change = models.ForeignKey(SubProcessorChange, on_delete=models.CASCADE, related_name="notices")
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["change", "tenant"], name="legal_notice_once")]

    def __str__(self) -> str:
        return f"{self.change_id} → {self.email}"


class DocumentKind(models.TextChoices):
    PRIVACY = "privacy", _("Privacy notice")
    DPA = "dpa", _("Data-processing agreement")


class DocumentVersion(models.Model):
    """A published version of a platform document, in German and English, kept for good.

    `content` holds both languages' documents as JSON (termino.shared.documents); `digest` their hash, so
    the next build tells at once whether anything changed.
    """

    kind = models.CharField(max_length=8, choices=DocumentKind.choices)
    number = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    content = models.JSONField()
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="legal_version_unique"),
            models.CheckConstraint(name="legal_version_kind", condition=Q(kind__in=DocumentKind.values)),
            models.CheckConstraint(name="legal_version_number", condition=Q(number__gte=1)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} v{self.number}"


class DpaAcceptance(models.Model):
    """A business's owner accepted a version of the data-processing agreement in the backoffice.

    Kept in `public`, where the platform (the other party) and its staff read it; the person is named by
    id, login and name as text, since users live in the business's own schema.
    """

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(DocumentVersion, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField()
    user_id = models.PositiveBigIntegerField()
    username = models.CharField(max_length=150)
    user_name = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-accepted_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-accepted_at"], name="legal_dpa_tenant_idx")]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version"], name="legal_dpa_once_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} accepted {self.version}"
