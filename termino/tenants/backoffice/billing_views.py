"""The owner's billing page: plan, status, limits and usage; subscribe, change plan, buy SMS, and the
Stripe Billing Portal for payment method, invoices and cancellation.

Owner only. It must keep working while the business is suspended or cancelled: paying is the way back.
Billing is read through termino.platform.billing.selectors and written through its services; the
Stripe-hosted pages are reached by a 303 redirect after a POST.
"""

from django import forms
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from termino.platform.billing import selectors as billing
from termino.platform.billing import services as billing_services
from termino.shared.errors import InvalidRequest

from .permissions import OWNER, role_required

TEMPLATE = "backoffice/billing/index.html"
STATUS_BADGES = {
    "trial": "badge-info",
    "active": "badge-ok",
    "past_due": "badge-warn",
    "suspended": "badge-err",
    "cancelled": "badge-err",
}


class PlanChoiceForm(forms.Form):
    plan = forms.CharField(max_length=32)
    interval = forms.ChoiceField(choices=(("month", _("monthly")), ("year", _("yearly"))))

    def clean_plan(self):
        plan = billing.plan_by_code(self.cleaned_data["plan"])
        if plan is None:
            raise forms.ValidationError(_("Please choose one of the plans shown."))
        return plan


class SmsPackForm(forms.Form):
    pack = forms.CharField(max_length=32)

    def clean_pack(self):
        pack = billing.sms_pack_by_code(self.cleaned_data["pack"])
        if pack is None:
            raise forms.ValidationError(_("Please choose one of the SMS packs shown."))
        return pack


def _render(request, *, status: int = 200, error: str = ""):
    tenant = request.tenant
    state = billing.billing_state(tenant)
    checkout = request.GET.get("checkout")
    context = {
        "section": "billing",
        "state": state,
        "status_badge": STATUS_BADGES.get(state.status, ""),
        "limits": billing.limits(tenant),
        "usage": billing.usage(tenant),
        "plans": billing.plan_list(),
        "packs": billing.sms_pack_list(),
        "payments_ready": billing.payments_configured(),
        "checkout": checkout if checkout in ("success", "cancelled") else "",
        "error": error,
    }
    return render(request, TEMPLATE, context, status=status)


def _form_error(form) -> str:
    return " ".join(str(message) for messages in form.errors.values() for message in messages)


def _hosted(start, **kwargs):
    """Run a *_start service; a Stripe-hosted page is reached with a 303 (see other) after the POST."""
    try:
        page = start(**kwargs)
    except InvalidRequest as exc:
        return None, exc.message, 400
    except billing_services.PaymentProviderError as exc:
        return None, exc.message, 502
    response = HttpResponseRedirect(page.url)
    response.status_code = 303
    return response, "", 303


@role_required(*OWNER)
def billing_index(request):
    return _render(request)


@role_required(*OWNER)
@require_POST
def billing_checkout(request):
    form = PlanChoiceForm(request.POST)
    if not form.is_valid():
        return _render(request, status=400, error=_form_error(form))
    response, error, status = _hosted(
        billing_services.billing_checkout_start,
        tenant=request.tenant,
        plan=form.cleaned_data["plan"],
        interval=form.cleaned_data["interval"],
    )
    return response or _render(request, status=status, error=error)


@role_required(*OWNER)
@require_POST
def billing_portal(request):
    response, error, status = _hosted(billing_services.billing_portal_start, tenant=request.tenant)
    return response or _render(request, status=status, error=error)


@role_required(*OWNER)
@require_POST
def billing_sms_pack(request):
    form = SmsPackForm(request.POST)
    if not form.is_valid():
        return _render(request, status=400, error=_form_error(form))
    response, error, status = _hosted(
        billing_services.sms_pack_checkout_start, tenant=request.tenant, pack=form.cleaned_data["pack"]
    )
    return response or _render(request, status=status, error=error)
