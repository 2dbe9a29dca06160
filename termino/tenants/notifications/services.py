"""Sending the outbox, at most once per row.

A worker claims due rows with `FOR UPDATE SKIP LOCKED` and marks them `sending` in one short transaction,
so two workers never take the same row. The provider's id is stored as soon as the gateway accepts a
message, and a row that has one is never sent again. A row left in `sending` by a worker that died is not
sent again either (the provider may have accepted it): `outbox_reconcile` marks it failed with a reason
staff can see and act on.

Staff may resend a message from the message log: that queues a new row (its own idempotency key), the old
row is never sent again.

SMS pumping is stopped here last: an SMS goes only to a mobile number of the countries the business
allows, and at most the business's daily cap of SMS leave per local day (`SmsDay`, counted atomically);
what the cap holds back is skipped with the reason in the message log, and the owner gets one e-mail.
"""

import logging
import re
import smtplib
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from termino.platform.billing import selectors as billing
from termino.platform.billing import services as billing_services
from termino.platform.staffadmin.selectors import sms_locked
from termino.platform.tenancy.routing import primary_url
from termino.platform.tenancy.selectors import email_confirmed
from termino.shared import phones, timeutils
from termino.shared.errors import InvalidRequest
from termino.shared.observability import counters
from termino.shared.sms.gateways import (
    PermanentSmsError,
    SmsGateway,
    TemporarySmsError,
    gateway_from_settings,
)
from termino.tenants.accounts.models import Role, User
from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm import selectors as crm_selectors
from termino.tenants.scheduling.ics import appointment_ics, series_ics
from termino.tenants.scheduling.models import AppointmentStatus

from . import rendering
from .due import outbox_due
from .models import Channel, MessageKind, MessageStatus, MessageTemplate, OutboxMessage, Reason, SmsDay

logger = logging.getLogger(__name__)

SERIES_KINDS = (MessageKind.SERIES, MessageKind.SERIES_CHANGE)

CLAIM_BATCH = 50
MAX_ATTEMPTS = 5
# How far back the provider's postbox is searched for an earlier attempt (clocks differ a little).
LOOKUP_MARGIN = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … (OUTBOX_BACKOFF_SECONDS doubled) after temporary gateway errors."""
    return timedelta(seconds=settings.OUTBOX_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0))


def _claim(limit: int) -> list[OutboxMessage]:
    """Due messages, locked and marked `sending` in one short transaction, loaded with what they need."""
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("appointment__service", "customer")
            .filter(status=MessageStatus.QUEUED, due_at__lte=timezone.now())
            .order_by("due_at", "pk")[:limit]
        )
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
            status=MessageStatus.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
        )
    for message in messages:
        message.status, message.attempts = MessageStatus.SENDING, message.attempts + 1
    return messages


def outbox_claim(*, limit: int = CLAIM_BATCH) -> list[int]:
    """Take up to `limit` due messages for this worker; concurrent workers get disjoint rows."""
    return [m.pk for m in _claim(limit)]


@dataclass
class Batch:
    """What every message of one business's batch shares, loaded once: rules, own texts, sender, gateway."""

    tenant: object
    rules: BusinessSettings
    own: dict
    sender_id: str
    sms: SmsGateway
    # Platform staff stopped this business's SMS (abuse); checked once per batch.
    sms_locked: bool = False
    # The business has not confirmed its signup e-mail address yet: no SMS (checked once per batch).
    email_unconfirmed: bool = False
    # SMS of the plan's monthly allowance still free, counted once per batch; None until the first SMS.
    sms_allowance: int | None = None

    def sms_allowed(self) -> bool:
        """May one more SMS go out this month? The allowance first, then (locked) one bought credit."""
        if self.sms_allowance is None:
            self.sms_allowance = billing.sms_allowance_left(self.tenant)
        if self.sms_allowance > 0:
            self.sms_allowance -= 1
            return True
        return billing_services.sms_quota_take(tenant=self.tenant)

    @classmethod
    def load(cls, tenant, sms: SmsGateway | None = None) -> "Batch":
        rules = BusinessSettings.current()
        return cls(
            tenant=tenant,
            rules=rules,
            own=rendering.own_texts(),
            sender_id=rules.sms_sender_id or default_sender_id(tenant.name),
            sms=sms or gateway_from_settings(),
            sms_locked=sms_locked(tenant),
            email_unconfirmed=not email_confirmed(tenant),
        )


