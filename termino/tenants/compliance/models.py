"""A business's privacy notice for its booking page: every version customers were shown, and who in the
business accepted the generated one (tenant schema).

The text itself is either the business's own (BusinessSettings.privacy_notice, written by hand) or, while
that is empty, generated from the business's settings (documents.booking_notice), which keeps it in step
with them. Consents name the version a customer accepted; this archive says what that version said.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class NoticeVersion(models.Model):
    """One text of the booking page's privacy notice, as customers saw it. Generated versions are named
    `auto-<12 hex digits of its digest>`, hand-written ones by BusinessSettings.privacy_policy_version."""

    version = models.CharField(max_length=40, unique=True)
    generated = models.BooleanField()
    # Generated: {"de": document, "en": document}; hand-written: {"text": "..."}.
    content = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.version


class NoticeAcceptance(models.Model):
    """A person of the business reviewed the generated notice and accepted it as the business's own."""

    version = models.CharField(max_length=40)
    accepted_at = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    username = models.CharField(max_length=150)
    user_name = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-accepted_at", "-id"]
        constraints = [models.CheckConstraint(name="notice_acceptance_version", condition=~Q(version=""))]

    def __str__(self) -> str:
        return f"{self.version} by {self.username}"
