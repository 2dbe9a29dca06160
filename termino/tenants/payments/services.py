"""Writes of payments: what a booking must pay, the hold while the customer pays, Stripe's events, refunds
and the fee charged to a card on file.

The life of an online booking that asks for money:

    form sent ── payment_hold ──▶ appointment HELD (customer attached) + Payment pending
              ── checkout_start ─▶ Checkout session on the business's account (lives CHECKOUT_MINUTES;
                                   the hold lasts HOLD_GRACE_MINUTES longer, so the session always ends
                                   first and a paid session always finds its slot still held)
    paid (checkout.session.completed / payment_intent.succeeded / setup_intent.succeeded)
              ── the hold becomes the booking (lifecycle.appointment_book_held: confirmation as usual)
    failed (payment_intent.payment_failed) ── session expired at Stripe, hold released
    expired (checkout.session.expired)     ── hold released
    paid after all, but the slot is gone   ── refunded in full at once

Events arrive late, twice or out of order: each is stored by id before it is applied (billing.connect), and
a payment's status only moves forward (paid beats failed or expired, whatever arrives last). Every Stripe
write carries a key made from our row (`Payment.token`, `Refund.pk`), so a retry never charges or refunds
twice.
"""

import logging
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from termino.platform.billing import connect
from termino.platform.duework import due
from termino.platform.tenancy.routing import primary_url
from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.shared.errors import InvalidRequest
from termino.tenants.business.models import BusinessSettings
from termino.tenants.scheduling import events, lifecycle
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import (
    Appointment,
    AppointmentChange,
    AppointmentSource,
    AppointmentStatus,
)

from .models import (
    CustomerPaymentRule,
    Payment,
    PaymentKind,
    PaymentSettings,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    RuleKind,
    ServicePaymentRule,
)

logger = logging.getLogger(__name__)

S = AppointmentStatus
CUSTOMER = Actor(source=AppointmentSource.WIDGET)
CHECKOUT_MINUTES = 30  # Stripe's shortest Checkout session
HOLD_GRACE_MINUTES = 5
MIN_CHARGE_CENTS = 50  # Stripe's smallest charge in euros
REFUNDS_DUE = "payments.refunds"
CHECKOUTS_DUE = "payments.checkouts"


@dataclass(frozen=True)
class Requirement:
    """What a booking must do before it is confirmed: pay `amount_cents` now, or leave a card for
    `fee_cents`."""

    kind: str  # PaymentKind
    amount_cents: int
    fee_cents: int = 0