def outbox_deliver(
    *, message_id: int, tenant, sms: SmsGateway | None = None, batch: Batch | None = None
) -> str:
    """Send one claimed message; returns its new status ("" when another attempt holds it now)."""
    message = OutboxMessage.objects.select_related("appointment__service", "customer").get(pk=message_id)
    return _deliver(message, batch or Batch.load(tenant, sms))


# What a channel needs from the customer is checked again at send time (a reminder is queued days ahead).


def _not_allowed(message: OutboxMessage, consents: dict[int, dict[str, bool]]) -> str:
    """Why this message may not go out (any more), or ""."""
    customer = message.customer
    if customer is None:
        return ""
    if customer.processing_restricted:
        return Reason.RESTRICTED
    if not crm_selectors.consent_allows(consents.get(customer.pk, {}), message.channel):
        return Reason.NO_CONSENT
    return ""


def _deliver(message: OutboxMessage, batch: Batch, consents: dict | None = None) -> str:
    tenant, sms = batch.tenant, batch.sms
    if message.status != MessageStatus.SENDING:
        return message.status
    if not _claim_renew(message):
        return ""  # requeued as stuck while this batch was busy, and another attempt has it now
    if message.provider_message_id:  # accepted before, bookkeeping interrupted: never twice
        return _finish(message, MessageStatus.SENT)
    if consents is None:
        consents = crm_selectors.consents_latest([message.customer_id])
    refusal = _not_allowed(message, consents)
    if refusal:
        return _finish(message, MessageStatus.SKIPPED, reason=refusal)
    if message.written_when_queued:
        subject, body = message.subject, message.text
    else:
        subject, body = rendering.render(message, tenant=tenant, own=batch.own, rules=batch.rules)
    callback_data = f"{tenant.schema_name}|{message.idempotency_key}"
    try:
        if message.channel == Channel.SMS and message.attempts > 1:
            # An earlier attempt timed out or its worker died: the provider may have the message already.
            earlier = sms.find(
                phone=message.recipient, since=message.created_at - LOOKUP_MARGIN, callback_data=callback_data
            )
            if earlier:
                return _finish(message, MessageStatus.SENT, provider_id=earlier, text=body)
        if message.channel == Channel.SMS:
            if batch.sms_locked:
                return _finish(message, MessageStatus.SKIPPED, reason=Reason.SMS_LOCKED, text=body)
            # Skipped, not held: held reminders would go out late after a confirmation.
            if batch.email_unconfirmed:
                return _finish(message, MessageStatus.SKIPPED, reason=Reason.EMAIL_UNCONFIRMED, text=body)
            # Checked again here: the number may have been typed in the backoffice, or the countries changed.
            if phones.sms_refusal(message.recipient, batch.rules.sms_regions):
                return _finish(message, MessageStatus.SKIPPED, reason=Reason.NOT_MOBILE, text=body)
            if message.attempts == 1:  # counted once per message, as the monthly allowance
                day, cap = timeutils.today(timeutils.zone(tenant.time_zone)), batch.rules.sms_cap
                if not sms_day_take(day=day, cap=cap):
                    sms_cap_notice(tenant=tenant, day=day, cap=cap)
                    return _finish(message, MessageStatus.SKIPPED, reason=Reason.DAILY_CAP, text=body)
                if not batch.sms_allowed():
                    sms_day_give_back(day=day)
                    return _finish(message, MessageStatus.SKIPPED, reason=Reason.QUOTA_USED_UP, text=body)
            result = sms.send(
                sender_id=batch.sender_id,
                phone=message.recipient,
                text=body,
                callback_data=callback_data,
            )
            provider_id = result.provider_id
        else:
            provider_id = _send_email(message, tenant=tenant, subject=subject, body=body)
    except PermanentSmsError as exc:
        return _finish(message, MessageStatus.FAILED, reason=exc.reason, text=body)
    except (TemporarySmsError, OSError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        if message.attempts >= MAX_ATTEMPTS:
            return _finish(
                message, MessageStatus.FAILED, reason=f"gave up after {message.attempts} attempts: {reason}"
            )
        OutboxMessage.objects.filter(pk=message.pk, attempts=message.attempts).update(
            status=MessageStatus.QUEUED, reason=reason, due_at=timezone.now() + backoff(message.attempts)
        )
        return MessageStatus.QUEUED
    return _finish(message, MessageStatus.SENT, provider_id=provider_id, text=body)


def _claim_renew(message: OutboxMessage) -> bool:
    """Whether this attempt still holds the row, renewing its claim for the send that follows.

    A batch is claimed at once and sent one by one; a slow gateway can keep its last rows `sending` past
    OUTBOX_STUCK_AFTER_SECONDS, and `outbox_reconcile` then hands an SMS to another attempt. The attempt
    number fences: only the attempt that claimed the row last may send or finish it.
    """
    return bool(
        OutboxMessage.objects.filter(
            pk=message.pk, status=MessageStatus.SENDING, attempts=message.attempts
        ).update(updated_at=timezone.now())
    )


def _finish(message, status: str, *, reason: str = "", provider_id: str = "", text: str | None = None) -> str:
    now = timezone.now()
    fields = {"status": status, "reason": reason[:500], "updated_at": now}
    if status == MessageStatus.SENT:
        fields["sent_at"] = now
    if provider_id:
        fields["provider_message_id"] = provider_id
    if text is not None:
        fields["text"] = text
    # Fenced by the attempt number like `_claim_renew`: a superseded attempt never overwrites a newer one.
    OutboxMessage.objects.filter(pk=message.pk, attempts=message.attempts).update(**fields)
    return status


# --- The daily SMS cap -------------------------------------------------------------------------------------


def sms_day_take(*, day: date, cap: int) -> bool:
    """Count one SMS on `day` unless `cap` are counted already (then False).

    One conditional UPDATE: concurrent senders wait for each other's row lock and then see the new count,
    so exactly `cap` SMS get through.
    """
    if cap <= 0:
        return False
    below_cap = SmsDay.objects.filter(day=day, sent__lt=cap)
    if below_cap.update(sent=F("sent") + 1):
        return True
    SmsDay.objects.get_or_create(day=day)  # the day's first SMS (or the cap is reached: then a no-op)
    return bool(below_cap.update(sent=F("sent") + 1))


def sms_day_give_back(*, day: date) -> None:
    """The counted SMS did not go out after all (e.g. the month's quota was used up)."""
    SmsDay.objects.filter(day=day, sent__gt=0).update(sent=F("sent") - 1)


def sms_cap_notice(*, tenant, day: date, cap: int) -> bool:
    """Tell the owner, once on `day`, that the daily cap now holds SMS back. True if this call sent it."""
    if not SmsDay.objects.filter(day=day, cap_notice_at__isnull=True).update(cap_notice_at=timezone.now()):
        return False  # told already today (or another worker is telling right now)
    owner = User.objects.filter(role=Role.OWNER, is_active=True).first()
    recipient = (owner.email if owner else "") or tenant.email
    if not recipient:
        return False
    language = (owner.language if owner else "") or tenant.language or settings.LANGUAGE_CODE
    with translation.override(language):
        subject = _("Daily SMS limit reached – %(business)s") % {"business": tenant.name}
        body = _(
            "Hello,\n\n"
            "%(business)s has sent %(cap)d SMS today, its daily limit. Further SMS are not sent today: they "
            "are listed as skipped in the message log, where you can send them again.\n\n"
            "So many SMS in one day can mean that someone is misusing your booking page to send text "
            "messages at your expense, e.g. through bookings with unknown or foreign numbers. Please look "
            "through today's bookings.\n\n"
            "If the bookings are genuine, raise the limit under Settings → Booking rules.\n\n"
            "Message log: %(url)s\n"
        ) % {"business": tenant.name, "cap": cap, "url": primary_url(tenant, reverse("settings:outbox"))}
    try:
        EmailMessage(subject=subject, body=body, to=[recipient]).send()
    except (OSError, smtplib.SMTPException):
        logger.warning("daily SMS cap notice to the owner could not be sent", exc_info=True)
        SmsDay.objects.filter(day=day).update(cap_notice_at=None)  # the next capped SMS tries again
        return False
    return True


_GERMAN_LETTERS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})


