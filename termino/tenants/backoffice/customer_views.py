"""Customer pages of the backoffice: list and search, detail, create/edit, notes, tags, merge, likely
duplicates, import, export.

Everyone on the team may look customers up, create and edit them and write notes (staff book customers);
merging (and deciding on likely duplicates), importing and exporting the whole list is for owners and
managers.
Customers whose processing is restricted are shown to the owner only (elsewhere a 404). Opening,
changing and exporting customers leaves a row in the privacy audit trail.
"""

import secrets
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View

from termino.shared.errors import InvalidRequest
from termino.tenants.crm import csv_io, selectors, services
from termino.tenants.crm.models import Customer, CustomerNote
from termino.tenants.privacy.http import audit
from termino.tenants.privacy.models import EventAction
from termino.tenants.privacy.selectors import customer_for, sees_restricted

from . import customer_selectors
from .customer_forms import CustomerFilterForm, CustomerForm, ImportForm, MergeForm, NoteForm, TagForm
from .permissions import EVERYONE, MANAGERS, RoleRequiredMixin, is_manager

PAGE_SIZE = 50
SEARCH_JSON_LIMIT = 10
IMPORT_TTL = 30 * 60
IMPORT_STATUSES = ("new", "exists", "repeated", "error")


def region_of(request) -> str:
    return (request.tenant.country or "DE").upper()


def _filters(request) -> tuple[str, str]:
    form = CustomerFilterForm(request.GET)
    if not form.is_valid():
        return "", ""
    return form.cleaned_data["q"].strip(), form.cleaned_data["tag"].strip()


def _querystring(**params) -> str:
    return urlencode({k: v for k, v in params.items() if v})


class CustomerListView(RoleRequiredMixin, View):
    roles = EVERYONE

    def get(self, request):
        q, tag = _filters(request)
        region = region_of(request)
        owner = sees_restricted(request.user)
        found = selectors.customer_search(
            query=q, tag=tag, limit=None, region=region, include_restricted=owner
        )
        page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = customer_selectors.customers_with_stats(page.object_list, region=region)
        context = {
            "section": "customers",
            "page": page,
            "q": q,
            "tag": tag,
            "tags": selectors.tags_in_use(include_restricted=owner),
            "filters": _querystring(q=q, tag=tag),
            "can_manage": is_manager(request.user),
        }
        if context["can_manage"] and not request.headers.get("X-Fragment"):
            context["duplicate_count"] = selectors.duplicate_suspicions(include_restricted=owner).count()
        # Search as you type fetches only the results, not the whole page.
        partial = request.headers.get("X-Fragment") == "results"
        template = "backoffice/customers/_results.html" if partial else "backoffice/customers/list.html"
        response = render(request, template, context)
        patch_vary_headers(response, ["X-Fragment"])
        return response


class CustomerSearchJsonView(RoleRequiredMixin, View):
    """For the calendar's search-or-create box."""

    roles = EVERYONE

    def get(self, request):
        q, _tag = _filters(request)
        found = (
            selectors.customer_search(
                query=q,
                limit=SEARCH_JSON_LIMIT,
                region=region_of(request),
                include_restricted=sees_restricted(request.user),
            )
            if q
            else []
        )
        results = [
            {
                "id": c.pk,
                "name": str(c),
                "phone": c.phone,
                "email": c.email,
                "url": reverse("customers:detail", args=[c.pk]),
            }
            for c in found
        ]
        return JsonResponse({"results": results})


def _detail_context(request, customer: Customer, **forms) -> dict:
    region = region_of(request)
    can_manage = is_manager(request.user)
    likely = (
        selectors.duplicate_suspicions_of(customer=customer, include_restricted=sees_restricted(request.user))
        if can_manage
        else []
    )
    return {
        "section": "customers",
        "customer": customer,
        "likely_duplicates": likely,
        "can_manage": can_manage,
        "is_owner": sees_restricted(request.user),
        "note_form": forms.get("note_form") or NoteForm(),
        "tag_form": forms.get("tag_form") or TagForm(),
        "time_zone": ZoneInfo(request.tenant.time_zone),
        **customer_selectors.customer_detail(customer=customer, region=region),
    }


