"""Payments in the backoffice: the list with CSV export, the business's Stripe account (Connect
onboarding, its status), the payment rules, an appointment's payments with refunds and the card-on-file
fee, and the customer's deposit rule. Owners and managers only: money is the business's.

The work is done in termino.tenants.payments (services, selectors); Stripe is reached through
billing.connect, always on this business's own account.
"""

import csv

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from termino.platform.billing import connect
from termino.shared.errors import InvalidRequest
from termino.shared.spreadsheet import text_cell
from termino.tenants.crm.models import Customer
from termino.tenants.payments import selectors, services
from termino.tenants.payments.models import PaymentSettings, PaymentStatus, ServicePaymentRule
from termino.tenants.scheduling.models import Appointment, Service

from .payments_forms import FeeForm, PolicyForm, RefundForm, ServiceRuleForm, to_cents
from .permissions import MANAGERS, OWNER, role_required

LIST_LIMIT = 500


@role_required(*MANAGERS)
def payments_list(request):
    status = request.GET.get("status", "")
    status = status if status in PaymentStatus.values else ""
    rows = selectors.payments(status=status)
    return render(
        request,
        "backoffice/payments/list.html",
        {
            "section": "payments",
            "rows": rows[:LIST_LIMIT],
            "status": status,
            "statuses": PaymentStatus.choices,
            "time_zone": request.tenant.time_zone,
        },
    )


class _Echo:
    def write(self, value):
        return value