def default_sender_id(name: str) -> str:
    """The company name as an SMS sender: up to 11 letters, digits and spaces ("Müller" → "Mueller")."""
    plain = unicodedata.normalize("NFKD", name.translate(_GERMAN_LETTERS)).encode("ascii", "ignore").decode()
    cleaned = " ".join(re.sub(r"[^A-Za-z0-9 ]", "", plain).split())
    return cleaned[:11].strip() or "Termino"


def _send_email(message, *, tenant, subject: str, body: str) -> str:
    email = EmailMessage(subject=subject, body=body, to=[message.recipient])
    appointment = message.appointment
    if appointment is not None and appointment.series_id and message.kind in SERIES_KINDS:
        # One calendar file with every occurrence of the series (cancelled ones marked so).
        email.attach("termine.ics", series_ics(series=appointment.series, tenant=tenant), "text/calendar")
    # A cancelled appointment does not go into anyone's calendar.
    elif (
        appointment is not None
        and appointment.manage_token
        and message.kind != MessageKind.CANCELLATION
        and not message.to_team
    ):
        manage_url = primary_url(tenant, f"/book/manage/{appointment.manage_token}/")
        email.attach(
            "termin.ics",
            appointment_ics(appointment=appointment, tenant=tenant, manage_url=manage_url),
            "text/calendar",
        )
    email.extra_headers["X-Termino-Message"] = message.idempotency_key
    email.send()
    return f"email:{message.idempotency_key}"