class CustomerDetailView(RoleRequiredMixin, View):
    roles = EVERYONE

    def get(self, request, pk):
        customer = customer_for(user=request.user, pk=pk)
        audit(request, EventAction.VIEW, customer=customer)
        return render(request, "backoffice/customers/detail.html", _detail_context(request, customer))


class CustomerCreateView(RoleRequiredMixin, View):
    roles = EVERYONE
    template = "backoffice/customers/form.html"

    def get(self, request):
        return render(request, self.template, self._context(CustomerForm(region=region_of(request))))

    def post(self, request):
        form = CustomerForm(request.POST, region=region_of(request))
        if not form.is_valid():
            return render(request, self.template, self._context(form), status=400)
        data = form.cleaned_data
        duplicates = services.customer_duplicates(email=data["email"], phone=data["phone"])
        if duplicates and not request.POST.get("confirm_duplicate"):
            # Not an error: a warning the user may overrule with "create anyway".
            return render(request, self.template, self._context(form, duplicates=duplicates))
        try:
            with transaction.atomic():
                customer = services.customer_create(
                    **data, region=region_of(request), created_by=request.user
                )
                audit(request, EventAction.CHANGE, customer=customer, details={"operation": "create"})
        except InvalidRequest as exc:
            form.add_error(None, exc.message)
            return render(request, self.template, self._context(form), status=400)
        messages.success(request, _("Customer %(name)s created.") % {"name": customer})
        return redirect("customers:detail", customer.pk)

    def _context(self, form, duplicates=()):
        return {"section": "customers", "form": form, "duplicates": duplicates, "customer": None}


AUDITED_FIELDS = ("first_name", "last_name", "email", "phone", "notes", "tags")


class CustomerEditView(RoleRequiredMixin, View):
    roles = EVERYONE
    template = "backoffice/customers/form.html"

    def get(self, request, pk):
        customer = customer_for(user=request.user, pk=pk)
        form = CustomerForm(initial=CustomerForm.initial_for(customer), region=region_of(request))
        return render(request, self.template, {"section": "customers", "form": form, "customer": customer})

    def post(self, request, pk):
        customer = customer_for(user=request.user, pk=pk)
        form = CustomerForm(request.POST, region=region_of(request))
        if form.is_valid():
            try:
                with transaction.atomic():
                    before = {name: getattr(customer, name) for name in AUDITED_FIELDS}
                    updated = services.customer_update(
                        customer=customer, **form.cleaned_data, region=region_of(request)
                    )
                    # Which fields changed, never their values: the trail holds no copy of the data.
                    changed = [name for name in AUDITED_FIELDS if getattr(updated, name) != before[name]]
                    if changed:
                        audit(request, EventAction.CHANGE, customer=updated, details={"fields": changed})
            except InvalidRequest as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("customers:detail", customer.pk)
        context = {"section": "customers", "form": form, "customer": customer}
        return render(request, self.template, context, status=400)


class NoteAddView(RoleRequiredMixin, View):
    roles = EVERYONE

    def post(self, request, pk):
        customer = customer_for(user=request.user, pk=pk)
        form = NoteForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    note = services.customer_note_add(
                        customer=customer, author=request.user, text=form.cleaned_data["text"]
                    )
                    audit(request, EventAction.CHANGE, customer=customer, details={"note_added": note.pk})
            except InvalidRequest as exc:
                form.add_error("text", exc.message)
            else:
                messages.success(request, _("Note added."))
                return redirect(reverse("customers:detail", args=[pk]) + "#notes")
        context = _detail_context(request, customer, note_form=form)
        return render(request, "backoffice/customers/detail.html", context, status=400)


class NoteDeleteView(RoleRequiredMixin, View):
    roles = EVERYONE

    def post(self, request, pk, note_pk):
        customer = customer_for(user=request.user, pk=pk)
        note = get_object_or_404(CustomerNote, pk=note_pk, customer=customer)
        # Staff members may take back their own notes; owners and managers any note.
        if not (is_manager(request.user) or note.author_id == request.user.pk):
            raise PermissionDenied
        with transaction.atomic():
            audit(request, EventAction.CHANGE, customer=customer, details={"note_deleted": note.pk})
            services.customer_note_delete(note=note)
        messages.success(request, _("Note deleted."))
        return redirect(reverse("customers:detail", args=[pk]) + "#notes")


