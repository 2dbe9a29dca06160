"""Stored exports of businesses (nightly, and the copy taken before every restore). Public schema.

The files live under BUSINESS_EXPORTS_ROOT/<schema>/, encrypted (crypto.py); a row says what each holds and
until when it is kept. A row without its file, or a file without its row, is an error the nightly prune
reports and repairs.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class ExportKind(models.TextChoices):
    NIGHTLY = "nightly", _("Nightly copy")
    PRE_RESTORE = "pre_restore", _("Copy taken before a restore")


class BusinessExport(models.Model):
    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.CASCADE, related_name="+", verbose_name=_("business")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ExportKind.choices)
    # Relative to BUSINESS_EXPORTS_ROOT: "<schema>/<stamp>-<kind>.tex".
    file_name = models.CharField(max_length=300, unique=True)
    size_bytes = models.PositiveBigIntegerField(_("size"))
    # Of the decrypted ZIP: checked again whenever it is opened.
    sha256 = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    tables = models.PositiveIntegerField(default=0)
    rows = models.PositiveBigIntegerField(_("rows"), default=0)
    # Login secrets left out (tenant_export's redact_logins): safe to hand to the owner.
    redacted = models.BooleanField(default=True)
    created_at = models.DateTimeField(_("made"))
    expires_at = models.DateTimeField(_("kept until"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("business export")
        verbose_name_plural = _("business exports")
        constraints = [
            models.CheckConstraint(
                name="business_export_kind_valid", condition=Q(kind__in=ExportKind.values)
            ),
            models.CheckConstraint(
                name="business_export_expires_after_creation", condition=Q(expires_at__gt=F("created_at"))
            ),
            models.CheckConstraint(
                name="business_export_sha256_hex",
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"),
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="business_export_tenant_idx"),
            models.Index(fields=["expires_at"], name="business_export_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.tenant_id} {self.created_at:%Y-%m-%d %H:%M}"
