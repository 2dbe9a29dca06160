"""What each retention rule selects, as querysets: the preview counts them, the run changes them.

One definition serves both, so a dry run and the real run agree by construction. Every queryset selects
only rows that still hold something to remove, which makes a second run find nothing (idempotence) and
lets a run that was stopped half-way carry on where it stopped.

Customers whose processing is restricted (Art. 18 GDPR) are left alone by every rule: a restriction is
what a customer asks for when their data must not be erased (e.g. for a legal claim).
"""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from termino.tenants.crm.models import Consent, Customer, CustomerNote
from termino.tenants.notifications.models import MessageStatus, OutboxMessage
from termino.tenants.scheduling.models import Appointment

from .models import RetentionPolicy

# Masked recipients carry this character; a valid phone number or e-mail address never does.
MASK = "…"
FINAL_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.SKIPPED)

CUSTOMERS_ERASED = "customers_erased"
APPOINTMENTS_ANONYMISED = "appointments_anonymised"
MESSAGE_TEXTS_DELETED = "message_texts_deleted"
LOGIN_IPS_REMOVED = "login_ips_removed"
# The order of the counts on pages and in records.
COUNT_KEYS = (CUSTOMERS_ERASED, APPOINTMENTS_ANONYMISED, MESSAGE_TEXTS_DELETED, LOGIN_IPS_REMOVED)


def years_before(moment: datetime, years: int) -> datetime:
    """The same calendar moment `years` earlier (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def mask_recipient(value: str) -> str:
    """ "+4917012345678" → "+49…", "anna@example.com" → "…@example.com"; masked values stay as they are."""
    if not value or MASK in value:
        return value
    if "@" in value:
        return f"{MASK}@{value.rpartition('@')[2]}"
    return f"{value[:3]}{MASK}"


def _restricted_customer() -> Q:
    return Q(customer__processing_restricted=True)


def message_texts_due(policy: RetentionPolicy, now: datetime) -> QuerySet[OutboxMessage]:
    """Messages sent (or given up) more than K days ago that still hold their text or full recipient."""
    if not policy.message_text_days:
        return OutboxMessage.objects.none()
    cutoff = now - timedelta(days=policy.message_text_days)
    unmasked = ~Q(recipient="") & ~Q(recipient__contains=MASK)
    return (
        OutboxMessage.objects.filter(due_at__lt=cutoff, status__in=FINAL_STATUSES)
        .filter(~Q(text="") | unmasked)
        .exclude(_restricted_customer())
    )


def appointments_due(policy: RetentionPolicy, now: datetime) -> QuerySet[Appointment]:
    """Appointments that ended more than M years ago and still name a customer or hold notes, a reason
    for cancellation or a manage link.

    Appointments of customers the customer rule erases are left to that rule (erasure anonymises all of a
    customer's appointments), so each appointment is counted by one rule only, in a preview as in a run.
    """
    if not policy.appointment_anonymise_years:
        return Appointment.objects.none()
    cutoff = years_before(now, policy.appointment_anonymise_years)
    personal = Q(customer__isnull=False) | ~Q(notes="") | ~Q(cancel_reason="") | Q(manage_token__isnull=False)
    return (
        Appointment.objects.filter(end__lt=cutoff)
        .filter(personal)
        .exclude(_restricted_customer())
        .exclude(customer__in=customers_due(policy, now).values("pk"))
    )


def customers_due(policy: RetentionPolicy, now: datetime) -> QuerySet[Customer]:
    """Customers with no appointment, note, consent or message in the last N years.

    `updated_at` covers every change of the record itself (it is at least `created_at`). A customer with
    a message still waiting to go out is never due.
    """
    if not policy.customer_erase_years:
        return Customer.objects.none()
    cutoff = years_before(now, policy.customer_erase_years)
    customer = OuterRef("pk")
    recent_appointment = Appointment.objects.filter(customer=customer, end__gte=cutoff)
    recent_note = CustomerNote.objects.filter(customer=customer, created_at__gte=cutoff)
    recent_consent = Consent.objects.filter(customer=customer, recorded_at__gte=cutoff)
    live_message = OutboxMessage.objects.filter(customer=customer).filter(
        Q(due_at__gte=cutoff) | ~Q(status__in=FINAL_STATUSES)
    )
    return (
        Customer.objects.filter(updated_at__lt=cutoff, processing_restricted=False)
        .exclude(Exists(recent_appointment))
        .exclude(Exists(recent_note))
        .exclude(Exists(recent_consent))
        .exclude(Exists(live_message))
    )