class TagsView(RoleRequiredMixin, View):
    """Adds tags (field `tags`) or removes one (field `remove`)."""

    roles = EVERYONE

    def post(self, request, pk):
        customer = customer_for(user=request.user, pk=pk)
        if "remove" in request.POST:
            with transaction.atomic():
                updated = services.customer_tag_remove(customer=customer, tag=request.POST["remove"])
                if updated.tags != customer.tags:
                    audit(request, EventAction.CHANGE, customer=updated, details={"fields": ["tags"]})
            messages.success(request, _("Tag removed."))
            return redirect(reverse("customers:detail", args=[pk]) + "#tags")
        form = TagForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    updated = services.customer_tags_add(customer=customer, tags=form.cleaned_data["tags"])
                    if updated.tags != customer.tags:
                        audit(request, EventAction.CHANGE, customer=updated, details={"fields": ["tags"]})
            except InvalidRequest as exc:
                form.add_error("tags", exc.message)
            else:
                messages.success(request, _("Tags saved."))
                return redirect(reverse("customers:detail", args=[pk]) + "#tags")
        context = _detail_context(request, customer, tag_form=form)
        return render(request, "backoffice/customers/detail.html", context, status=400)


# --- Merge ---------------------------------------------------------------------------------------------


class MergeView(RoleRequiredMixin, View):
    """Step 1: the customer to keep; step 2: the duplicate; step 3: what will happen, then merge."""

    roles = MANAGERS
    template = "backoffice/customers/merge.html"

    def get(self, request):
        region = region_of(request)
        keep = self._customer(request, request.GET.get("keep"))
        duplicate = self._customer(request, request.GET.get("duplicate"))
        if keep and duplicate:
            form = MergeForm(initial={"keep": keep.pk, "duplicate": duplicate.pk})
            if keep == duplicate:
                return self._render(
                    request, keep=keep, error=_("Please choose two different customers."), status=400
                )
            return self._render(request, keep=keep, duplicate=duplicate, form=form)
        q = (request.GET.get("q") or "").strip()[:100]
        owner = sees_restricted(request.user)
        found = (
            selectors.customer_search(query=q, limit=20, region=region, include_restricted=owner) if q else []
        )
        if keep:
            found = [c for c in found if c.pk != keep.pk]
            candidates = selectors.merge_candidates(customer=keep, include_restricted=owner)
            return self._render(request, keep=keep, q=q, found=found, candidates=candidates)
        return self._render(request, q=q, found=found)

    def post(self, request):
        form = MergeForm(request.POST)
        if not form.is_valid():
            keep = form.cleaned_data.get("keep")
            return self._render(request, keep=keep, error=" ".join(_errors(form)), status=400)
        keep, duplicate = form.cleaned_data["keep"], form.cleaned_data["duplicate"]
        if not sees_restricted(request.user) and (
            keep.processing_restricted or duplicate.processing_restricted
        ):
            raise Http404
        try:
            kept = _merge(request, keep=keep, duplicate=duplicate)
        except InvalidRequest as exc:
            return self._render(request, keep=keep, error=exc.message, status=400)
        messages.success(request, _("Customers merged. All records are now with %(name)s.") % {"name": kept})
        return redirect("customers:detail", kept.pk)

    @staticmethod
    def _customer(request, value) -> Customer | None:
        if not value:
            return None
        if not str(value).isdigit():
            raise Http404
        return customer_for(user=request.user, pk=int(value))

    def _render(self, request, *, keep=None, duplicate=None, status=200, **context):
        region = region_of(request)
        plan = None
        if keep and duplicate:
            plan = services.customer_merge_plan(keep=keep, duplicate=duplicate)
            labels = {
                "appointments": _("Appointments"),
                "customer_notes": _("Notes"),
                "consents": _("Consents"),
                "messages": _("Messages sent"),
            }
            for move in plan.moves:
                move["label"] = labels.get(move["relation"], move["label"])
            plan.phone_display = selectors.phone_display(plan.fields.get("phone", ""), region)
            customer_selectors.customers_with_stats([keep, duplicate], region=region)
        elif keep:
            customer_selectors.customers_with_stats([keep], region=region)
        context.update({"section": "customers", "keep": keep, "duplicate": duplicate, "plan": plan})
        context.setdefault("found", [])
        context.setdefault("candidates", [])
        return render(request, self.template, context, status=status)