def outbox_send_due(*, tenant, sms: SmsGateway | None = None) -> dict[str, int]:
    """Claim and send what is due in this business, batch after batch."""
    counts: dict[str, int] = {}
    batch = Batch.load(tenant, sms)
    while messages := _claim(CLAIM_BATCH):
        consents = crm_selectors.consents_latest(m.customer_id for m in messages)
        tally = Counter()
        for message in messages:
            status = _deliver(message, batch, consents)
            if not status:
                continue  # another attempt's now
            counts[status] = counts.get(status, 0) + 1
            tally[message.channel, status] += 1
        counters.messages_add(tally)  # for /metrics: one Redis round trip per batch
    return counts


def outbox_reconcile(*, now=None) -> int:
    """Rows stuck in `sending`: their worker died (or hung) between the claim and the bookkeeping.

    An SMS goes back to the queue: its next attempt first searches the provider's postbox by callback
    data and records the message found there instead of sending it again. An e-mail cannot be looked up
    once the mail server has it, so it is failed with a reason staff can act on (resend from the log).
    """
    now = now or timezone.now()
    stuck = OutboxMessage.objects.filter(
        status=MessageStatus.SENDING,
        provider_message_id="",
        updated_at__lt=now - timedelta(seconds=settings.OUTBOX_STUCK_AFTER_SECONDS),
    )
    requeued = stuck.filter(channel=Channel.SMS).update(
        status=MessageStatus.QUEUED,
        due_at=now,
        reason=Reason.WORKER_STOPPED_SMS,
        updated_at=now,
    )
    failed = stuck.filter(channel=Channel.EMAIL).update(
        status=MessageStatus.FAILED,
        reason=Reason.WORKER_STOPPED_EMAIL,
        updated_at=now,
    )
    return requeued + failed


# LOX24 delivery codes → our status; "queued" and "en_route" leave a sent message as it is.
DELIVERY_STATUS = {
    "delivered": MessageStatus.DELIVERED,
    "expired": MessageStatus.FAILED,
    "rejected": MessageStatus.FAILED,
}


def delivery_report_apply(*, idempotency_key: str, provider_id: str, status: str, code: int) -> bool:
    """Record a delivery report on its outbox row (the caller is in the row's schema)."""
    new_status = DELIVERY_STATUS.get(status)
    if new_status is None:
        return False
    reason = "" if new_status == MessageStatus.DELIVERED else f"SMS {status} (delivery code {code})"
    changed = bool(
        OutboxMessage.objects.filter(idempotency_key=idempotency_key, provider_message_id=provider_id)
        .exclude(status=MessageStatus.DELIVERED)
        .update(status=new_status, reason=reason, updated_at=timezone.now())
    )
    if changed:
        counters.messages_add(Counter({(Channel.SMS, f"report_{new_status}"): 1}))
    return changed


