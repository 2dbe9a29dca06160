"""What the customer pages show beyond the CRM's own data: appointment statistics and history, messages.

Composed here, above the domain apps: the CRM knows nothing of appointments (scheduling builds on it).
"""

from datetime import datetime

from django.db.models import Count, Min, Q
from django.utils import timezone

from termino.tenants.crm.models import Customer, CustomerNote
from termino.tenants.crm.selectors import customer_consents, phone_display
from termino.tenants.scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentStatus


def customers_with_stats(customers, *, region: str = "DE", now: datetime | None = None) -> list[Customer]:
    """The given customers (one page) with `next_appointment`, `no_show_count` and `phone_display` set.

    One query for the page, not an aggregate over the whole table before paginating.
    """
    customers = list(customers)
    now = now or timezone.now()
    stats = {
        row["customer_id"]: row
        for row in Appointment.objects.filter(customer_id__in=[c.pk for c in customers])
        .values("customer_id")
        .annotate(
            next_start=Min("start", filter=Q(status__in=ACTIVE_STATUSES, start__gte=now)),
            no_shows=Count("id", filter=Q(status=AppointmentStatus.NO_SHOW)),
        )
    }
    for customer in customers:
        row = stats.get(customer.pk, {})
        customer.next_appointment = row.get("next_start")
        customer.no_show_count = row.get("no_shows", 0)
        customer.phone_display = phone_display(customer.phone, region)
    return customers


HISTORY_LIMIT = 100


def customer_detail(*, customer: Customer, region: str = "DE") -> dict:
    appointments = customer.appointments.exclude(status=AppointmentStatus.HELD).select_related("service")
    consents, consent_history = customer_consents(customer=customer)
    customers_with_stats([customer], region=region)
    notes = CustomerNote.objects.filter(customer=customer).select_related("author")
    return {
        "appointments": list(appointments.order_by("-start", "-id")[:HISTORY_LIMIT]),
        "appointment_count": appointments.count(),
        "no_show_count": customer.no_show_count,
        "notes": list(notes.order_by("-created_at", "-id")),
        "consents": consents,
        "consent_history": consent_history,
        "outbox": list(customer.messages.order_by("-due_at", "-id")[:HISTORY_LIMIT]),
        "message_count": customer.messages.count(),
    }