def _merge(request, *, keep: Customer, duplicate: Customer, suspicion_id: int | None = None) -> Customer:
    """Merges `duplicate` into `keep` (as a likely-duplicate pair, if given) and records it for both."""
    with transaction.atomic():
        if suspicion_id is None:
            kept = services.customer_merge(keep_id=keep.pk, duplicate_id=duplicate.pk, merged_by=request.user)
        else:
            kept = services.duplicate_suspicion_merge(
                suspicion_id=suspicion_id, keep_id=keep.pk, merged_by=request.user
            )
        audit(request, EventAction.CHANGE, customer=kept, details={"merged_from": duplicate.pk})
        audit(
            request,
            EventAction.CHANGE,
            customer_id=duplicate.pk,
            customer_label=str(duplicate),
            details={"merged_into": kept.pk},
        )
    return kept


def _errors(form) -> list[str]:
    return [str(e) for errors in form.errors.values() for e in errors]


# --- Likely duplicates ---------------------------------------------------------------------------------


def _suspicion_for(request, pk: int):
    """A pending pair of this business as the user may see it (restricted customers: owner only), or 404."""
    include = sees_restricted(request.user)
    suspicion = selectors.duplicate_suspicions(include_restricted=include).filter(pk=pk).first()
    if suspicion is None:
        raise Http404
    return suspicion


