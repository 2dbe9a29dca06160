"""The due index: per business and kind of periodic work, the earliest time that work is due.

Beat's dispatcher reads only this table (one index range scan) and visits only the businesses whose time
has come, instead of queueing a task for every business every minute (`dispatch.py`).
"""

from django.db import models


class DueWork(models.Model):
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    # A registered kind of work (`due.register`), e.g. "notifications.outbox".
    kind = models.CharField(max_length=64)
    due_at = models.DateTimeField()
    # Bumped by every mark and every claim: a run that finishes advances the row only if nothing marked it
    # since its claim (otherwise it keeps the earlier of both times): no mark is ever overwritten.
    version = models.BigIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "kind"], name="duework_one_per_kind")]
        indexes = [models.Index(fields=["due_at"], name="duework_due_at_idx")]

    def __str__(self) -> str:
        return f"{self.kind} of tenant {self.tenant_id} due {self.due_at:%Y-%m-%d %H:%M:%S}"
