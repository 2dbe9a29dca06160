"""Privacy pages of the backoffice, under /privacy/: a customer's rights, the audit trail, customers'
requests from the booking page, and the business's own rights (export everything, close the account).

Owners and managers exercise customers' rights; staff members may not (403). Restricted customers are
visible to the owner only, so for everyone else they are a 404 here as on the customer pages. The
business's export and closing are the owner's.
"""

import tempfile
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from termino.shared.errors import InvalidRequest
from termino.tenants.privacy import selectors, services
from termino.tenants.privacy.exports import business_export_write, export_csv_zip, export_json
from termino.tenants.privacy.forms import (
    AccountCloseForm,
    EraseConfirmForm,
    EventFilterForm,
    RequestActionForm,
)
from termino.tenants.privacy.http import audit, client_ip
from termino.tenants.privacy.models import EventAction, PrivacyRequest, RequestKind, RequestStatus

from .permissions import MANAGERS, OWNER, role_required

LOG_PAGE_SIZE = 50
REQUEST_PAGE_SIZE = 25


def _download(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _customer_filename(customer, extension: str) -> str:
    return f"{slugify(customer) or 'customer'}-{customer.pk}-{timezone.localdate().isoformat()}.{extension}"


def _back_to_customer(customer):
    return redirect(reverse("customers:detail", args=[customer.pk]) + "#privacy")


# --- One customer --------------------------------------------------------------------------------------


@role_required(*MANAGERS)
@require_GET
def customer_export_json(request, pk):
    customer = selectors.customer_for(user=request.user, pk=pk)
    data = services.customer_export(customer=customer)
    audit(request, EventAction.EXPORT, customer=customer, details={"format": "json"})
    return _download(
        export_json(data),
        content_type="application/json; charset=utf-8",
        filename=_customer_filename(customer, "json"),
    )


@role_required(*MANAGERS)
@require_GET
def customer_export_csv(request, pk):
    customer = selectors.customer_for(user=request.user, pk=pk)
    data = services.customer_export(customer=customer)
    audit(request, EventAction.EXPORT, customer=customer, details={"format": "csv"})
    return _download(
        export_csv_zip(data), content_type="application/zip", filename=_customer_filename(customer, "zip")
    )


@role_required(*MANAGERS)
@require_POST
def customer_restrict(request, pk):
    customer = selectors.customer_for(user=request.user, pk=pk)
    services.customer_restrict(customer=customer, actor=request.user, ip=client_ip(request))
    if selectors.sees_restricted(request.user):
        messages.success(request, _("Processing restricted: no messages, hidden from lists and exports."))
        return _back_to_customer(customer)
    messages.success(
        request,
        _("Processing restricted. The customer is now hidden; only the owner can see them and lift it."),
    )
    return redirect("customers:list")


@role_required(*MANAGERS)
@require_POST
def customer_unrestrict(request, pk):
    customer = selectors.customer_for(user=request.user, pk=pk)
    services.customer_unrestrict(customer=customer, actor=request.user, ip=client_ip(request))
    messages.success(request, _("The restriction has been lifted."))
    return _back_to_customer(customer)


@role_required(*MANAGERS)
@require_POST
def customer_object(request, pk):
    customer = selectors.customer_for(user=request.user, pk=pk)
    services.customer_object_marketing(customer=customer, actor=request.user, ip=client_ip(request))
    messages.success(request, _("Objection to marketing recorded."))
    return _back_to_customer(customer)


@role_required(*MANAGERS)
@require_POST
def customer_erase_cancel_future(request, pk):
    """Before an erasure: cancel the customer's future appointments, with or without a message to them."""
    customer = selectors.customer_for(user=request.user, pk=pk)
    notify = request.POST.get("notify") == "1"
    count = services.customer_future_cancel(customer=customer, actor=request.user, notify=notify)
    if notify:
        text = ngettext(
            "%(n)d appointment cancelled; the customer is told before you erase their data.",
            "%(n)d appointments cancelled; the customer is told before you erase their data.",
            count,
        )
    else:
        text = ngettext(
            "%(n)d appointment cancelled without a message.",
            "%(n)d appointments cancelled without a message.",
            count,
        )
    messages.success(request, text % {"n": count})
    return redirect("privacy:customer_erase", pk=customer.pk)


@role_required(*MANAGERS)
def customer_erase(request, pk):
    customer = selectors.customer_for(user=request.user, pk=pk)
    form = EraseConfirmForm(request.POST or None, expected=str(customer))
    if request.method == "POST":
        if form.is_valid():
            result = services.customer_erase(customer=customer, actor=request.user, ip=client_ip(request))
            messages.success(
                request,
                _("The customer's data has been erased. Appointments kept without a name: %(n)d.")
                % {"n": result.appointments_anonymised},
            )
            return redirect("customers:list")
        status = 400
    else:
        status = 200
    context = {
        "section": "customers",
        "customer": customer,
        "form": form,
        "preview": services.erasure_preview(customer=customer),
    }
    return render(request, "backoffice/privacy/erase.html", context, status=status)


# --- Audit trail ---------------------------------------------------------------------------------------


def _field_labels() -> dict[str, str]:
    return {
        "first_name": _("first name"),
        "last_name": _("last name"),
        "email": _("e-mail"),
        "phone": _("phone"),
        "notes": _("notes"),
        "tags": _("tags"),
    }


def _describe(details: dict) -> str:
    """An event's details in words (the trail stores what was done, never the data)."""
    parts = []
    if details.get("operation") == "create":
        parts.append(_("Customer created"))
    if details.get("fields"):
        labels = _field_labels()
        fields = ", ".join(labels.get(f, f) for f in details["fields"])
        parts.append(_("Fields: %(fields)s") % {"fields": fields})
    if "note_added" in details:
        parts.append(_("Note added"))
    if "note_deleted" in details:
        parts.append(_("Note deleted"))
    if "merged_from" in details:
        parts.append(_("Merged with customer no. %(id)s") % {"id": details["merged_from"]})
    if "merged_into" in details:
        parts.append(_("Merged into customer no. %(id)s") % {"id": details["merged_into"]})
    if details.get("scope") == "business":
        parts.append(_("All data of the business"))
    if details.get("scope") == "customer_list":
        parts.append(_("Customer list, customers: %(n)s") % {"n": details.get("customers", "?")})
    if details.get("format"):
        parts.append(_("Format: %(format)s") % {"format": str(details["format"]).upper()})
    if "request_id" in details:
        parts.append(_("Request no. %(id)s") % {"id": details["request_id"]})
    if "appointments_anonymised" in details:
        parts.append(
            _(
                "Appointments anonymised: %(appointments)s, notes deleted: %(notes)s, "
                "consents deleted: %(consents)s, messages blanked: %(messages)s"
            )
            % {
                "appointments": details.get("appointments_anonymised", 0),
                "notes": details.get("notes_deleted", 0),
                "consents": details.get("consents_deleted", 0),
                "messages": details.get("messages_blanked", 0),
            }
        )
    return " · ".join(parts)


@role_required(*MANAGERS)
@require_GET
def event_log(request):
    # An unusable filter (a typo in the customer number) shows everything, with the field's error.
    form = EventFilterForm(request.GET or None)
    action, customer_id = "", None
    if form.is_bound and form.is_valid():
        action = form.cleaned_data["action"] or ""
        customer_id = form.cleaned_data["customer"]
    events = selectors.event_list(action=action, customer_id=customer_id)
    page = Paginator(events, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.description = _describe(event.details)
    filters = urlencode({k: v for k, v in (("action", action), ("customer", customer_id)) if v})
    context = {
        "section": "customers",
        "form": form,
        "page": page,
        "filters": filters,
        "customer_id": customer_id,
        "time_zone": ZoneInfo(request.tenant.time_zone),
    }
    return render(request, "backoffice/privacy/log.html", context)


# --- Customers' requests -------------------------------------------------------------------------------


def _requests_page(request, *, tab: str = "open", error: str = "", status: int = 200):
    if tab not in selectors.REQUEST_TABS:
        tab = "open"
    page = Paginator(selectors.request_list(tab=tab), REQUEST_PAGE_SIZE).get_page(request.GET.get("page"))
    matches = selectors.customers_by_email(r.email for r in page.object_list)
    sees_restricted = selectors.sees_restricted(request.user)
    for row in page.object_list:
        found = matches.get(row.email, [])
        row.customers = [c for c in found if sees_restricted or not c.processing_restricted]
        row.hidden_customers = len(found) - len(row.customers)
        row.actions = services.request_actions(row.kind) if row.status == RequestStatus.VERIFIED else ()
    context = {
        "section": "customers",
        "tab": tab,
        "page": page,
        "counts": selectors.request_counts(),
        "error": error,
    }
    return render(request, "backoffice/privacy/requests.html", context, status=status)


@role_required(*MANAGERS)
@require_GET
def request_list(request):
    return _requests_page(request, tab=request.GET.get("tab", "open"))


@role_required(*MANAGERS)
@require_POST
def request_handle(request, pk):
    row = get_object_or_404(PrivacyRequest, pk=pk)
    form = RequestActionForm(request.POST)
    if not form.is_valid():
        return _requests_page(request, error=_("This action does not fit this request."), status=400)
    try:
        outcome = services.privacy_request_handle(
            tenant=request.tenant,
            request_row=row,
            action=form.cleaned_data["action"],
            actor=request.user,
            ip=client_ip(request),
        )
    except InvalidRequest as exc:
        return _requests_page(request, error=exc.message, status=400)
    messages.success(request, outcome)
    return redirect("privacy:requests")


@role_required(*MANAGERS)
@require_GET
def request_export(request, pk):
    """The data of a confirmed access request, for the team to hand over another way."""
    row = get_object_or_404(
        PrivacyRequest.objects.exclude(status=RequestStatus.PENDING), pk=pk, kind=RequestKind.ACCESS
    )
    data = services.privacy_request_export(request_row=row, actor=request.user, ip=client_ip(request))
    return _download(
        export_json(data),
        content_type="application/json; charset=utf-8",
        filename=f"{slugify(_('data request'))}-{row.pk}.json",
    )


# --- The business's own rights -------------------------------------------------------------------------


def _readme() -> str:
    return (
        _(
            "This archive holds all data of your business on Termino, each table twice: as JSON in the "
            "folder json/ and as CSV (for spreadsheets) in the folder csv/. manifest.json lists the tables "
            "with their number of rows. Passwords and secret link tokens are not included."
        )
        + "\n"
        + _(
            "Opening and working hours (scheduling_weeklyhours) are local times of your time zone; an end "
            "of 00:00:00 means 24:00, midnight at the end of the day."
        )
    )


@role_required(*OWNER)
@require_GET
def business_export(request):
    # Built on disk, not in memory; FileResponse closes the file when sent, which deletes it.
    out = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the response, which closes it)
    try:
        counts = business_export_write(out=out, tenant=request.tenant, readme=_readme() + "\n")
    except BaseException:
        out.close()
        raise
    out.seek(0)
    audit(request, EventAction.EXPORT, details={"scope": "business", "tables": len(counts)})
    filename = f"{slugify(request.tenant.slug or request.tenant.name)}-{timezone.localdate().isoformat()}.zip"
    response = FileResponse(out, as_attachment=True, filename=filename, content_type="application/zip")
    response["Cache-Control"] = "no-store"
    return response


@role_required(*OWNER)
def account_close(request):
    tenant = request.tenant
    blocker = services.account_close_blocker(tenant=tenant)
    form = AccountCloseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.account_close(
                    tenant=tenant, user=request.user, password=form.cleaned_data["password"]
                )
            except InvalidRequest as exc:
                form.add_error("password" if not blocker else None, exc.message)
            else:
                # The business is closed from now on; the billing page stays open to its owner, says when
                # the data will be deleted and is the way back (subscribing again).
                messages.success(request, _("Your account has been closed. Online bookings have stopped."))
                return redirect("billing:index")
        status = 400
    context = {
        "section": "account",
        "form": form,
        "blocker": blocker,
        "retention_days": settings.BILLING_RETENTION_DAYS,
    }
    return render(request, "backoffice/privacy/close.html", context, status=status)