# --- Resending from the message log ---------------------------------------------------------------------

RESENDABLE = (MessageStatus.FAILED, MessageStatus.SKIPPED, MessageStatus.SENT, MessageStatus.DELIVERED)


class ResendRefused(InvalidRequest):
    """This message may not be sent again; `message` says why, in words staff understand."""


@dataclass
class ResendChecks:
    """What the checks of a page of the message log share, read once: consents, SMS countries and blocks."""

    consents: dict[int, dict[str, bool]]
    sms_regions: tuple[str, ...]
    sms_blocked: str  # why no SMS can go out at all now, or ""

    @classmethod
    def load(cls, tenant, messages) -> "ResendChecks":
        sms_blocked = ""
        if sms_locked(tenant):
            sms_blocked = str(Reason.SMS_LOCKED.label)
        elif not email_confirmed(tenant):
            sms_blocked = _("No SMS go out until the business has confirmed its e-mail address.")
        return cls(
            consents=crm_selectors.consents_latest(m.customer_id for m in messages if m.customer_id),
            sms_regions=BusinessSettings.current().sms_regions,
            sms_blocked=sms_blocked,
        )


def resend_refusal(message: OutboxMessage, *, tenant, checks: ResendChecks | None = None) -> str:
    """Why `message` cannot be sent again (so it would not succeed), or "" if it can."""
    checks = checks or ResendChecks.load(tenant, [message])
    if message.status not in RESENDABLE:
        return _("Only sent, delivered, failed or skipped messages can be sent again.")
    if message.kind == MessageKind.WAITLIST_OFFER:
        return _("A waitlist offer is not sent again: offer the time anew from the waitlist.")
    if not message.to_team and message.customer_id is None:
        return _("The customer's data has been erased, or the customer no longer exists.")
    if not message.recipient or "…" in message.recipient:  # masked by the retention rules
        return _("The address of this message has been deleted under the data retention rules.")
    if message.channel == Channel.SMS:
        if checks.sms_blocked:
            return checks.sms_blocked
        if phones.sms_refusal(message.recipient, checks.sms_regions):
            return str(Reason.NOT_MOBILE.label)
    if message.to_team:
        return "" if message.text else _("The text of this message is no longer stored.")
    # The same rule as for new messages: e-mail needs the privacy notice accepted, SMS the SMS consent.
    if not crm_selectors.consent_allows(checks.consents.get(message.customer_id, {}), message.channel):
        if message.channel == Channel.SMS:
            return _("The customer has not given, or has withdrawn, their consent to SMS messages.")
        return _("The customer has not given, or has withdrawn, their consent to e-mails.")
    appointment = message.appointment
    if appointment is None:
        return _("The appointment no longer exists.")
    if (
        message.kind not in (MessageKind.CANCELLATION, MessageKind.SERIES_CHANGE)
        and appointment.status == AppointmentStatus.CANCELLED
    ):
        return _("The appointment has been cancelled since.")
    if appointment.start <= timezone.now():
        return _("The appointment has already begun.")
    return ""


def resend_refusals(messages, *, tenant) -> dict[int, str]:
    """`resend_refusal` of each message of a page of the log, by id, with the shared reads done once."""
    messages = list(messages)
    checks = ResendChecks.load(tenant, messages)
    return {m.pk: resend_refusal(m, tenant=tenant, checks=checks) for m in messages}