def price_cents(price) -> int:
    return int((Decimal(price) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def no_show_count(customer) -> int:
    return Appointment.objects.filter(customer=customer, status=S.NO_SHOW).count()


def service_requirement(service) -> Requirement | None:
    return requirement_of_rule(ServicePaymentRule.objects.filter(service=service).first(), service)


def requirement_of_rule(rule: ServicePaymentRule | None, service) -> Requirement | None:
    """What `rule` (the service's, or None) asks for booking `service` online."""
    if rule is None or rule.kind == RuleKind.NONE:
        return None
    full = price_cents(service.price)
    if rule.kind == RuleKind.CARD_ON_FILE:
        return Requirement(PaymentKind.CARD_ON_FILE, 0, fee_cents=rule.amount_cents)
    if rule.kind == RuleKind.DEPOSIT_FIXED:
        amount = min(rule.amount_cents, full) if full else rule.amount_cents
        kind = PaymentKind.DEPOSIT
    elif rule.kind == RuleKind.DEPOSIT_PERCENT:
        amount = (full * rule.percent + 50) // 100
        kind = PaymentKind.DEPOSIT
    else:
        amount, kind = full, PaymentKind.PREPAYMENT
    return Requirement(kind, amount) if amount >= MIN_CHARGE_CENTS else None


def requirement_for(*, service, customer) -> Requirement | None:
    """What booking `service` costs this customer online now; None: book without paying.

    The service's rule, made stricter for a customer the team marked, or with as many no-shows as the
    business's rule names: they pay a deposit where the service would ask for less. Nothing is asked while
    the business cannot take payments (no Stripe account, or Stripe has restricted it).
    """
    if not connect.can_charge(current_business()):
        return None
    requirement = service_requirement(service)
    if requirement is not None and requirement.kind in (PaymentKind.DEPOSIT, PaymentKind.PREPAYMENT):
        return requirement
    rules = PaymentSettings.current()
    flagged = CustomerPaymentRule.objects.filter(customer=customer, always_deposit=True).exists()
    repeat = rules.deposit_after_no_shows and no_show_count(customer) >= rules.deposit_after_no_shows
    if (flagged or repeat) and rules.no_show_deposit_cents >= MIN_CHARGE_CENTS:
        return Requirement(PaymentKind.DEPOSIT, rules.no_show_deposit_cents)
    return requirement


def _description(appointment: Appointment) -> str:
    zone = timeutils.zone(current_business().time_zone)
    local = timeutils.localtime(appointment.start, zone)
    return f"{appointment.service.name}, {local:%Y-%m-%d %H:%M}"[:300]


@transaction.atomic
def payment_hold(
    *, hold: Appointment | None, booking: scheduling.Booking, customer, notes: str, requirement: Requirement
) -> Appointment:
    """The slot held for the customer while they pay (their form's hold, or a new one), and its payment.

    Raises scheduling.Conflict when the time is taken.
    """
    expires = timeutils.shift(timeutils.now(), minutes=CHECKOUT_MINUTES + HOLD_GRACE_MINUTES)
    if hold is None:
        hold = lifecycle.appointment_hold(booking=booking, expires_at=expires)
    hold = lifecycle.hold_keep(hold=hold, expires_at=expires, customer=customer, notes=notes)
    hold = Appointment.objects.select_related("service").get(pk=hold.pk)
    due.mark(CHECKOUTS_DUE, expires)  # settled then, should Stripe's word about the session not come
    Payment.objects.create(
        appointment=hold,
        customer=customer,
        kind=requirement.kind,
        description=_description(hold),
        amount_cents=requirement.amount_cents,
        application_fee_cents=connect.platform_fee(requirement.amount_cents),
        fee_cents=requirement.fee_cents,
        token=secrets.token_urlsafe(24),
    )
    return hold


def pending_payment(appointment: Appointment) -> Payment | None:
    return appointment.payments.filter(status=PaymentStatus.PENDING).order_by("-pk").first()


def checkout_start(*, appointment: Appointment) -> Payment:
    """Open the Checkout session for the appointment's pending payment (idempotent: a replay returns the
    session opened before). Raises PaymentProviderError; the caller releases the hold then."""
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=pending_payment(appointment).pk)
    )
    if payment.checkout_session_id:
        return payment
    tenant = current_business()
    customer = payment.customer
    metadata = {
        "payment": payment.token,
        "schema": connection.schema_name,
        "appointment": str(appointment.pk),
    }
    page = f"/book/payment/{payment.token}/"
    params = {
        "mode": "payment",
        "client_reference_id": payment.token,
        "metadata": metadata,
        "expires_at": int(timeutils.shift(timeutils.now(), minutes=CHECKOUT_MINUTES).timestamp()),
        "locale": tenant.language if tenant.language in ("de", "en") else "auto",
        "success_url": primary_url(tenant, page) + "?session={CHECKOUT_SESSION_ID}",
        "cancel_url": primary_url(tenant, page) + "?back=1",
    }
    if payment.kind == PaymentKind.CARD_ON_FILE:
        stripe_customer = connect.customer_create(
            tenant=tenant,
            params={
                "email": customer.email or None,
                "name": f"{customer.first_name} {customer.last_name}".strip(),
                "metadata": {"schema": connection.schema_name, "customer": str(customer.pk)},
            },
            key=f"termino-customer-{payment.token}",
        )
        payment.stripe_customer_id = stripe_customer["id"]
        params.update(
            mode="setup",
            currency="eur",
            customer=stripe_customer["id"],
            setup_intent_data={"metadata": metadata, "description": payment.description},
        )
    else:
        params.update(
            line_items=[
                {
                    "price_data": {
                        "currency": payment.currency,
                        "unit_amount": payment.amount_cents,
                        "product_data": {"name": f"{payment.get_kind_display()}: {payment.description}"},
                    },
                    "quantity": 1,
                }
            ],
            payment_intent_data={
                "application_fee_amount": payment.application_fee_cents,
                "metadata": metadata,
                "description": payment.description,
            },
        )
        if customer.email:
            params["customer_email"] = customer.email
    session = connect.checkout_create(tenant=tenant, params=params, key=f"termino-checkout-{payment.token}")
    payment.checkout_session_id = session["id"]
    payment.checkout_url = session["url"]
    payment.save(update_fields=["checkout_session_id", "checkout_url", "stripe_customer_id", "updated_at"])
    return payment


