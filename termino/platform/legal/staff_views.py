"""The legal texts in the staff admin, /staff/legal/: what the operator enters (controller, contact, data-
protection officer, supervisory authority, hosting, backups), the sub-processors and their changes, and
the published versions. Every change is in the staff audit log."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views import View

from termino.platform.staffadmin.views import StaffRequiredMixin
from termino.shared.client_ip import client_ip
from termino.shared.errors import InvalidRequest

from . import forms, selectors, services
from .models import DocumentKind


def _context(request, **given) -> dict:
    today = services.legal_today()
    built = [*services.build(DocumentKind.PRIVACY).values(), *services.build(DocumentKind.DPA).values()]
    language = "de" if (request.LANGUAGE_CODE or "").startswith("de") else "en"
    warnings = selectors.open_warnings([d for d in built if d.language == language])
    operator = selectors.operator_get()
    providers = list(selectors.subprocessors_all())
    for provider in providers:
        provider.end_form = forms.SubProcessorEndForm(
            prefix=f"end{provider.pk}", initial={"effective_on": services.default_effective_on()}
        )
        provider.in_effect = provider.active_from <= today and not (
            provider.active_until and provider.active_until <= today
        )
    context = {
        "section": "legal",
        "warnings": warnings,
        "operator": operator,
        "operator_form": forms.OperatorForm(instance=operator),
        "add_form": forms.SubProcessorAddForm(initial={"effective_on": services.default_effective_on()}),
        "providers": providers,
        "today": today,
        "changes": selectors.change_list(),
        "privacy_versions": selectors.version_list(DocumentKind.PRIVACY)[:10],
        "dpa_versions": selectors.version_list(DocumentKind.DPA)[:10],
    }
    context.update(given)
    return context


class LegalView(StaffRequiredMixin, View):
    http_method_names = ["get", "head"]

    def get(self, request):
        for kind in DocumentKind.values:
            services.document_current(kind)
        return render(request, "legal/staff.html", _context(request))


class OperatorSaveView(StaffRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        form = forms.OperatorForm(request.POST, instance=selectors.operator_get())
        if not form.is_valid():
            return render(
                request,
                "legal/staff.html",
                _context(request, operator_form=form, failed="operator"),
                status=400,
            )
        services.operator_update(staff=request.user, data=form.cleaned_data, ip=client_ip(request))
        messages.success(request, _("Saved. The privacy notice and the AV contract are up to date."))
        return redirect("staffadmin:legal")


class SubProcessorAddView(StaffRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        form = forms.SubProcessorAddForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                change = services.subprocessor_add(
                    staff=request.user,
                    new=services.NewSubProcessor(
                        name=d["name"],
                        address=d["address"],
                        category=d["category"],
                        purpose=d["purpose"],
                        location=d["location"],
                        safeguards=d["safeguards"],
                        customer_data=d["customer_data"],
                    ),
                    effective_on=d["effective_on"],
                    reason=d["reason"],
                    notify=d["notify"],
                    ip=client_ip(request),
                )
            except InvalidRequest as exc:
                form.add_error("effective_on", exc.message)
            else:
                messages.success(request, _change_message(change, d["notify"]))
                return redirect("staffadmin:legal")
        return render(request, "legal/staff.html", _context(request, add_form=form, failed="add"), status=400)


class SubProcessorEndView(StaffRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk: int):
        form = forms.SubProcessorEndForm(request.POST, prefix=f"end{pk}")
        if form.is_valid():
            d = form.cleaned_data
            try:
                change = services.subprocessor_end(
                    staff=request.user,
                    subprocessor_id=pk,
                    effective_on=d["effective_on"],
                    reason=d["reason"],
                    notify=d["notify"],
                    ip=client_ip(request),
                )
            except InvalidRequest as exc:
                form.add_error("effective_on", exc.message)
            else:
                messages.success(request, _change_message(change, d["notify"]))
                return redirect("staffadmin:legal")
        context = _context(request, failed=f"end{pk}")
        for provider in context["providers"]:
            if provider.pk == pk:
                provider.end_form = form
        return render(request, "legal/staff.html", context, status=400)


def _change_message(change, notified: bool) -> str:
    if notified:
        return _(
            "Saved. Every business owner is told by e-mail that the change takes effect on %(date)s."
        ) % {"date": formats.date_format(change.effective_on, "DATE_FORMAT")}
    return _("Saved without e-mails to the business owners.")
