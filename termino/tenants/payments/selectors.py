"""Reads of payments: lists for the team, the customer's view of one payment, the policy in words."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from termino.shared import timeutils
from termino.tenants.business.models import BusinessSettings

from .models import Payment, PaymentKind, PaymentSettings, PaymentStatus, Refund


def payments(
    *, appointment_id: int | None = None, customer_id: int | None = None, status: str = ""
) -> QuerySet:
    rows = Payment.objects.select_related("appointment", "customer").prefetch_related(
        Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "pk"))
    )
    if appointment_id is not None:
        rows = rows.filter(appointment_id=appointment_id)
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "-pk")


def payment_by_token(token: str) -> Payment | None:
    if not token:
        return None
    return Payment.objects.select_related("appointment", "appointment__service").filter(token=token).first()


def booking_payments(appointment) -> list[Payment]:
    """What the customer paid for a booking (the manage page), open sessions left out."""
    return list(
        Payment.objects.filter(appointment=appointment)
        .exclude(status__in=(PaymentStatus.PENDING, PaymentStatus.EXPIRED))
        .prefetch_related("refunds")
        .order_by("created_at", "pk")
    )


@dataclass(frozen=True)
class Policy:
    """What the cancellation policy means for one booking's customer."""

    kind: str
    amount_cents: int
    fee_cents: int
    refund_percent: int
    cutoff: datetime  # free cancellation until then


def policy_for(payment: Payment) -> Policy | None:
    appointment = payment.appointment
    if appointment is None:
        return None
    hours = BusinessSettings.current().cancel_cutoff_hours
    return Policy(
        kind=payment.kind,
        amount_cents=payment.amount_cents,
        fee_cents=payment.fee_cents,
        refund_percent=PaymentSettings.current().refund_before_cutoff_percent,
        cutoff=timeutils.shift(appointment.start, hours=-hours),
    )


def card_on_file(appointment) -> Payment | None:
    return (
        Payment.objects.filter(
            appointment=appointment, kind=PaymentKind.CARD_ON_FILE, status=PaymentStatus.SUCCEEDED
        )
        .order_by("-pk")
        .first()
    )