@transaction.atomic
def outbox_resend(*, message_id: int, requested_by, tenant) -> OutboxMessage:
    """Queue a new message with the same kind, channel and recipient, due now and rendered when sent.

    The original row stays as it is (a crash or retry could otherwise send it twice). Raises
    OutboxMessage.DoesNotExist for an unknown id and ResendRefused when the message may not go again.
    """
    # Locked, so two clicks at once number their resends 1 and 2 instead of colliding.
    original = (
        OutboxMessage.objects.select_for_update(of=("self",))
        .select_related("customer", "appointment")
        .get(pk=message_id)
    )
    refusal = resend_refusal(original, tenant=tenant)
    if refusal:
        raise ResendRefused(refusal)
    number = original.resends.count() + 1
    resend = OutboxMessage.objects.create(
        channel=original.channel,
        kind=original.kind,
        recipient=original.recipient,
        appointment=original.appointment,
        customer=original.customer,
        due_at=timezone.now(),
        idempotency_key=f"resend:{original.pk}:{number}",
        # A team message was written when first queued; a customer's is rendered again when sent.
        subject=original.subject if original.to_team else "",
        text=original.text if original.to_team else "",
        resend_of=original,
        requested_by=requested_by,
    )
    outbox_due(resend.due_at)
    transaction.on_commit(partial(send_soon, schema_name=connection.schema_name))
    return resend


@transaction.atomic
def outbox_after_database_restore(*, served_until) -> dict[str, int]:
    """After the whole database went back to an earlier time (point-in-time recovery), in this business.

    The restored outbox cannot know what was sent after its time. An SMS not recorded as sent is looked up
    in the provider's postbox before it goes (its attempt count says "tried before", see `_deliver`), so it is
    recorded rather than sent twice. An e-mail cannot be looked up: one that was due before the old database
    stopped serving (`served_until`) is failed with a reason to check and resend, preferring a visible failure
    to a duplicate, as for an e-mail whose worker died.
    """
    now = timezone.now()
    pending = OutboxMessage.objects.filter(
        status__in=[MessageStatus.QUEUED, MessageStatus.SENDING], provider_message_id=""
    )
    sms = pending.filter(channel=Channel.SMS).update(
        status=MessageStatus.QUEUED,
        attempts=Greatest(F("attempts"), 1),
        reason=Reason.RESTORED_SMS,
        updated_at=now,
    )
    emails = pending.filter(channel=Channel.EMAIL, due_at__lte=served_until).update(
        status=MessageStatus.FAILED, reason=Reason.RESTORED_EMAIL, updated_at=now
    )
    # The restored due index knows nothing of what was queued after its time either.
    outbox_due(now)
    return {"sms_checked_first": sms, "emails_failed": emails}


def send_soon(*, schema_name: str) -> None:
    """Ask a worker to send this business's due messages now instead of at beat's next dispatch.

    Best effort: the message is a committed outbox row marked in the due index, and beat's dispatcher
    sends it anyway. Without a
    broker (Redis away) this must neither fail the request that queued it nor make it wait.
    """
    try:
        current_app.send_task("notifications.send_due", kwargs={"schema_name": schema_name}, retry=False)
    except Exception:
        logger.warning("could not ask a worker to send now; beat's dispatcher will", exc_info=True)


# --- The business's own message texts --------------------------------------------------------------------


def _check_text(text: str) -> None:
    unknown = rendering.unknown_placeholders(text)
    if unknown or rendering.has_stray_braces(text):
        raise InvalidRequest(f"Text with unknown placeholders or stray braces: {unknown}")


@transaction.atomic
def message_template_save(*, kind: str, channel: str, subject: str, body: str, tenant, updated_by):
    """Store the business's own text; a text equal to the default removes the override instead, so the
    business keeps getting improvements of the default. Returns the MessageTemplate or None."""
    if kind not in MessageKind.values or channel not in Channel.values:
        raise InvalidRequest(f"Unknown message {kind} {channel}")
    subject = subject.strip() if channel == Channel.EMAIL else ""
    body = body.strip()
    _check_text(subject)
    _check_text(body)
    if (subject, body) == rendering.default_text(kind=kind, channel=channel, tenant=tenant):
        MessageTemplate.objects.filter(kind=kind, channel=channel).delete()
        return None
    template, _created = MessageTemplate.objects.update_or_create(
        kind=kind, channel=channel, defaults={"subject": subject, "body": body, "updated_by": updated_by}
    )
    return template


@transaction.atomic
def message_template_reset(*, kind: str, channel: str) -> bool:
    """Back to the default text; True if there was an own text."""
    deleted, _rows = MessageTemplate.objects.filter(kind=kind, channel=channel).delete()
    return bool(deleted)