def hold_release(appointment: Appointment | None) -> None:
    """The slot is free again: the hold goes (a booking made from it stays)."""
    if appointment is not None:
        Appointment.objects.filter(pk=appointment.pk, status=S.HELD).delete()


# --- Outcomes --------------------------------------------------------------------------------------------


def _locked(payment_id: int) -> Payment:
    return Payment.objects.select_for_update().get(pk=payment_id)


def _paid(payment: Payment, *, intent_id: str = "", method_id: str = "", customer_id: str = "") -> str:
    """The money is in (or the card saved): the held slot becomes the booking. Idempotent."""
    payment = _locked(payment.pk)
    if intent_id and not payment.payment_intent_id:
        payment.payment_intent_id = intent_id
    if method_id:
        payment.payment_method_id = method_id
    if customer_id and not payment.stripe_customer_id:
        payment.stripe_customer_id = customer_id
    if payment.status == PaymentStatus.SUCCEEDED:
        payment.save()
        return f"payment {payment.pk} paid already"
    payment.status, payment.paid_at, payment.failure_message = PaymentStatus.SUCCEEDED, timezone.now(), ""
    payment.save()
    if payment.kind == PaymentKind.FEE:
        return f"fee {payment.pk} paid"
    appointment = (
        Appointment.objects.select_for_update().filter(pk=payment.appointment_id).first()
        if payment.appointment_id
        else None
    )
    if appointment is not None and appointment.status == S.HELD:
        status = S.REQUESTED if BusinessSettings.current().approval_required else S.CONFIRMED
        lifecycle.appointment_book_held(
            actor=CUSTOMER,
            hold=appointment,
            customer=appointment.customer,
            status=status,
            notes=appointment.notes,
        )
        return f"payment {payment.pk} paid: appointment {appointment.pk} {status}"
    if appointment is not None and appointment.status != S.CANCELLED:
        return f"payment {payment.pk} paid: appointment {appointment.pk} stands"
    # Paid for a slot that is gone (the hold lapsed before Stripe's word came): all of it goes back.
    if payment.amount_cents:
        _refund_reserve(payment, payment.amount_cents - payment.refunded_cents, RefundReason.SLOT_LOST)
    return f"payment {payment.pk} paid for a lost slot: refunded"


def _failed(payment: Payment, *, message: str, expire: bool) -> str:
    """The payment did not happen: a booking's session is closed and its slot freed."""
    payment = _locked(payment.pk)
    if payment.status != PaymentStatus.PENDING:
        return f"ignored: payment {payment.pk} is {payment.status}"
    payment.status = PaymentStatus.EXPIRED if not message else PaymentStatus.FAILED
    payment.failure_message = message[:500]
    payment.save(update_fields=["status", "failure_message", "updated_at"])
    if expire and payment.checkout_session_id:
        connect.checkout_expire(
            tenant=current_business(),
            session_id=payment.checkout_session_id,
            key=f"termino-expire-{payment.token}",
        )
    if payment.kind != PaymentKind.FEE:
        hold_release(payment.appointment)
    return f"payment {payment.pk} {payment.status}: slot released"


def checkout_abandon(*, payment: Payment) -> str:
    """The customer gave up on paying (back from Checkout): close the session, free the slot."""
    with transaction.atomic():
        return _failed(payment, message="", expire=True)


