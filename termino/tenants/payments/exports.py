"""The payments' part of a customer's data export (Art. 15 GDPR): what they paid and got back (no card
data is stored here). Registered with `privacy.exports` at start-up, which may not import this app."""

from termino.tenants.privacy.exports import section_register

from .models import Payment

COLUMNS = ["id", "appointment_id", "kind", "status", "amount", "refunded", "currency", "created_at"]


def payment_rows(*, customer, when) -> list[dict]:
    return [
        {
            "id": p.pk,
            "appointment_id": p.appointment_id,
            "kind": p.kind,
            "status": p.status,
            "amount": f"{p.amount_cents / 100:.2f}",
            "refunded": f"{p.refunded_cents / 100:.2f}",
            "currency": p.currency,
            "created_at": when(p.created_at),
        }
        for p in Payment.objects.filter(customer=customer).order_by("created_at", "id")
    ]


def register() -> None:
    section_register("payments", COLUMNS, payment_rows)