def _back(request, fallback: str) -> str:
    """Where to go after acting on a pair: the page it was shown on (this host only), else `fallback`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


class DuplicateListView(RoleRequiredMixin, View):
    """Pairs an online booking marked as maybe one person: merge (keeping the older entry) or keep apart."""

    roles = MANAGERS

    def get(self, request):
        region = region_of(request)
        found = selectors.duplicate_suspicions(include_restricted=sees_restricted(request.user))
        page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
        pairs = list(page.object_list)
        customer_selectors.customers_with_stats(
            [c for pair in pairs for c in (pair.customer_a, pair.customer_b)], region=region
        )
        for pair in pairs:
            pair.both = (pair.customer_a, pair.customer_b)
            # What a merge into the older entry would fill in there: the decision is about exactly this.
            fields = services.customer_merge_fields(keep=pair.customer_a, duplicate=pair.customer_b)
            pair.fills = [
                (label, pair.customer_b.phone_display if name == "phone" else fields[name])
                for name, label in (
                    ("first_name", _("First name")),
                    ("last_name", _("Last name")),
                    ("email", _("E-mail")),
                    ("phone", _("Phone")),
                )
                if name in fields
            ]
        context = {"section": "customers", "page": page, "pairs": pairs}
        return render(request, "backoffice/customers/duplicates.html", context)


class DuplicateMergeView(RoleRequiredMixin, View):
    """One click: the pair is merged into the entry named `keep` (one of the two)."""

    roles = MANAGERS

    def post(self, request, pk):
        suspicion = _suspicion_for(request, pk)
        pair = {suspicion.customer_a_id: suspicion.customer_a, suspicion.customer_b_id: suspicion.customer_b}
        keep_id = request.POST.get("keep", "")
        if not keep_id.isdigit() or int(keep_id) not in pair:
            return HttpResponse(_("Please choose one of the two customers to keep."), status=400)
        keep = pair.pop(int(keep_id))
        (duplicate,) = pair.values()
        try:
            kept = _merge(request, keep=keep, duplicate=duplicate, suspicion_id=suspicion.pk)
        except InvalidRequest as exc:
            messages.error(request, exc.message)
            return redirect("customers:duplicates")
        messages.success(request, _("Customers merged. All records are now with %(name)s.") % {"name": kept})
        return redirect("customers:duplicates")


class DuplicateDismissView(RoleRequiredMixin, View):
    """ "Not the same person": the pair is no longer suggested."""

    roles = MANAGERS

    def post(self, request, pk):
        suspicion = _suspicion_for(request, pk)
        try:
            services.duplicate_suspicion_dismiss(suspicion_id=suspicion.pk, dismissed_by=request.user)
        except InvalidRequest as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("%(a)s and %(b)s are kept apart.") % {"a": suspicion.customer_a, "b": suspicion.customer_b},
            )
        return redirect(_back(request, reverse("customers:duplicates")))


# --- Import and export ---------------------------------------------------------------------------------


def _import_key(request, token: str) -> str:
    # The tenant cache adds the schema to every key; the user id keeps one person's upload their own.
    return f"crm-import:{request.user.pk}:{token}"


class ImportView(RoleRequiredMixin, View):
    roles = MANAGERS
    template = "backoffice/customers/import.html"

    def get(self, request):
        return render(request, self.template, {"section": "customers", "form": ImportForm()})

    def post(self, request):
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template, {"section": "customers", "form": form}, status=400)
        parsed = form.parsed
        token = secrets.token_urlsafe(18)
        stored = {
            "rows": parsed.rows,
            "columns": parsed.columns,
            "filename": form.cleaned_data["file"].name[:200],
            "encoding": parsed.encoding,
            "delimiter": parsed.delimiter,
        }
        cache.set(_import_key(request, token), stored, IMPORT_TTL)
        return redirect("customers:import_preview", token)


def _expired(request):
    context = {
        "section": "customers",
        "form": ImportForm(),
        "expired": True,
    }
    return render(request, "backoffice/customers/import.html", context, status=404)


def import_field_labels() -> dict[str, str]:
    return {
        "first_name": _("First name"),
        "last_name": _("Last name"),
        "email": _("E-mail"),
        "phone": _("Phone"),
        "notes": _("Notes"),
        "tags": _("Tags"),
    }


class ImportPreviewView(RoleRequiredMixin, View):
    roles = MANAGERS

    def get(self, request, token):
        stored = cache.get(_import_key(request, token))
        if stored is None:
            return _expired(request)
        rows = services.customer_import_check(rows=stored["rows"], region=region_of(request))
        counts = dict.fromkeys(IMPORT_STATUSES, 0)
        for row in rows:
            counts[row.status] += 1
        show = request.GET.get("show", "")
        shown = [r for r in rows if r.status == show] if show in IMPORT_STATUSES else rows
        labels = import_field_labels()
        context = {
            "section": "customers",
            "token": token,
            "stored": stored,
            "ignored_columns": [h for h, name in stored["columns"] if name is None and h],
            "mapped_columns": [(h, labels[name]) for h, name in stored["columns"] if name],
            "labels": [labels[name] for name in services.IMPORT_FIELDS],
            "rows": [
                {
                    "row": row,
                    "cells": [
                        {"label": labels[name], "value": row.values[name], "errors": row.errors.get(name, [])}
                        for name in services.IMPORT_FIELDS
                    ],
                }
                for row in shown
            ],
            "total": len(rows),
            "counts": counts,
            "show": show if show in IMPORT_STATUSES else "",
        }
        return render(request, "backoffice/customers/import_preview.html", context)

    def post(self, request, token):
        key = _import_key(request, token)
        stored = cache.get(key)
        # Only the request that removes the entry imports: a double click cannot import twice.
        if stored is None or not cache.delete(key):
            return _expired(request)
        result = services.customer_import(
            rows=stored["rows"], region=region_of(request), created_by=request.user
        )
        messages.success(
            request,
            _("Import finished. New customers: %(created)d. Rows not imported: %(skipped)d.")
            % {"created": result.created, "skipped": result.skipped},
        )
        return redirect("customers:list")


class ImportSampleView(RoleRequiredMixin, View):
    roles = MANAGERS

    def get(self, request):
        response = HttpResponse(
            csv_io.sample_csv(get_language() or "de"), content_type="text/csv; charset=utf-8"
        )
        name = slugify(_("customers sample"))
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response


class ExportView(RoleRequiredMixin, View):
    roles = MANAGERS

    def get(self, request):
        q, tag = _filters(request)
        found = selectors.customer_search(
            query=q,
            tag=tag,
            limit=None,
            region=region_of(request),
            include_restricted=sees_restricted(request.user),
        )
        audit(
            request,
            EventAction.EXPORT,
            details={"scope": "customer_list", "format": "csv", "customers": found.count()},
        )
        lines = csv_io.write_customers(
            found.iterator(chunk_size=500),
            headers=csv_io.export_headers(),
            zone=ZoneInfo(request.tenant.time_zone),
        )
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        name = f"{slugify(_('customers'))}-{timezone.localdate().isoformat()}"
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