def _session_apply(payment: Payment, session: dict) -> str:
    if session.get("status") == "expired":
        return _failed(payment, message="", expire=False)
    if session.get("status") != "complete":
        return "ignored: session still open"
    if session.get("mode") == "setup":
        intent = connect.setup_intent_retrieve(
            tenant=current_business(), setup_intent_id=_id_of(session.get("setup_intent"))
        )
        Payment.objects.filter(pk=payment.pk, setup_intent_id__isnull=True).update(
            setup_intent_id=intent["id"]
        )
        if intent.get("status") != "succeeded":
            return f"ignored: setup intent is {intent.get('status')}"
        return _paid(
            payment,
            method_id=_id_of(intent.get("payment_method")),
            customer_id=_id_of(intent.get("customer")),
        )
    if session.get("payment_status") != "paid":
        return "ignored: session complete but not paid yet"
    return _paid(payment, intent_id=_id_of(session.get("payment_intent")))


def checkout_sync(*, payment: Payment) -> Payment:
    """The customer is back from Checkout: ask Stripe how the session stands, in case its event is late."""
    if payment.status == PaymentStatus.PENDING and payment.checkout_session_id:
        with transaction.atomic():
            _session_apply(
                payment,
                connect.checkout_retrieve(tenant=current_business(), session_id=payment.checkout_session_id),
            )
    return Payment.objects.get(pk=payment.pk)


def _lapsed_checkouts():
    since = timeutils.shift(timeutils.now(), minutes=-(CHECKOUT_MINUTES + HOLD_GRACE_MINUTES))
    return Payment.objects.filter(
        status=PaymentStatus.PENDING, checkout_session_id__isnull=False, created_at__lte=since
    ).exclude(kind=PaymentKind.FEE)


def checkouts_settle() -> int:
    """Due work: sessions whose hold has lapsed without Stripe's last word (a lost or late event). Asks
    Stripe, closes a session still open, and applies what it says: paid after all, or the slot freed."""
    from termino.platform.billing.connect import PaymentProviderError

    settled = 0
    for payment in _lapsed_checkouts().order_by("created_at"):
        try:
            with transaction.atomic():
                tenant = current_business()
                session = connect.checkout_retrieve(tenant=tenant, session_id=payment.checkout_session_id)
                if session.get("status") == "open":
                    closed = connect.checkout_expire(
                        tenant=tenant,
                        session_id=payment.checkout_session_id,
                        key=f"termino-expire-{payment.token}",
                    )
                    session = closed or connect.checkout_retrieve(
                        tenant=tenant, session_id=payment.checkout_session_id
                    )
                _session_apply(payment, session)
        except (PaymentProviderError, InvalidRequest) as exc:
            logger.warning("checkout of payment %s not settled yet: %s", payment.pk, exc)
            continue
        settled += 1
    return settled


