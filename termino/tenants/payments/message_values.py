"""The `{payment}` placeholder of the customer's messages: what they paid online for the booking and what the
cancellation policy means for them, in the words of the booking's own payment page. Empty (its line left
out) when nothing was paid."""

from datetime import datetime, time, timedelta

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.tenants.business.models import BusinessSettings
from termino.tenants.notifications import rendering

from .models import Payment, PaymentKind, PaymentSettings, PaymentStatus
from .selectors import Policy, policy_for
from .templatetags.payments_display import cents

SHOWN = (PaymentKind.DEPOSIT, PaymentKind.PREPAYMENT, PaymentKind.CARD_ON_FILE)


def register() -> None:
    rendering.value_register("payment", rendering.ValueSource(value=payment_text, sample=sample_text))


def payment_text(appointment, *, channel: str = "") -> str:
    payment = (
        Payment.objects.filter(appointment=appointment, status=PaymentStatus.SUCCEEDED, kind__in=SHOWN)
        .order_by("-pk")
        .first()
    )
    policy = policy_for(payment) if payment is not None else None
    if policy is None:
        return ""
    return _words(policy, kind_name=payment.get_kind_display())


def sample_text() -> str:
    """A 20 € deposit for the sample appointment next Monday at 10:00, under the business's own policy."""
    tenant = current_business()
    zone = timeutils.zone(tenant.time_zone)
    start = timeutils.local_at(timeutils.next_weekday(0, zone), time(10), zone)
    policy = Policy(
        kind=PaymentKind.DEPOSIT,
        amount_cents=2000,
        fee_cents=0,
        refund_percent=PaymentSettings.current().refund_before_cutoff_percent,
        cutoff=start - timedelta(hours=BusinessSettings.current().cancel_cutoff_hours),
    )
    return _words(policy, kind_name=PaymentKind.DEPOSIT.label)


def _when(moment: datetime) -> str:
    local = timeutils.localtime(moment, timeutils.zone(current_business().time_zone))
    return date_format(local, "j F Y, H:i")


def _words(policy: Policy, *, kind_name: str) -> str:
    cutoff = _when(policy.cutoff)
    if policy.kind == PaymentKind.CARD_ON_FILE:
        return " ".join(
            (
                _("Nothing was charged: your card is saved."),
                _(
                    "You can cancel free of charge until %(cutoff)s. If you cancel later or do not come, "
                    "%(business)s may charge %(fee)s to your card."
                )
                % {"cutoff": cutoff, "business": current_business().name, "fee": cents(policy.fee_cents)},
            )
        )
    paid = _("Paid online: %(amount)s (%(kind)s).") % {
        "amount": cents(policy.amount_cents),
        "kind": kind_name,
    }
    if policy.refund_percent == 100:
        rule = " ".join(
            (
                _("Cancel until %(cutoff)s and you get it back in full.") % {"cutoff": cutoff},
                _("If you cancel later or do not come, it is kept."),
            )
        )
    elif policy.refund_percent:
        rule = " ".join(
            (
                _("Cancel until %(cutoff)s and you get %(percent)s %% of it back.")
                % {"cutoff": cutoff, "percent": policy.refund_percent},
                _("If you cancel later or do not come, it is kept."),
            )
        )
    else:
        rule = _("This payment is not refunded if you cancel.")
    return f"{paid} {rule}"
