"""Writes of data-subject rights, each leaving a row in the audit trail (`PersonalDataEvent`).

- `customer_erase`: personal data deleted, appointments kept for the books without a customer.
- `customer_restrict` / `customer_unrestrict`: Art. 18 (no messages; hidden from lists and exports).
- `customer_object_marketing`: Art. 21, recorded as a withdrawn marketing consent.
- Customers' own requests from the booking page, confirmed through a link sent to their address.
- The business closing its account (its data is deleted after the retention period by the worker).

Anonymisation model: an erased customer's appointments get `customer = NULL` and the customer row is
deleted (its notes and consents with it). The foreign key is nullable already and every page handles an
appointment without a customer (holds have none), so nothing needs to learn about a placeholder; a shared
placeholder row would show up in every list, search, count, merge and retention rule as a "customer"
with hundreds of appointments. Service, times, status and price stay: what the books need.
"""

import logging
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from termino.platform.billing import selectors as billing
from termino.platform.billing import services as billing_services
from termino.platform.tenancy.routing import primary_url
from termino.shared.errors import InvalidRequest
from termino.tenants.crm import events as crm_events
from termino.tenants.crm.models import Consent, ConsentKind, Customer, CustomerNote
from termino.tenants.notifications.models import MessageStatus, OutboxMessage, Reason
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import ACTIVE_STATUSES, Appointment

from .exports import customer_export, customers_export, export_json  # noqa: F401  (part of this API)
from .models import CUSTOMER_ACTOR, EventAction, PersonalDataEvent, PrivacyRequest, RequestKind, RequestStatus

logger = logging.getLogger(__name__)

CLOSE_REASON = "closed by owner"
# Who acted when it was not a logged-in user (CUSTOMER_ACTOR: the customer through their link).
SYSTEM_ACTOR = "system"


# --- Audit trail ---------------------------------------------------------------------------------------