@role_required(*MANAGERS)
def payments_export(request):
    """Every payment, refund and platform fee as CSV (amounts in euros with a point, times in UTC)."""
    writer = csv.writer(_Echo())

    def euros(cents: int) -> str:
        return f"{cents / 100:.2f}"

    def lines():
        yield writer.writerow(
            [
                "created_at",
                "paid_at",
                "kind",
                "status",
                "for",
                "customer",
                "amount_eur",
                "refunded_eur",
                "platform_fee_eur",
                "currency",
                "stripe_payment_intent",
                "refunds",
            ]
        )
        for p in selectors.payments().iterator(chunk_size=500):
            refunds = "; ".join(
                f"{r.created_at:%Y-%m-%dT%H:%M:%SZ} {euros(r.amount_cents)} {r.status} {r.reason}"
                for r in p.refunds.all()
            )
            yield writer.writerow(
                [
                    f"{p.created_at:%Y-%m-%dT%H:%M:%SZ}",
                    f"{p.paid_at:%Y-%m-%dT%H:%M:%SZ}" if p.paid_at else "",
                    p.kind,
                    p.status,
                    text_cell(p.description),  # the customer typed the name on the booking page
                    text_cell(str(p.customer or "")),
                    euros(p.amount_cents),
                    euros(p.refunded_cents),
                    euros(p.application_fee_cents),
                    p.currency.upper(),
                    p.payment_intent_id or "",
                    text_cell(refunds),
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="payments.csv"'
    return response


def _settings_context(request, policy_form=None, rule_errors=None) -> dict:
    rules = {r.service_id: r for r in ServicePaymentRule.objects.all()}
    policy = PaymentSettings.current()
    services_ = []
    for service in Service.objects.filter(active=True).order_by("name"):
        rule = rules.get(service.pk)
        services_.append(
            {
                "service": service,
                "rule": rule,
                "form": (rule_errors or {}).get(service.pk)
                or ServiceRuleForm(
                    prefix=f"s{service.pk}",
                    initial={
                        "kind": rule.kind if rule else "none",
                        "amount": (rule.amount_cents / 100) if rule and rule.amount_cents else None,
                        "percent": rule.percent if rule and rule.percent else None,
                    },
                ),
            }
        )
    account = connect.account_of(request.tenant)
    return {
        "section": "payments",
        "account": account,
        "account_reason": connect.reason_text(account) if account else "",
        "policy_form": policy_form
        or PolicyForm(
            initial={
                "refund_before_cutoff_percent": policy.refund_before_cutoff_percent,
                "deposit_after_no_shows": policy.deposit_after_no_shows,
                "no_show_deposit": policy.no_show_deposit_cents / 100,
            }
        ),
        "services": services_,
    }


@role_required(*MANAGERS)
def payments_settings(request):
    if request.method == "POST" and request.POST.get("form") == "policy":
        form = PolicyForm(request.POST)
        if form.is_valid():
            PaymentSettings.objects.update_or_create(
                pk=1,
                defaults={
                    "refund_before_cutoff_percent": form.cleaned_data["refund_before_cutoff_percent"],
                    "deposit_after_no_shows": form.cleaned_data["deposit_after_no_shows"],
                    "no_show_deposit_cents": to_cents(form.cleaned_data["no_show_deposit"]),
                },
            )
            messages.success(request, _("The payment policy has been saved."))
            return redirect("payments:settings")
        return render(
            request, "backoffice/payments/settings.html", _settings_context(request, form), status=400
        )
    if request.method == "POST" and request.POST.get("form") == "service":
        service = get_object_or_404(Service, pk=request.POST.get("service") or 0, active=True)
        form = ServiceRuleForm(request.POST, prefix=f"s{service.pk}")
        if form.is_valid():
            data = form.cleaned_data
            ServicePaymentRule.objects.update_or_create(
                service=service,
                defaults={
                    "kind": data["kind"],
                    "amount_cents": to_cents(data.get("amount"))
                    if data["kind"] in ("deposit_fixed", "card_on_file")
                    else 0,
                    "percent": data.get("percent") or 0 if data["kind"] == "deposit_percent" else 0,
                },
            )
            messages.success(
                request, _("The payment rule of %(service)s has been saved.") % {"service": service.name}
            )
            return redirect("payments:settings")
        context = _settings_context(request, rule_errors={service.pk: form})
        return render(request, "backoffice/payments/settings.html", context, status=400)
    return render(request, "backoffice/payments/settings.html", _settings_context(request))


@require_POST
@role_required(*OWNER)
def connect_start(request):
    """To Stripe's onboarding (the account is created on the first click)."""
    try:
        url = connect.onboarding_start(tenant=request.tenant)
    except (connect.PaymentProviderError, InvalidRequest) as exc:
        messages.error(request, exc.message)
        return redirect("payments:settings")
    return HttpResponseRedirect(url, status=303)


@role_required(*OWNER)
def connect_return(request):
    """Back from Stripe's onboarding: how the account stands now."""
    try:
        account = connect.account_refresh(tenant=request.tenant)
    except connect.PaymentProviderError as exc:
        messages.error(request, exc.message)
        return redirect("payments:settings")
    if account is not None and account.status == "enabled":
        messages.success(request, _("Your Stripe account is ready: customers can now pay online."))
    return redirect("payments:settings")


@role_required(*OWNER)
def connect_refresh(request):
    """Stripe's onboarding link expired (or was used): a fresh one."""
    try:
        return HttpResponseRedirect(connect.onboarding_start(tenant=request.tenant))
    except connect.PaymentProviderError as exc:
        messages.error(request, exc.message)
        return redirect("payments:settings")


def _appointment(pk: int) -> Appointment:
    appointment = Appointment.objects.select_related("service", "customer").filter(pk=pk).first()
    if appointment is None or appointment.status == "held":
        raise Http404
    return appointment


def _appointment_page(request, appointment, *, refund_forms=None, fee_form=None, status=200):
    rows = list(selectors.payments(appointment_id=appointment.pk))
    card = selectors.card_on_file(appointment)
    return render(
        request,
        "backoffice/payments/appointment.html",
        {
            "section": "payments",
            "appointment": appointment,
            "rows": [(p, (refund_forms or {}).get(p.pk) or RefundForm(prefix=f"r{p.pk}")) for p in rows],
            "card": card,
            "fee_refusal": services.fee_refusal(card) if card else "",
            "fee_form": fee_form or FeeForm(),
            "time_zone": request.tenant.time_zone,
        },
        status=status,
    )


@role_required(*MANAGERS)
def appointment_payments(request, pk: int):
    return _appointment_page(request, _appointment(pk))


@require_POST
@role_required(*MANAGERS)
def payment_refund(request, pk: int, payment_id: int):
    appointment = _appointment(pk)
    payment = get_object_or_404(selectors.payments(appointment_id=appointment.pk), pk=payment_id)
    form = RefundForm(request.POST, prefix=f"r{payment.pk}")
    if form.is_valid():
        amount = form.cleaned_data.get("amount")
        try:
            services.refund_by_staff(
                payment=payment, amount_cents=to_cents(amount) if amount else None, user=request.user
            )
        except InvalidRequest as exc:
            form.add_error("amount", exc.message)
        else:
            messages.success(request, _("The refund has been sent to Stripe."))
            return redirect("payments:appointment", pk=appointment.pk)
    return _appointment_page(request, appointment, refund_forms={payment.pk: form}, status=400)


@require_POST
@role_required(*MANAGERS)
def fee_charge(request, pk: int):
    appointment = _appointment(pk)
    card = selectors.card_on_file(appointment)
    form = FeeForm(request.POST)
    if card is None:
        raise Http404
    if form.is_valid():
        try:
            fee = services.fee_charge(card=card, user=request.user)
        except (InvalidRequest, connect.PaymentProviderError) as exc:
            form.add_error(None, exc.message)
        else:
            if fee.status == PaymentStatus.SUCCEEDED:
                messages.success(request, _("The fee has been charged to the customer's card."))
            else:
                messages.error(request, fee.failure_message or _("The card could not be charged."))
            return redirect("payments:appointment", pk=appointment.pk)
    return _appointment_page(request, appointment, fee_form=form, status=400)


@require_POST
@role_required(*MANAGERS)
def customer_deposit(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    services.customer_deposit_set(customer=customer, always=request.POST.get("always_deposit") == "1")
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("customers:detail", args=[customer.pk]) + "#payments")