def checkouts_next_due():
    first = (
        Payment.objects.filter(status=PaymentStatus.PENDING, checkout_session_id__isnull=False)
        .exclude(kind=PaymentKind.FEE)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return timeutils.shift(first, minutes=CHECKOUT_MINUTES + HOLD_GRACE_MINUTES) if first else None


# --- Stripe's events (billing.connect hands them over inside the business's schema) ---------------------


def _id_of(value) -> str:
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _payment_for(obj: dict, **lookup) -> Payment | None:
    """The payment a Stripe object is about: by its id with us, else by our token in its metadata."""
    for field, value in lookup.items():
        if value:
            found = Payment.objects.filter(**{field: value}).first()
            if found is not None:
                return found
    token = str((obj.get("metadata") or {}).get("payment") or "")
    if token and (obj.get("metadata") or {}).get("schema") == connection.schema_name:
        return Payment.objects.filter(token=token).first()
    return None


def _on_checkout(event: dict) -> str:
    session = event["data"]["object"]
    payment = _payment_for(session, checkout_session_id=session.get("id"))
    if payment is None:
        return "ignored: no payment for this session"
    return _session_apply(payment, session)


def _on_intent(event: dict) -> str:
    intent = event["data"]["object"]
    payment = _payment_for(intent, payment_intent_id=intent.get("id"))
    if payment is None:
        return "ignored: no payment for this payment intent"
    if event["type"] == "payment_intent.succeeded":
        return _paid(payment, intent_id=intent["id"], method_id=_id_of(intent.get("payment_method")))
    error = intent.get("last_payment_error") or {}
    if not payment.payment_intent_id:
        Payment.objects.filter(pk=payment.pk).update(payment_intent_id=intent["id"])
    return _failed(payment, message=str(error.get("message") or _("The payment failed.")), expire=True)


def _on_setup_intent(event: dict) -> str:
    intent = event["data"]["object"]
    payment = _payment_for(intent, setup_intent_id=intent.get("id"))
    if payment is None:
        return "ignored: no payment for this setup intent"
    Payment.objects.filter(pk=payment.pk, setup_intent_id__isnull=True).update(setup_intent_id=intent["id"])
    return _paid(
        payment, method_id=_id_of(intent.get("payment_method")), customer_id=_id_of(intent.get("customer"))
    )


def _ours_unanswered(data: dict, payment: Payment) -> Refund | None:
    """Our refund whose request reached Stripe but whose answer did not reach us (a timeout): named by the
    row id we sent along in its metadata. Without this it would be counted again as one made at Stripe."""
    ours = str((data.get("metadata") or {}).get("refund") or "")
    if not ours.isdigit():
        return None
    return Refund.objects.filter(
        pk=int(ours), payment=payment, stripe_refund_id__isnull=True, status=RefundStatus.PENDING
    ).first()


def _on_charge_refunded(event: dict) -> str:
    """Refunds as Stripe has them: ours are marked done, one made at Stripe's dashboard is recorded."""
    charge = event["data"]["object"]
    payment = _payment_for(charge, payment_intent_id=_id_of(charge.get("payment_intent")))
    if payment is None:
        return "ignored: no payment for this charge"
    payment = _locked(payment.pk)
    noted = 0
    for data in (charge.get("refunds") or {}).get("data") or []:
        status = (
            RefundStatus.FAILED if data.get("status") in ("failed", "canceled") else RefundStatus.SUCCEEDED
        )
        refund = Refund.objects.filter(stripe_refund_id=data.get("id")).first() or _ours_unanswered(
            data, payment
        )
        if refund is not None:
            if refund.status == RefundStatus.PENDING:
                refund.stripe_refund_id = data["id"]
                _refund_settle(refund, payment, status)
            continue
        room = payment.amount_cents - payment.refunded_cents
        amount = min(int(data.get("amount") or 0), room)
        if status == RefundStatus.SUCCEEDED and amount > 0:
            Refund.objects.create(
                payment=payment,
                amount_cents=amount,
                status=status,
                reason=RefundReason.STRIPE,
                stripe_refund_id=data["id"],
            )
            payment.refunded_cents += amount
            noted += 1
    payment.save(update_fields=["refunded_cents", "updated_at"])
    return f"payment {payment.pk}: refunded {payment.refunded_cents} cents ({noted} new)"


HANDLERS = {
    "checkout.session.completed": _on_checkout,
    "checkout.session.async_payment_succeeded": _on_checkout,
    "checkout.session.expired": _on_checkout,
    "payment_intent.succeeded": _on_intent,
    "payment_intent.payment_failed": _on_intent,
    "setup_intent.succeeded": _on_setup_intent,
    "charge.refunded": _on_charge_refunded,
}


def event_apply(event: dict) -> str:
    handler = HANDLERS.get(event["type"])
    return handler(event) if handler else "ignored: event type not handled"


# --- Refunds ---------------------------------------------------------------------------------------------


def _refund_reserve(payment: Payment, amount: int, reason: str, user=None) -> Refund | None:
    """A refund row, its amount taken from what may still be refunded (the caller holds the payment's lock).
    Sent once the transaction commits; the due work retries what is still pending."""
    if amount <= 0:
        return None
    refund = Refund.objects.create(payment=payment, amount_cents=amount, reason=reason, created_by=user)
    Payment.objects.filter(pk=payment.pk).update(refunded_cents=F("refunded_cents") + amount)
    payment.refresh_from_db(fields=["refunded_cents"])
    due.mark(REFUNDS_DUE, timezone.now())
    schema = connection.schema_name

    def send():
        from django_tenants.utils import schema_context

        with schema_context(schema):
            refund_send(refund_id=refund.pk)

    transaction.on_commit(send, robust=True)
    return refund


def _refund_settle(refund: Refund, payment: Payment, status: str, message: str = "") -> None:
    refund.status, refund.failure_message = status, message[:500]
    refund.save(update_fields=["status", "failure_message", "stripe_refund_id"])
    if status == RefundStatus.FAILED:  # the amount may be refunded again
        payment.refunded_cents -= refund.amount_cents
        Payment.objects.filter(pk=payment.pk).update(refunded_cents=F("refunded_cents") - refund.amount_cents)


def refund_send(*, refund_id: int) -> Refund:
    """Ask Stripe for a pending refund (its row's key makes a second ask return the first refund)."""
    from termino.platform.billing.connect import PaymentProviderError

    with transaction.atomic():
        refund = Refund.objects.select_related("payment").get(pk=refund_id)
        payment = _locked(refund.payment_id)  # payment first, as the event handlers lock
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != RefundStatus.PENDING or refund.stripe_refund_id:
            return refund
        try:
            result = connect.refund_create(
                tenant=current_business(),
                params={
                    "payment_intent": payment.payment_intent_id,
                    "amount": refund.amount_cents,
                    "refund_application_fee": True,
                    "metadata": {
                        "payment": payment.token,
                        "schema": connection.schema_name,
                        "refund": str(refund.pk),  # names the row if Stripe's answer is lost
                    },
                },
                key=f"termino-refund-{connection.schema_name}-{refund.pk}",
            )
        except (PaymentProviderError, InvalidRequest) as exc:
            logger.warning("refund %s not sent yet: %s", refund.pk, exc)
            return refund
        refund.stripe_refund_id = result["id"]
        failed = result.get("status") in ("failed", "canceled")
        _refund_settle(refund, payment, RefundStatus.FAILED if failed else RefundStatus.SUCCEEDED)
        return refund


def refunds_send_pending() -> int:
    """Due work: send the refunds still pending (Stripe was away, or the process stopped)."""
    ids = list(
        Refund.objects.filter(status=RefundStatus.PENDING, stripe_refund_id__isnull=True).values_list(
            "pk", flat=True
        )
    )
    return sum(refund_send(refund_id=pk).status != RefundStatus.PENDING for pk in ids)


def refunds_next_due():
    first = Refund.objects.filter(status=RefundStatus.PENDING).order_by("created_at").first()
    return first.created_at if first else None


@transaction.atomic
def refund_by_staff(*, payment: Payment, amount_cents: int | None, user) -> Refund:
    """Give back all that is left of a payment, or `amount_cents` of it."""
    payment = _locked(payment.pk)
    if payment.status != PaymentStatus.SUCCEEDED or payment.amount_cents == 0:
        raise InvalidRequest(_("Only a payment that was made can be refunded."))
    left = payment.amount_cents - payment.refunded_cents
    amount = left if amount_cents is None else amount_cents
    if left <= 0:
        raise InvalidRequest(_("This payment has been refunded in full already."))
    if not 0 < amount <= left:
        raise InvalidRequest(_("You can refund between 0.01 and %(left)s.") % {"left": f"{left / 100:.2f} €"})
    return _refund_reserve(payment, amount, RefundReason.STAFF, user)


def _cutoff_passed(appointment: Appointment, at) -> bool:
    hours = BusinessSettings.current().cancel_cutoff_hours
    return at >= timeutils.shift(appointment.start, hours=-hours)


def _on_cancelled(event: events.AppointmentEvent) -> None:
    """Cancelled before the cut-off (or a request declined): what was paid goes back by the policy.
    Later, or a no-show, it is kept; a card on file is charged only by the team (`fee_charge`)."""
    if event.kind not in (events.CANCELLED, events.DECLINED):
        return
    appointment = event.appointment
    if event.kind == events.CANCELLED and _cutoff_passed(appointment, timezone.now()):
        return
    percent = 100 if event.kind == events.DECLINED else PaymentSettings.current().refund_before_cutoff_percent
    paid = Payment.objects.select_for_update().filter(
        appointment=appointment,
        status=PaymentStatus.SUCCEEDED,
        kind__in=(PaymentKind.DEPOSIT, PaymentKind.PREPAYMENT),
    )
    for payment in paid:
        if payment.refunds.filter(reason=RefundReason.POLICY).exists():
            continue
        amount = min(
            (payment.amount_cents * percent + 50) // 100, payment.amount_cents - payment.refunded_cents
        )
        _refund_reserve(payment, amount, RefundReason.POLICY)


# --- The fee of a card on file ---------------------------------------------------------------------------


def fee_refusal(card: Payment) -> str:
    """Why the card on file cannot be charged now ("" when it can)."""
    if card.kind != PaymentKind.CARD_ON_FILE or card.status != PaymentStatus.SUCCEEDED:
        return _("There is no saved card for this appointment.")
    charged = Payment.objects.filter(charged_from=card).exclude(status=PaymentStatus.FAILED)
    if charged.exclude(pk__in=_unsent_fees(card)).exists():
        return _("The fee has been charged already.")
    appointment = card.appointment
    if appointment is None:
        return _("The appointment no longer exists.")
    if appointment.status == S.NO_SHOW:
        return ""
    if appointment.status == S.CANCELLED and _cutoff_passed(appointment, _cancelled_at(appointment)):
        return ""
    return _("The fee can be charged only for a no-show or a cancellation after the cut-off.")


def _cancelled_at(appointment: Appointment):
    """When it was cancelled, from its history (a later save, e.g. an erasure, moves `updated_at`)."""
    at = (
        AppointmentChange.objects.filter(appointment=appointment, kind=events.CANCELLED)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return at or appointment.updated_at


def _unsent_fees(card: Payment):
    """Fees whose request to Stripe got no answer (Stripe away): charging again retries such a fee under its
    own key, so a request that did reach Stripe is not charged twice."""
    return Payment.objects.filter(
        charged_from=card, status=PaymentStatus.PENDING, payment_intent_id__isnull=True
    ).values("pk")


def fee_charge(*, card: Payment, user) -> Payment:
    """Charge the no-show (or late cancellation) fee to the customer's saved card, off session."""
    with transaction.atomic():
        card = Payment.objects.select_for_update(of=("self",)).select_related("appointment").get(pk=card.pk)
        refusal = fee_refusal(card)
        if refusal:
            raise InvalidRequest(refusal)
        fee = Payment.objects.filter(pk__in=_unsent_fees(card)).first()  # a retry: the same row, key
        if fee is None:
            Payment.objects.filter(charged_from=card, status=PaymentStatus.FAILED).update(charged_from=None)
            fee = Payment.objects.create(
                appointment=card.appointment,
                customer=card.customer,
                kind=PaymentKind.FEE,
                description=card.description,
                amount_cents=card.fee_cents,
                application_fee_cents=connect.platform_fee(card.fee_cents),
                token=secrets.token_urlsafe(24),
                stripe_customer_id=card.stripe_customer_id,
                payment_method_id=card.payment_method_id,
                charged_from=card,
                created_by=user,
            )
    with transaction.atomic():
        fee = _locked(fee.pk)
        intent = connect.payment_intent_create(
            tenant=current_business(),
            params={
                "amount": fee.amount_cents,
                "currency": fee.currency,
                "customer": fee.stripe_customer_id,
                "payment_method": fee.payment_method_id,
                "off_session": True,
                "confirm": True,
                "application_fee_amount": fee.application_fee_cents,
                "description": fee.description,
                "metadata": {"payment": fee.token, "schema": connection.schema_name},
            },
            key=f"termino-fee-{fee.token}",
        )
        if intent.get("id"):
            fee.payment_intent_id = intent["id"]
            fee.save(update_fields=["payment_intent_id", "updated_at"])
        if intent.get("status") == "succeeded":
            _paid(fee, intent_id=intent["id"])
        elif intent.get("status") in ("processing",):
            pass  # its event settles it
        else:
            message = (intent.get("last_payment_error") or {}).get("message") or _(
                "The bank asks the customer to confirm this payment; it cannot be charged without them."
            )
            _failed(fee, message=str(message), expire=False)
    return Payment.objects.get(pk=fee.pk)


def customer_deposit_set(*, customer, always: bool) -> CustomerPaymentRule:
    rule, _created = CustomerPaymentRule.objects.update_or_create(
        customer=customer, defaults={"always_deposit": always}
    )
    return rule


def register() -> None:
    events.subscribe(_on_cancelled)
    connect.register(event_apply)
    due.register(REFUNDS_DUE, run=refunds_send_pending, next_due=refunds_next_due)
    due.register(CHECKOUTS_DUE, run=checkouts_settle, next_due=checkouts_next_due)