def actor_label_of(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return SYSTEM_ACTOR
    name = user.get_full_name().strip()
    return f"{name} ({user.get_username()})" if name else user.get_username()


def event_record(
    *,
    action: str,
    actor=None,
    actor_label: str = "",
    customer: Customer | None = None,
    customer_id: int | None = None,
    customer_label: str | None = None,
    details: dict | None = None,
    ip: str | None = None,
) -> PersonalDataEvent:
    """One row of the audit trail. `details` says what was done, never the data itself."""
    if customer is not None:
        customer_id = customer.pk
        customer_label = str(customer) if customer_label is None else customer_label
    user = actor if getattr(actor, "is_authenticated", False) else None
    return PersonalDataEvent.objects.create(
        actor=user,
        actor_label=(actor_label or actor_label_of(user))[:200],
        customer_id=customer_id,
        customer_label=(customer_label or "")[:250],
        action=action,
        details=details or {},
        ip=ip or None,
    )


@transaction.atomic
def personal_data_events_purge(*, before) -> int:
    """Deletes audit rows older than `before` (for a retention rule); the only way past the trigger."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL termino.privacy_events_purge = 'on'")
    deleted, _by_model = PersonalDataEvent.objects.filter(created_at__lt=before).delete()
    return deleted


# --- Erasure -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    customer_id: int
    already_erased: bool = False
    appointments_anonymised: int = 0
    notes_deleted: int = 0
    consents_deleted: int = 0
    messages_blanked: int = 0


@transaction.atomic
def customer_erase(
    *, customer: Customer, actor=None, actor_label: str = "", ip: str | None = None
) -> Erasure:
    """Deletes the customer's personal data and keeps their appointments anonymised, all or nothing.

    Deleted: the customer row (names, contact, notes field, tags), their notes and consents; the text and
    recipient of every message to them; appointment notes and cancellation reasons; manage links (they
    would open a booking without its person); their names in the audit trail.
    Kept: each appointment's service, time, status and price, without a customer.
    Idempotent: a customer erased already (or never there) is left alone and reported so.
    For the retention worker: `customer_erase(customer=c, actor=None, actor_label="retention rule …")`.
    """
    pk = customer.pk
    row = Customer.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        return Erasure(customer_id=pk, already_erased=True)
    appointments = Appointment.objects.filter(customer=row)
    appointment_ids = list(appointments.values_list("pk", flat=True))
    messages = OutboxMessage.objects.filter(Q(customer=row) | Q(appointment_id__in=appointment_ids))
    # Messages not sent yet will not be: the worker finds a skipped row without a recipient.
    messages.filter(status=MessageStatus.QUEUED).update(
        status=MessageStatus.SKIPPED, reason=Reason.ERASED, updated_at=timezone.now()
    )
    messages_blanked = messages.update(recipient="", text="", customer=None, updated_at=timezone.now())
    # Through the lifecycle: the booking page forgets its stored answers naming these appointments.
    anonymised = lifecycle.appointments_anonymise(
        actor=Actor(source="privacy", user=actor), appointment_ids=appointment_ids, changed_at=timezone.now()
    )
    notes = CustomerNote.objects.filter(customer=row).count()
    consents = Consent.objects.filter(customer=row).count()
    PersonalDataEvent.objects.filter(customer_id=pk).update(customer_label="")
    row.delete()  # notes and consents go with it (CASCADE)
    crm_events.publish(crm_events.CustomerEvent(kind=crm_events.ERASED, customer_id=pk))
    result = Erasure(
        customer_id=pk,
        appointments_anonymised=anonymised,
        notes_deleted=notes,
        consents_deleted=consents,
        messages_blanked=messages_blanked,
    )
    event_record(
        action=EventAction.ERASE,
        actor=actor,
        actor_label=actor_label,
        customer_id=pk,
        customer_label="",
        details={
            "appointments_anonymised": anonymised,
            "notes_deleted": notes,
            "consents_deleted": consents,
            "messages_blanked": messages_blanked,
        },
        ip=ip,
    )
    return result


def future_appointments(*, customer: Customer):
    """The customer's appointments still to come: kept by an erasure, they would block their time without
    a name, so the erasure page offers to cancel them first."""
    return (
        Appointment.objects.filter(customer=customer, status__in=ACTIVE_STATUSES, start__gt=timezone.now())
        .select_related("service")
        .prefetch_related("allocations__resource")
        .order_by("start", "pk")
    )


@transaction.atomic
def customer_future_cancel(*, customer: Customer, actor, notify: bool) -> int:
    """Cancel the customer's future appointments before an erasure, telling them or not. Returns how many."""
    cancelled = 0
    for appointment in future_appointments(customer=customer):
        lifecycle.appointment_cancel(
            actor=Actor(source="privacy", user=actor),
            appointment=appointment,
            reason=_("Cancelled before the customer's data was erased"),
            notify=notify,
        )
        cancelled += 1
    return cancelled


def erasure_preview(*, customer: Customer) -> dict:
    """What `customer_erase` would delete and keep, for the confirmation page."""
    appointments = Appointment.objects.filter(customer=customer)
    return {
        "future": list(future_appointments(customer=customer)),
        "notes": CustomerNote.objects.filter(customer=customer).count(),
        "consents": Consent.objects.filter(customer=customer).count(),
        "messages": OutboxMessage.objects.filter(customer=customer).count(),
        "appointments": appointments.count(),
        "tags": len(customer.tags),
    }


# --- Restriction and objection -------------------------------------------------------------------------


@transaction.atomic
def _restriction_set(*, customer: Customer, restricted: bool, actor, actor_label: str, ip) -> Customer:
    row = Customer.objects.select_for_update().get(pk=customer.pk)
    if row.processing_restricted == restricted:
        return row  # nothing changes, nothing to record
    row.processing_restricted = restricted
    row.save(update_fields=["processing_restricted", "updated_at"])
    event_record(
        action=EventAction.RESTRICT if restricted else EventAction.UNRESTRICT,
        actor=actor,
        actor_label=actor_label,
        customer=row,
        ip=ip,
    )
    return row


def customer_restrict(
    *, customer: Customer, actor=None, actor_label: str = "", ip: str | None = None
) -> Customer:
    """Art. 18: the data is only stored. No messages go out (the outbox checks at send time), and the
    customer disappears from lists, search and exports for everyone but the owner."""
    return _restriction_set(customer=customer, restricted=True, actor=actor, actor_label=actor_label, ip=ip)


def customer_unrestrict(
    *, customer: Customer, actor=None, actor_label: str = "", ip: str | None = None
) -> Customer:
    return _restriction_set(customer=customer, restricted=False, actor=actor, actor_label=actor_label, ip=ip)


OBJECTION_SOURCES = ("backoffice", "privacy_request")


@transaction.atomic
def customer_object_marketing(
    *,
    customer: Customer,
    actor=None,
    actor_label: str = "",
    ip: str | None = None,
    source: str = "backoffice",
) -> Consent:
    """Art. 21: the customer objects to marketing, kept in the consent history as marketing withdrawn."""
    if source not in OBJECTION_SOURCES:
        raise ValueError(f"unknown source {source!r}")
    consent = Consent.objects.create(
        customer=customer, kind=ConsentKind.MARKETING, granted=False, source=source
    )
    event_record(action=EventAction.OBJECT, actor=actor, actor_label=actor_label, customer=customer, ip=ip)
    return consent


# --- Customers' requests from the booking page ---------------------------------------------------------


class RequestLinkExpired(Exception):
    """The confirmation link is older than PrivacyRequest.VALID_FOR."""


def _mail_language(tenant) -> str:
    return tenant.language or settings.LANGUAGE_CODE


def _request_mail_send(*, tenant, request_row: PrivacyRequest, token: str) -> None:
    path = reverse("booking:privacy_confirm", kwargs={"token": token})
    with translation.override(_mail_language(tenant)):
        context = {
            "business": tenant.name,
            "kind": RequestKind(request_row.kind).label,
            "url": primary_url(tenant, path),
            "expires_at": timezone.localtime(request_row.expires_at, ZoneInfo(tenant.time_zone)),
            "phone": tenant.phone,
        }
        subject = " ".join(render_to_string("privacy/email/request_subject.txt", context).split())
        body = render_to_string("privacy/email/request_body.txt", context)
    EmailMessage(
        subject=subject, body=body, to=[request_row.email], reply_to=[tenant.email] if tenant.email else None
    ).send()


def privacy_request_start(*, tenant, email: str, kind: str) -> bool:
    """Stores a request and mails its confirmation link, if a customer has this address.

    Returns whether a mail went out; the caller must answer the same either way, so nobody learns
    from the booking page who is a customer. Unknown addresses are not stored.
    """
    email = (email or "").strip().lower()
    if kind not in RequestKind.values:
        raise InvalidRequest(_("Please choose what you would like us to do."))
    if not email or not Customer.objects.filter(email=email).exists():
        return False
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    try:
        with transaction.atomic():
            row = PrivacyRequest.objects.create(
                email=email,
                kind=kind,
                token_hash=PrivacyRequest.hash_token(token),
                created_at=now,
                expires_at=now + PrivacyRequest.VALID_FOR,
            )
            _request_mail_send(tenant=tenant, request_row=row, token=token)
    except Exception:  # SMTP or network: nothing stored; the person cannot be told without telling all
        logger.warning("privacy request mail to a customer could not be sent", exc_info=True)
        return False
    return True


def privacy_request_by_token(token: str) -> PrivacyRequest | None:
    if not token or len(token) > 100:
        return None
    return PrivacyRequest.objects.filter(token_hash=PrivacyRequest.hash_token(token)).first()


def request_customers(request_row: PrivacyRequest) -> list[Customer]:
    """The customers the request is about: every entry whose e-mail is the request's (confirmed) address.

    Only the address: whoever confirmed the link proved they read that mailbox, nothing more. Entries that
    share a phone number or a name with it may be someone else's (see docs/privacy.md).
    """
    return list(Customer.objects.filter(email=request_row.email).order_by("id"))


@transaction.atomic
def privacy_request_verify(*, request_row: PrivacyRequest, ip: str | None = None) -> bool:
    """The customer confirmed through the link: True the first time, False afterwards.

    Raises RequestLinkExpired for a pending request whose link has run out.
    """
    row = PrivacyRequest.objects.select_for_update().get(pk=request_row.pk)
    if row.status != RequestStatus.PENDING:
        return False
    if row.link_expired:
        raise RequestLinkExpired
    row.status = RequestStatus.VERIFIED
    row.verified_at = timezone.now()
    row.save(update_fields=["status", "verified_at"])
    details = {"request_id": row.pk, "kind": row.kind}
    customers = request_customers(row)
    for customer in customers:
        event_record(
            action=EventAction.REQUEST_VERIFIED,
            actor_label=CUSTOMER_ACTOR,
            customer=customer,
            details=details,
            ip=ip,
        )
    if not customers:
        event_record(action=EventAction.REQUEST_VERIFIED, actor_label=CUSTOMER_ACTOR, details=details, ip=ip)
    request_row.status, request_row.verified_at = row.status, row.verified_at
    return True


def privacy_request_export(
    *, request_row: PrivacyRequest, actor=None, actor_label: str = "", ip=None
) -> dict:
    """The data of every customer the request is about, with an export event for each."""
    customers = request_customers(request_row)
    data = customers_export(customers=customers)
    for customer in customers:
        event_record(
            action=EventAction.EXPORT,
            actor=actor,
            actor_label=actor_label,
            customer=customer,
            details={"format": "json", "request_id": request_row.pk},
            ip=ip,
        )
    return data


@transaction.atomic
def privacy_request_close(
    *, request_row: PrivacyRequest, actor=None, outcome: str, declined: bool = False
) -> None:
    row = PrivacyRequest.objects.select_for_update().get(pk=request_row.pk)
    if row.status != RequestStatus.VERIFIED:
        return
    row.status = RequestStatus.DECLINED if declined else RequestStatus.COMPLETED
    row.handled_at = timezone.now()
    row.handled_by = actor if getattr(actor, "is_authenticated", False) else None
    row.outcome = outcome[:200]
    row.save(update_fields=["status", "handled_at", "handled_by", "outcome"])
    request_row.status, request_row.handled_at, request_row.outcome = row.status, row.handled_at, row.outcome


# What the team may do with a confirmed request of each kind; "done" and "decline" close any.
REQUEST_ACTIONS = {
    RequestKind.ACCESS: ("send_export", "done"),
    RequestKind.ERASURE: ("erase",),
    RequestKind.RESTRICTION: ("restrict",),
    RequestKind.OBJECTION: ("object",),
}


def request_actions(kind: str) -> tuple[str, ...]:
    return (*REQUEST_ACTIONS.get(kind, ()), "decline")


def _export_mail_send(*, tenant, request_row: PrivacyRequest, data: dict) -> None:
    with translation.override(_mail_language(tenant)):
        context = {"business": tenant.name, "phone": tenant.phone, "email": tenant.email}
        subject = " ".join(render_to_string("privacy/email/export_subject.txt", context).split())
        body = render_to_string("privacy/email/export_body.txt", context)
        filename = f"{slugify(_('my data'))}-{slugify(tenant.name)}.json"
    message = EmailMessage(
        subject=subject, body=body, to=[request_row.email], reply_to=[tenant.email] if tenant.email else None
    )
    message.attach(filename, export_json(data), "application/json")
    message.send()


def privacy_request_handle(*, tenant, request_row: PrivacyRequest, action: str, actor, ip=None) -> str:
    """Carries out a confirmed request as the team chose; returns what was done (for the list)."""
    if request_row.status != RequestStatus.VERIFIED:
        raise InvalidRequest(_("This request is not waiting for you (any more)."))
    if action not in request_actions(request_row.kind):
        raise InvalidRequest(_("This action does not fit this request."))
    customers = request_customers(request_row)
    count = len(customers)
    if action == "decline":
        outcome = _("Closed without action.")
        privacy_request_close(request_row=request_row, actor=actor, outcome=outcome, declined=True)
        return outcome
    if action == "send_export":
        data = privacy_request_export(request_row=request_row, actor=actor, ip=ip)
        try:
            _export_mail_send(tenant=tenant, request_row=request_row, data=data)
        except Exception as exc:
            logger.warning("privacy export mail could not be sent", exc_info=True)
            raise InvalidRequest(
                _("The e-mail could not be sent. Please try again in a few minutes.")
            ) from exc
        outcome = _("Export sent by e-mail.")
    elif action == "done":
        outcome = _("Marked as done.")
    elif action == "erase":
        for customer in customers:
            customer_erase(customer=customer, actor=actor, ip=ip)
        outcome = _("Customer entries erased: %(n)d.") % {"n": count}
    elif action == "restrict":
        for customer in customers:
            customer_restrict(customer=customer, actor=actor, ip=ip)
        outcome = _("Processing restricted for customer entries: %(n)d.") % {"n": count}
    else:  # object
        for customer in customers:
            customer_object_marketing(customer=customer, actor=actor, ip=ip, source="privacy_request")
        outcome = _("Objection recorded for customer entries: %(n)d.") % {"n": count}
    privacy_request_close(request_row=request_row, actor=actor, outcome=outcome)
    return outcome


# --- The business's own account ------------------------------------------------------------------------


def account_close_blocker(*, tenant) -> str:
    """Why the account cannot be closed here right now ("" if it can)."""
    if billing.billing_state(tenant).subscribed:
        return _(
            "Your subscription is still running. Please cancel it on the billing page first; "
            "when it has ended you can close your account here."
        )
    return ""


def account_close(*, tenant, user, password: str) -> None:
    """The owner closes the business: it is cancelled now and its data deleted after the retention period
    (BILLING_RETENTION_DAYS) by the retention worker. Raises InvalidRequest for a wrong password."""
    if not user.check_password(password or ""):
        raise InvalidRequest(_("The password is not correct."))
    blocker = account_close_blocker(tenant=tenant)
    if blocker:
        raise InvalidRequest(blocker)
    try:
        billing_services.billing_account_close(tenant=tenant, reason=CLOSE_REASON)
    except billing_services.StatusChangeNotAllowed as exc:
        raise InvalidRequest(_("This account cannot be closed in its current state.")) from exc
