"""What the backoffice itself remembers about a business (tenant schema)."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ChecklistDismissal(models.Model):
    """The first-run checklist on the start page was put away (one row, id = 1; no row: it shows)."""

    dismissed_at = models.DateTimeField()
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.CheckConstraint(name="checklist_dismissal_singleton", condition=Q(id=1))]

    def __str__(self) -> str:
        return f"checklist dismissed {self.dismissed_at:%Y-%m-%d}"
