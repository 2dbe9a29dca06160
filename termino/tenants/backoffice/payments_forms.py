"""Forms of the payments pages: the policy, a service's rule, a refund and the fee of a card on file.

Amounts are typed as the business writes prices (shared/money.py) and handed on in cents."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from termino.shared.money import PriceField
from termino.tenants.payments.models import RuleKind


def to_cents(amount: Decimal | None) -> int:
    return int((amount or Decimal(0)) * 100)


class PolicyForm(forms.Form):
    refund_before_cutoff_percent = forms.IntegerField(
        label=_("Refund on cancellation before the cut-off (%)"), min_value=0, max_value=100
    )
    deposit_after_no_shows = forms.IntegerField(
        label=_("Ask for a deposit after this many no-shows (0: never)"), min_value=0, max_value=100
    )
    no_show_deposit = PriceField(label=_("Deposit for such customers"), help_text="")


class ServiceRuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Payment when booking online"), choices=RuleKind.choices)
    amount = PriceField(
        label=_("Amount (fixed deposit, or the card-on-file fee)"), required=False, help_text=""
    )
    percent = forms.IntegerField(label=_("Percent of the price"), min_value=0, max_value=100, required=False)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind in (RuleKind.DEPOSIT_FIXED, RuleKind.CARD_ON_FILE) and to_cents(data.get("amount")) < 50:
            self.add_error("amount", _("Please enter an amount of at least 0.50 €."))
        if kind == RuleKind.DEPOSIT_PERCENT and not 1 <= (data.get("percent") or 0) <= 100:
            self.add_error("percent", _("Please enter a percentage between 1 and 100."))
        return data


class RefundForm(forms.Form):
    amount = PriceField(label=_("Amount to refund (empty: all that is left)"), required=False, help_text="")
    confirm = forms.BooleanField(label=_("Yes, refund this to the customer"))


class FeeForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, charge the fee to the customer's card"))
