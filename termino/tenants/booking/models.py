"""Online booking: idempotent public requests and who holds which slot. The business's rules for its booking
page live in `termino.tenants.business`."""

from django.db import models


class IdempotentRequest(models.Model):
    """The answer given to a POST with an Idempotency-Key, replayed when the same request comes again."""

    key = models.CharField(max_length=100, unique=True)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class HoldOwner(models.Model):
    """Who placed a slot hold on the booking page: keyed hashes of the client's address (an IPv6 client's
    /64) and of the form it came from. One visitor may hold only a few slots at once (holds block the
    calendar for everyone else); the row goes with the hold, or when the hold becomes a booking."""

    appointment = models.OneToOneField(
        "scheduling.Appointment", on_delete=models.CASCADE, primary_key=True, related_name="hold_owner"
    )
    ip_key = models.CharField(max_length=64, db_index=True)
    form_key = models.CharField(max_length=64, db_index=True)

    def __str__(self) -> str:
        return f"hold {self.appointment_id}"
